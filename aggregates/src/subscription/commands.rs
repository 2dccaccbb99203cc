//! What can be asked of a subscription. For now its state comes from Stripe's events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Every command the [`Subscription`](super::Subscription) aggregate accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionCommand {
    /// Applies what a Stripe `customer.subscription.*` event says.
    ApplyStripeEvent(SubscriptionStripeFact),
}

/// What one Stripe event says about a subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionStripeFact {
    pub stripe_event_id: String,
    pub event_type: String,
    /// Stripe's `created` for the event.
    pub created: DateTime<Utc>,
    /// billstream's customer.
    pub customer_id: String,
    pub stripe_subscription_id: String,
    pub state: SubscriptionState,
}

/// A subscription's state as Stripe reports it. Times are Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionState {
    /// Stripe's status: trialing, active, incomplete, incomplete_expired, past_due, canceled,
    /// unpaid, paused.
    pub status: String,
    /// The price (or legacy plan) subscribed to.
    pub price: Option<String>,
    pub current_period_start: Option<i64>,
    pub current_period_end: Option<i64>,
    pub trial_end: Option<i64>,
    pub cancel_at_period_end: bool,
}
