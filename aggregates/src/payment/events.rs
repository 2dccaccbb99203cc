//! What happened to a payment.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

/// Every event of the [`Payment`](super::Payment) aggregate. Amounts are minor units of the
/// payment's currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PaymentEvent {
    PaymentCreated {
        customer_id: String,
        payment_intent_id: String,
        client_secret: String,
        amount: i64,
        currency: String,
        description: Option<String>,
        metadata: BTreeMap<String, String>,
        created_at: DateTime<Utc>,
    },
    PaymentSucceeded {
        attempt: Option<u32>,
        amount_received: i64,
        at: DateTime<Utc>,
    },
    PaymentFailed {
        attempt: Option<u32>,
        failure_code: String,
        decline_code: Option<String>,
        failure_message: String,
        at: DateTime<Utc>,
    },
    PaymentRequiresAction {
        attempt: Option<u32>,
        next_action: serde_json::Value,
        at: DateTime<Utc>,
    },
    PaymentProcessing {
        attempt: Option<u32>,
        at: DateTime<Utc>,
    },
    PaymentCanceled {
        attempt: Option<u32>,
        at: DateTime<Utc>,
    },
    PaymentRefunded {
        refund_id: String,
        amount: i64,
        at: DateTime<Utc>,
    },
    /// Money refunded according to the charge's cumulative amount, before (or without) the
    /// refund's own id being known.
    RefundReconciled {
        charge_id: String,
        amount: i64,
        at: DateTime<Utc>,
    },
    /// A refund id whose money was already counted by a `RefundReconciled`.
    RefundAttributed { refund_id: String, amount: i64 },
    /// A refund was asked for; `amount` is reserved until the provider's verdict.
    RefundRequested {
        refund_id: String,
        amount: i64,
        at: DateTime<Utc>,
    },
    /// The provider made the requested refund; the reservation is released and the money is
    /// counted by the `PaymentRefunded` (or `RefundAttributed`) that follows.
    RefundSucceeded {
        refund_id: String,
        provider_refund_id: String,
        amount: i64,
        at: DateTime<Utc>,
    },
    /// The provider refused the requested refund; the reservation is released.
    RefundFailed {
        refund_id: String,
        reason: String,
        at: DateTime<Utc>,
    },
    /// A Stripe event was applied; the events that follow it are its effects.
    StripeEventApplied {
        stripe_event_id: String,
        event_type: String,
        created: DateTime<Utc>,
    },
    /// A Stripe event was older than what the payment already knows, and changed nothing.
    StaleStripeEventIgnored {
        stripe_event_id: String,
        event_type: String,
        created: DateTime<Utc>,
        reason: String,
    },
}

impl DomainEvent for PaymentEvent {
    fn event_type(&self) -> String {
        match self {
            Self::PaymentCreated { .. } => "PaymentCreated",
            Self::PaymentSucceeded { .. } => "PaymentSucceeded",
            Self::PaymentFailed { .. } => "PaymentFailed",
            Self::PaymentRequiresAction { .. } => "PaymentRequiresAction",
            Self::PaymentProcessing { .. } => "PaymentProcessing",
            Self::PaymentCanceled { .. } => "PaymentCanceled",
            Self::PaymentRefunded { .. } => "PaymentRefunded",
            Self::RefundReconciled { .. } => "RefundReconciled",
            Self::RefundAttributed { .. } => "RefundAttributed",
            Self::RefundRequested { .. } => "RefundRequested",
            Self::RefundSucceeded { .. } => "RefundSucceeded",
            Self::RefundFailed { .. } => "RefundFailed",
            Self::StripeEventApplied { .. } => "StripeEventApplied",
            Self::StaleStripeEventIgnored { .. } => "StaleStripeEventIgnored",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
