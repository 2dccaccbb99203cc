//! One line, for people, per stored event: what the timeline shows beside the event's type.
//! Amounts are formatted here, at the edge, from the integer minor units the events carry; an
//! event this version cannot read (written by a newer one) is named by its type alone.

use aggregates::customer::CustomerEvent;
use aggregates::invoice::InvoiceEvent;
use aggregates::mail::MailEvent;
use aggregates::money::{format_amount, Currency};
use aggregates::payment::PaymentEvent;
use aggregates::subscription::SubscriptionEvent;
use projections::StoredEvent;

/// The summary of `event`; `currency` is its aggregate's (payment and invoice events after the
/// first do not repeat it).
pub fn summarize(event: &StoredEvent, currency: Option<&str>) -> String {
    let summary = match event.aggregate_type.as_str() {
        "Customer" => event.decode().ok().map(|e| customer(&e)),
        "Payment" => event.decode().ok().map(|e| payment(&e, currency)),
        "Subscription" => event.decode().ok().map(|e| subscription(&e)),
        "Invoice" => event.decode().ok().map(|e| invoice(&e, currency)),
        "MailMessage" => event.decode().ok().map(|e| mail(&e)),
        _ => None,
    };
    summary
        .filter(|line| !line.is_empty())
        .unwrap_or_else(|| event.event_type.clone())
}

/// `20.00 EUR`, or the bare minor units when the currency is unknown.
fn money(minor_units: i64, currency: Option<&str>) -> String {
    currency
        .and_then(|code| Currency::parse("currency", code).ok())
        .map_or_else(
            || format!("{minor_units} minor units"),
            |currency| format_amount(minor_units, currency),
        )
}

fn applied(stripe_event_type: &str) -> String {
    format!("Stripe event {stripe_event_type} applied")
}

fn stale(stripe_event_type: &str) -> String {
    format!("Stale Stripe event {stripe_event_type} ignored")
}

fn customer(event: &CustomerEvent) -> String {
    match event {
        CustomerEvent::CustomerRegistered { email, .. } => {
            format!("Customer registered as {email}")
        }
        CustomerEvent::ProfileUpdated { .. } => "Profile updated".to_owned(),
        CustomerEvent::PasswordChanged { .. } => "Password changed".to_owned(),
        CustomerEvent::StripeCustomerDeleted { .. } => "Customer deleted in Stripe".to_owned(),
        CustomerEvent::StripeEventApplied { event_type, .. } => applied(event_type),
        CustomerEvent::StaleStripeEventIgnored { event_type, .. } => stale(event_type),
        CustomerEvent::PasswordResetRequested { .. } => "Password reset link requested".to_owned(),
        CustomerEvent::PasswordResetCompleted { .. } => "Password reset with the link".to_owned(),
        CustomerEvent::MailPreferencesChanged {
            language, receipts, ..
        } => format!(
            "E-mail preferences: language {}, receipts {}",
            language.map_or("default", |language| language.code()),
            if *receipts { "on" } else { "off" }
        ),
        CustomerEvent::BillingDetailsChanged { billing, .. } => match billing {
            Some(billing) if billing.is_business() => {
                "Billing details changed (business)".to_owned()
            }
            Some(_) => "Billing details changed".to_owned(),
            None => "Billing details removed".to_owned(),
        },
        // Variants added later read as their type (an empty line) until they get one here.
        #[allow(unreachable_patterns)]
        _ => String::new(),
    }
}

fn mail(event: &MailEvent) -> String {
    match event {
        MailEvent::EmailSent {
            kind, message_id, ..
        } => format!("E-mail {kind} sent (Message-ID <{message_id}>)"),
    }
}

fn payment(event: &PaymentEvent, currency: Option<&str>) -> String {
    let money = |amount: i64| money(amount, currency);
    match event {
        PaymentEvent::PaymentCreated {
            amount,
            description,
            ..
        } => match description {
            Some(description) => format!("Payment of {} created ({description})", money(*amount)),
            None => format!("Payment of {} created", money(*amount)),
        },
        PaymentEvent::PaymentSucceeded {
            amount_received, ..
        } => format!("Payment of {} succeeded", money(*amount_received)),
        PaymentEvent::PaymentFailed {
            failure_code,
            decline_code,
            ..
        } => match decline_code {
            Some(decline) => format!("Payment failed: {failure_code} ({decline})"),
            None => format!("Payment failed: {failure_code}"),
        },
        PaymentEvent::PaymentRequiresAction { .. } => {
            "Payment awaits the customer's authentication (3-D Secure)".to_owned()
        }
        PaymentEvent::PaymentProcessing { .. } => "Payment processing".to_owned(),
        PaymentEvent::PaymentCanceled { .. } => "Payment canceled".to_owned(),
        PaymentEvent::PaymentRefunded { amount, .. } => {
            format!("Refund of {} counted", money(*amount))
        }
        PaymentEvent::RefundReconciled { amount, .. } => {
            format!(
                "Refunds reconciled with the charge: {} in all",
                money(*amount)
            )
        }
        PaymentEvent::RefundAttributed { amount, .. } => {
            format!(
                "Refund of {} attributed to its Stripe refund",
                money(*amount)
            )
        }
        PaymentEvent::RefundRequested { amount, .. } => {
            format!("Refund of {} requested", money(*amount))
        }
        PaymentEvent::RefundSucceeded { amount, .. } => {
            format!("Refund of {} succeeded", money(*amount))
        }
        PaymentEvent::RefundFailed { reason, .. } => format!("Refund failed: {reason}"),
        PaymentEvent::StripeEventApplied { event_type, .. } => applied(event_type),
        PaymentEvent::StaleStripeEventIgnored { event_type, .. } => stale(event_type),
    }
}

fn subscription(event: &SubscriptionEvent) -> String {
    let plan = |plan: &Option<String>| plan.clone().unwrap_or_else(|| "no plan".to_owned());
    match event {
        SubscriptionEvent::SubscriptionRecorded { state, .. } => format!(
            "Subscription to {} recorded ({})",
            plan(&state.plan),
            state.status
        ),
        SubscriptionEvent::SubscriptionStateChanged { state, .. } => {
            format!("Subscription is now {}", state.status)
        }
        SubscriptionEvent::SubscriptionRequested { plan, .. } => {
            format!("Subscription to {plan} requested")
        }
        SubscriptionEvent::SubscriptionRequestFailed { reason, .. } => {
            format!("Subscription request failed: {reason}")
        }
        SubscriptionEvent::PlanChangeRequested { from, to, .. } => {
            format!("Plan change from {} to {to} requested", plan(from))
        }
        SubscriptionEvent::PlanChangeFailed { reason, .. } => {
            format!("Plan change failed: {reason}")
        }
        SubscriptionEvent::SubscriptionEnded { .. } => "Subscription ended".to_owned(),
        SubscriptionEvent::StripeEventApplied { event_type, .. } => applied(event_type),
        SubscriptionEvent::StaleStripeEventIgnored { event_type, .. } => stale(event_type),
        // Variants added later read as their type (an empty line) until they get one here.
        #[allow(unreachable_patterns)]
        _ => String::new(),
    }
}

fn invoice(event: &InvoiceEvent, currency: Option<&str>) -> String {
    let money = |amount: i64| money(amount, currency);
    match event {
        InvoiceEvent::InvoiceCreated { totals, .. } => {
            format!("Invoice of {} created", money(totals.total))
        }
        InvoiceEvent::InvoiceFinalized { number, .. } => format!("Invoice {number} finalized"),
        InvoiceEvent::InvoiceSent { .. } => "Invoice sent".to_owned(),
        InvoiceEvent::InvoicePaid { amount, .. } => {
            format!("Invoice paid: {}", money(*amount))
        }
        InvoiceEvent::InvoiceVoided { .. } => "Invoice voided".to_owned(),
        InvoiceEvent::InvoiceMarkedUncollectible { .. } => {
            "Invoice marked uncollectible".to_owned()
        }
        InvoiceEvent::InvoicePaymentFailed { failure, .. } => format!(
            "Invoice payment failed (attempt {}): {}",
            failure.attempt_count, failure.message
        ),
        InvoiceEvent::InvoiceDocumentIssued { sha256, .. } => {
            format!("Invoice document issued (SHA-256 {sha256})")
        }
        InvoiceEvent::CreditNoteIssued { number, totals, .. } => {
            format!("Credit note {number} of {} issued", money(totals.total))
        }
        InvoiceEvent::CreditNoteDocumentIssued {
            credit_note_id,
            sha256,
            ..
        } => format!("Credit note {credit_note_id} document issued (SHA-256 {sha256})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(aggregate_type: &str, event_type: &str, payload: &str) -> StoredEvent {
        StoredEvent {
            position: 1,
            aggregate_type: aggregate_type.into(),
            aggregate_id: "a".into(),
            sequence: 1,
            event_type: event_type.into(),
            event_version: "1.0".into(),
            payload: payload.into(),
            metadata: "{}".into(),
            recorded_at: String::new(),
        }
    }

    #[test]
    fn amounts_are_formatted_in_their_currency_and_unreadable_events_keep_their_type() {
        let refund = stored(
            "Payment",
            "RefundRequested",
            r#"{"RefundRequested":{"refund_id":"r","amount":300,"at":"2026-12-01T10:00:00Z"}}"#,
        );
        assert_eq!(
            summarize(&refund, Some("eur")),
            "Refund of 3.00 EUR requested"
        );
        assert_eq!(
            summarize(&refund, None),
            "Refund of 300 minor units requested"
        );
        let future = stored(
            "Payment",
            "PaymentTeleported",
            r#"{"PaymentTeleported":{}}"#,
        );
        assert_eq!(summarize(&future, Some("eur")), "PaymentTeleported");
    }
}
