//! What happened to a subscription.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::SubscriptionState;

/// Every event of the [`Subscription`](super::Subscription) aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SubscriptionEvent {
    /// billstream learned of the subscription (from whichever of Stripe's events came first).
    SubscriptionRecorded {
        customer_id: String,
        stripe_subscription_id: String,
        state: SubscriptionState,
        at: DateTime<Utc>,
    },
    /// Stripe reported a newer state.
    SubscriptionStateChanged {
        state: SubscriptionState,
        at: DateTime<Utc>,
    },
    /// A Stripe event was applied; the events that follow it are its effects.
    StripeEventApplied {
        stripe_event_id: String,
        event_type: String,
        created: DateTime<Utc>,
    },
    /// A Stripe event was older than what the subscription already knows, and changed nothing.
    StaleStripeEventIgnored {
        stripe_event_id: String,
        event_type: String,
        created: DateTime<Utc>,
        reason: String,
    },
}

impl DomainEvent for SubscriptionEvent {
    fn event_type(&self) -> String {
        match self {
            Self::SubscriptionRecorded { .. } => "SubscriptionRecorded",
            Self::SubscriptionStateChanged { .. } => "SubscriptionStateChanged",
            Self::StripeEventApplied { .. } => "StripeEventApplied",
            Self::StaleStripeEventIgnored { .. } => "StaleStripeEventIgnored",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
