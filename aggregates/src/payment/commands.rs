//! What can be asked of a payment. Provider outcomes arrive as facts inside commands.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::money::{Amount, Currency};

/// Every command the [`Payment`](super::Payment) aggregate accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum PaymentCommand {
    /// Records a payment whose provider PaymentIntent exists.
    Create(CreatePayment),
    /// Records what the provider said about a confirmation or a later status check.
    RecordOutcome(RecordOutcome),
    /// Records a refund the provider made.
    RecordRefund(RecordRefund),
    /// Applies what a Stripe event says about the PaymentIntent or its charge.
    ApplyStripeEvent(PaymentStripeFact),
}

/// A new payment and its PaymentIntent.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatePayment {
    pub customer_id: String,
    pub payment_intent_id: String,
    pub client_secret: String,
    pub amount: Amount,
    pub currency: Currency,
    pub description: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
}

/// The provider's verdict on the PaymentIntent.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The money was captured.
    Succeeded { amount_received: i64 },
    /// The charge was refused (a decline, an authentication failure).
    Failed {
        code: String,
        decline_code: Option<String>,
        message: String,
    },
    /// The customer must act (3-D Secure); `next_action` is the provider's instruction.
    RequiresAction { next_action: serde_json::Value },
    /// The charge is in progress.
    Processing,
    /// The PaymentIntent was canceled.
    Canceled,
}

/// An outcome, from a confirmation attempt (numbered from 1) or from a status check (`None`).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordOutcome {
    pub attempt: Option<u32>,
    pub outcome: Outcome,
    pub at: DateTime<Utc>,
}

/// A refund the provider made.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRefund {
    pub refund_id: String,
    pub amount: Amount,
    pub at: DateTime<Utc>,
}

/// What one Stripe event says about a payment.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentStripeFact {
    pub stripe_event_id: String,
    pub event_type: String,
    /// Stripe's `created` for the event: orders events of one object.
    pub created: DateTime<Utc>,
    /// The intent's state in the event, if the event is about the intent.
    pub outcome: Option<Outcome>,
    /// For charge events: the captured amount, the cumulative refunded amount and the refunds
    /// the event lists (id, amount).
    pub charge: Option<ChargeFact>,
}

/// A charge as a Stripe event shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargeFact {
    pub charge_id: String,
    pub amount_captured: i64,
    pub amount_refunded: i64,
    pub refunds: Vec<(String, i64)>,
}
