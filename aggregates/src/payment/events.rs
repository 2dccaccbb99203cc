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
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
