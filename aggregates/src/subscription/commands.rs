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
    /// Asks for a new subscription to a plan, before the provider is called. Committing it
    /// claims the plan for the customer: a second live subscription to the same plan cannot
    /// commit, in any process (the event store's claim table refuses it).
    Request(RequestSubscription),
    /// The provider refused the request: the claim on the plan is released.
    FailRequest { reason: String, at: DateTime<Utc> },
    /// Asks to move the subscription to another plan, before the provider is called; the
    /// claim moves with it (refused if the customer already holds that plan elsewhere).
    RequestPlanChange { plan: String, at: DateTime<Utc> },
    /// The provider refused the change of plan: the claim moves back.
    FailPlanChange { reason: String, at: DateTime<Utc> },
    /// Tells the customer their trial ends soon: recorded once per trial end, when `now` (the
    /// service's clock) is within [`TRIAL_REMINDER_SECONDS`](super::TRIAL_REMINDER_SECONDS)
    /// of it.
    RemindTrialEnding { now: DateTime<Utc> },
}

/// A new subscription billstream is about to ask the provider for.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSubscription {
    pub customer_id: String,
    /// billstream's plan id.
    pub plan: String,
    /// Days of free trial asked for.
    pub trial_days: u32,
    pub at: DateTime<Utc>,
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
    /// How many `interval`s one period lasts (a quarterly price: 3 months). Since event
    /// version 1.1; older events are upcast to 1, the only count billstream's catalog makes.
    pub interval_count: u32,
    /// When it was canceled (Unix seconds), if it was.
    #[serde(default)]
    pub canceled_at: Option<i64>,
    /// When it ended (Unix seconds), if it has.
    #[serde(default)]
    pub ended_at: Option<i64>,
}
