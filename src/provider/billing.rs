//! The provider-neutral shapes of billing: subscriptions to a price, and invoices.

use aggregates::invoice::{CollectionMethod, InvoiceLine};

/// A recurring price: what a plan costs at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanPrice {
    /// The provider's id for the price (`price_…`, or a legacy Plan id).
    pub price_id: String,
    /// True when `price_id` names a legacy Stripe Plan (providers without the Prices API).
    pub legacy_plan: bool,
    /// billstream's plan id.
    pub plan_id: String,
    pub product_name: String,
    /// Per interval, in minor units of `currency`.
    pub amount: i64,
    pub currency: String,
    /// `month` or `year`.
    pub interval: String,
}

/// A subscription to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubscription {
    /// billstream's subscription id, stored in the provider's metadata.
    pub subscription_id: String,
    pub stripe_customer_id: String,
    pub price: PlanPrice,
    /// Days of free trial; `None` or 0 bills at once.
    pub trial_days: Option<u32>,
}

/// A subscription as the provider reports it (only what billstream uses). Times are Unix
/// seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderSubscription {
    pub id: String,
    pub customer: Option<String>,
    pub status: String,
    pub price_id: Option<String>,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub interval: Option<String>,
    /// How many intervals one period lasts (Stripe's `recurring.interval_count`).
    pub interval_count: Option<u32>,
    pub current_period_start: Option<i64>,
    pub current_period_end: Option<i64>,
    pub trial_end: Option<i64>,
    pub cancel_at_period_end: bool,
    pub canceled_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub created: Option<i64>,
    /// billstream's subscription id, when billstream created it.
    pub billstream_id: Option<String>,
}

/// A one-off invoice to create (as a draft).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvoice {
    /// billstream's invoice id, stored in the provider's metadata.
    pub invoice_id: String,
    pub stripe_customer_id: String,
    pub currency: String,
    pub lines: Vec<InvoiceLine>,
    pub memo: Option<String>,
    pub due_days: u32,
    pub collection_method: CollectionMethod,
}

/// One line of a provider invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderInvoiceLine {
    pub description: String,
    pub quantity: i64,
    /// Before tax, minor units; negative for credits (prorations).
    pub amount: i64,
    pub tax: i64,
}

/// An invoice as the provider reports it (only what billstream uses). Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderInvoice {
    pub id: String,
    pub customer: Option<String>,
    pub subscription: Option<String>,
    pub status: String,
    pub number: Option<String>,
    pub currency: String,
    pub collection_method: String,
    pub lines: Vec<ProviderInvoiceLine>,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    pub amount_paid: i64,
    pub amount_due: i64,
    pub created: i64,
    pub due_date: Option<i64>,
    pub finalized_at: Option<i64>,
    pub paid_at: Option<i64>,
    pub hosted_invoice_url: Option<String>,
    pub invoice_pdf: Option<String>,
    pub payment_intent: Option<String>,
    pub attempt_count: u32,
    pub next_payment_attempt: Option<i64>,
    /// Why the last collection attempt failed, if it did.
    pub last_payment_error: Option<String>,
    pub memo: Option<String>,
    /// billstream's invoice id, when billstream created it.
    pub billstream_id: Option<String>,
}

/// A credit note to record at the provider: on an unpaid invoice it reduces the amount due; on
/// a paid one (`refund`) the amount is refunded. billstream's note id travels in the
/// provider's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCreditNote {
    pub credit_note_id: String,
    /// billstream's number (`AV-2026-000001`), carried as the memo.
    pub number: String,
    /// The credited total, tax included (minor units).
    pub amount: i64,
    pub refund: bool,
}
