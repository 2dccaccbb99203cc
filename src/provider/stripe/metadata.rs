//! The metadata keys billstream writes on Stripe objects, so that Stripe's later news of an
//! object (a webhook, a retrieval) names the billstream object it belongs to. The sandbox
//! writes the same keys, since it answers in Stripe's shapes.

/// Every key billstream writes starts with this; a customer's own metadata may not.
pub const RESERVED_PREFIX: &str = "billstream_";
/// On a customer: billstream's customer id.
pub const CUSTOMER_ID: &str = "billstream_customer_id";
/// On a PaymentIntent: billstream's payment id.
pub const PAYMENT_ID: &str = "billstream_payment_id";
/// On a refund: billstream's refund id (the refund request it settles).
pub const REFUND_ID: &str = "billstream_refund_id";
/// On a subscription: billstream's subscription id.
pub const SUBSCRIPTION_ID: &str = "billstream_subscription_id";
/// On an invoice: billstream's invoice id.
pub const INVOICE_ID: &str = "billstream_invoice_id";
/// On a price billstream created: the plan it prices.
pub const PLAN_ID: &str = "billstream_plan_id";
/// billstream's credit note id, on the provider's credit note.
pub const CREDIT_NOTE_ID: &str = "billstream_credit_note_id";

/// A metadata key as a form parameter of Stripe's API (`metadata[billstream_…]`).
pub fn form_param(key: &str) -> String {
    format!("metadata[{key}]")
}

/// Whether a metadata key is billstream's own rather than the customer's.
pub fn is_reserved(key: &str) -> bool {
    key.starts_with(RESERVED_PREFIX)
}
