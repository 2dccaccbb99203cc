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
    /// billstream asked the provider for this subscription; the plan is claimed for the
    /// customer from this event on.
    SubscriptionRequested {
        customer_id: String,
        plan: String,
        trial_days: u32,
        at: DateTime<Utc>,
    },
    /// The provider refused the request; the plan's claim is released.
    SubscriptionRequestFailed { reason: String, at: DateTime<Utc> },
    /// billstream asked the provider to move the subscription to plan `to`; the claim moved.
    PlanChangeRequested {
        from: Option<String>,
        to: String,
        at: DateTime<Utc>,
    },
    /// The provider refused the change of plan; the claim is back on `back_to`.
    PlanChangeFailed {
        back_to: Option<String>,
        reason: String,
        at: DateTime<Utc>,
    },
    /// The subscription ended for good (canceled, or expired before its first payment); its
    /// plan is free for a new subscription.
    SubscriptionEnded { at: DateTime<Utc> },
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
    /// The trial ends at `trial_end`, soon: the customer is to be told (once per trial end).
    TrialEndingSoon {
        customer_id: String,
        trial_end: DateTime<Utc>,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for SubscriptionEvent {
    fn event_type(&self) -> String {
        match self {
            Self::SubscriptionRecorded { .. } => "SubscriptionRecorded",
            Self::SubscriptionStateChanged { .. } => "SubscriptionStateChanged",
            Self::SubscriptionRequested { .. } => "SubscriptionRequested",
            Self::SubscriptionRequestFailed { .. } => "SubscriptionRequestFailed",
            Self::PlanChangeRequested { .. } => "PlanChangeRequested",
            Self::PlanChangeFailed { .. } => "PlanChangeFailed",
            Self::SubscriptionEnded { .. } => "SubscriptionEnded",
            Self::StripeEventApplied { .. } => "StripeEventApplied",
            Self::StaleStripeEventIgnored { .. } => "StaleStripeEventIgnored",
            Self::TrialEndingSoon { .. } => "TrialEndingSoon",
        }
        .to_owned()
    }

    /// 1.1: the state in `SubscriptionRecorded` and `SubscriptionStateChanged` carries
    /// `interval_count` (older payloads are upcast by `crate::versions`).
    fn event_version(&self) -> String {
        "1.1".to_owned()
    }
}
