//! The provider's subscriptions and invoices as the aggregates' commands see them.

use aggregates::invoice::{InvoiceNumber, InvoiceProviderState, InvoiceStatus, PaymentFailure};
use aggregates::subscription::SubscriptionState;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::provider::{ProviderInvoice, ProviderSubscription};

/// Unix seconds as a time (the epoch for nonsense).
pub fn unix_time(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).single().unwrap_or_default()
}

/// A subscription's state as the provider reports it; `plan` is the catalog's id for its price.
pub fn subscription_state(
    subscription: &ProviderSubscription,
    plan: Option<String>,
) -> SubscriptionState {
    SubscriptionState {
        status: subscription.status.clone(),
        price: subscription.price_id.clone(),
        current_period_start: subscription.current_period_start,
        current_period_end: subscription.current_period_end,
        trial_end: subscription.trial_end,
        cancel_at_period_end: subscription.cancel_at_period_end,
        plan,
        amount: subscription.amount,
        currency: subscription.currency.clone(),
        interval: subscription.interval.clone(),
        interval_count: subscription.interval_count.unwrap_or(1),
        canceled_at: subscription.canceled_at,
        ended_at: subscription.ended_at,
    }
}

/// An invoice's state as the provider reports it, at `at`. The number is the provider's when
/// it has one; otherwise `proposed` (billstream's next) is recorded if this finalizes it.
pub fn invoice_state(
    invoice: &ProviderInvoice,
    proposed: InvoiceNumber,
    at: DateTime<Utc>,
) -> Option<InvoiceProviderState> {
    let status = InvoiceStatus::parse(&invoice.status)?;
    let finalized_at = unix_time(invoice.finalized_at.unwrap_or(invoice.created));
    let due_date: NaiveDate = invoice
        .due_date
        .map(unix_time)
        .unwrap_or(finalized_at)
        .date_naive();
    let failed = invoice.attempt_count > 0 && matches!(status, InvoiceStatus::Open);
    Some(InvoiceProviderState {
        status,
        number: invoice
            .number
            .clone()
            .map(InvoiceNumber::from_provider)
            .unwrap_or(proposed),
        finalized_at,
        due_date,
        hosted_invoice_url: invoice.hosted_invoice_url.clone(),
        pdf_url: invoice.invoice_pdf.clone(),
        amount_paid: invoice.amount_paid,
        payment_reference: invoice.payment_intent.clone(),
        paid_at: invoice.paid_at.map(unix_time).unwrap_or(at),
        at,
        payment_failure: failed.then(|| PaymentFailure {
            attempt_count: invoice.attempt_count,
            message: invoice
                .last_payment_error
                .clone()
                .unwrap_or_else(|| "The last attempt to collect this invoice failed.".into()),
            next_payment_attempt: invoice.next_payment_attempt,
        }),
    })
}
