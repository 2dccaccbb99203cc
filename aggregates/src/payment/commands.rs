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
