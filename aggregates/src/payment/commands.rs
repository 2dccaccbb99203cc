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
    /// Asks for a refund: reserves the amount before the provider is called, so racing
    /// requests (in any process) can never together exceed what was captured.
    RequestRefund(RequestRefund),
    /// Records the provider's verdict on a requested refund, releasing its reservation.
    SettleRefund(SettleRefund),
    /// Applies what a Stripe event says about the PaymentIntent or its charge.
    ApplyStripeEvent(PaymentStripeFact),
    /// Records a PaymentIntent born at the provider together with what its first event says,
    /// in one commit: nobody ever reads the payment half-adopted.
    Adopt {
        create: CreatePayment,
        fact: PaymentStripeFact,
    },
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

/// A refund request. `refund_id` is billstream's id for it (it keys the provider's
/// idempotency, so a retry makes the same refund); `amount` in minor units, all that remains
/// refundable when `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRefund {
    pub refund_id: String,
    pub amount: Option<i64>,
    pub at: DateTime<Utc>,
}

/// The provider's verdict on refund request `refund_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct SettleRefund {
    pub refund_id: String,
    pub outcome: RefundOutcome,
    pub at: DateTime<Utc>,
}

/// What the provider did with a refund request.
#[derive(Debug, Clone, PartialEq)]
pub enum RefundOutcome {
    /// The provider made refund `provider_refund_id` of `amount`.
    Succeeded {
        provider_refund_id: String,
        amount: i64,
    },
    /// The provider refused it; `reason` is safe to show.
    Failed { reason: String },
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
    pub refunds: Vec<ChargeRefund>,
}

/// One refund a charge lists.
#[derive(Debug, Clone, PartialEq)]
pub struct ChargeRefund {
    /// The provider's refund id (`re_…`).
    pub refund_id: String,
    pub amount: i64,
    /// billstream's refund request, when billstream asked for this refund.
    pub request_id: Option<String>,
}
