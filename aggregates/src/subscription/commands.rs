//! What can be asked of a subscription. Its state is the provider's: it comes from Stripe's
//! events and from the provider's answers to billstream's own requests.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Every command the [`Subscription`](super::Subscription) aggregate accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionCommand {
    /// Applies what a Stripe `customer.subscription.*` event says.
    ApplyStripeEvent(SubscriptionStripeFact),
    /// Records the state the provider answered with to one of billstream's requests (create,
    /// cancel, resume, change of plan).
    RecordProviderState(ProviderObservation),
}

/// The provider's answer to a request about a subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderObservation {
    /// billstream's customer.
    pub customer_id: String,
    pub stripe_subscription_id: String,
    pub state: SubscriptionState,
    /// When billstream received the answer.
    pub observed_at: DateTime<Utc>,
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
    /// billstream's plan id for the price, when the catalog knows it.
    #[serde(default)]
    pub plan: Option<String>,
    /// The price per interval, in minor units of `currency`.
    #[serde(default)]
    pub amount: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    /// `day`, `week`, `month` or `year`.
    #[serde(default)]
    pub interval: Option<String>,
    /// When it was canceled (Unix seconds), if it was.
    #[serde(default)]
    pub canceled_at: Option<i64>,
    /// When it ended (Unix seconds), if it has.
    #[serde(default)]
    pub ended_at: Option<i64>,
}
