//! A customer's subscription to a plan. Stripe Billing runs it; its events keep this aggregate
//! in step, in order, exactly once. billstream's own requests are recorded before the provider
//! is called, which claims the plan: a customer holds at most one live subscription per plan,
//! across any number of processes.

mod commands;
mod decide;
mod error;
mod events;
mod observe;
mod reminder;
pub mod revenue;
mod status;

#[cfg(test)]
mod request_tests;
#[cfg(test)]
mod tests;

pub use commands::{
    ProviderObservation, RequestSubscription, SubscriptionCommand, SubscriptionState,
    SubscriptionStripeFact,
};
pub use error::SubscriptionError;
pub use events::SubscriptionEvent;
pub use reminder::TRIAL_REMINDER_SECONDS;
pub use status::{is_terminal_status, SubscriptionStatus};

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

/// A subscription's state, rebuilt from its events.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    /// billstream's request, when billstream asked for it.
    requested: Option<Requested>,
    /// The provider's view, once known.
    recorded: Option<Recorded>,
    /// A change of plan asked of the provider and not answered yet: the plan to go back to,
    /// and the plan asked for.
    pending_plan_change: Option<(Option<String>, String)>,
    /// True once it ended (or its request failed): the claim is released for good.
    ended: bool,
    /// Stripe events already applied (or recorded as stale): each acts once.
    stripe_events: BTreeSet<String>,
    /// Stripe's time of the newest state applied.
    last_change_at: Option<DateTime<Utc>>,
    /// The trial end (Unix seconds) the customer was last reminded of: one reminder per trial,
    /// and a trial moved to a new end gets its own.
    #[serde(default)]
    trial_reminded: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Requested {
    customer_id: String,
    plan: String,
    trial_days: u32,
    at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Recorded {
    customer_id: String,
    stripe_subscription_id: String,
    state: SubscriptionState,
}

impl Aggregate for Subscription {
    const TYPE: &'static str = "Subscription";
    type Command = SubscriptionCommand;
    type Event = SubscriptionEvent;
    type Error = SubscriptionError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let events = match command {
            SubscriptionCommand::ApplyStripeEvent(fact) => self.decide_stripe_event(fact)?,
            SubscriptionCommand::RecordProviderState(observation) => {
                self.decide_observation(observation)?
            }
            SubscriptionCommand::Request(request) => self.decide_request(request)?,
            SubscriptionCommand::FailRequest { reason, at } => {
                self.decide_request_failure(reason, at)
            }
            SubscriptionCommand::RequestPlanChange { plan, at } => {
                self.decide_plan_change(plan, at)?
            }
            SubscriptionCommand::FailPlanChange { reason, at } => {
                self.decide_plan_change_failure(reason, at)
            }
            SubscriptionCommand::RemindTrialEnding { now } => self.decide_trial_reminder(now)?,
        };
        crate::emit(self, sink, events).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            SubscriptionEvent::SubscriptionRecorded {
                customer_id,
                stripe_subscription_id,
                state,
                at,
            } => {
                self.recorded = Some(Recorded {
                    customer_id,
                    stripe_subscription_id,
                    state,
                });
                self.last_change_at = Some(at);
            }
            SubscriptionEvent::SubscriptionStateChanged { state, at } => {
                let reached =
                    |(_, to): &(Option<String>, String)| state.plan.as_deref() == Some(to.as_str());
                if self.pending_plan_change.as_ref().is_some_and(reached) {
                    self.pending_plan_change = None;
                }
                if let Some(recorded) = &mut self.recorded {
                    recorded.state = state;
                }
                self.last_change_at = Some(at);
            }
            SubscriptionEvent::SubscriptionRequested {
                customer_id,
                plan,
                trial_days,
                at,
            } => {
                self.requested = Some(Requested {
                    customer_id,
                    plan,
                    trial_days,
                    at,
                });
            }
            SubscriptionEvent::SubscriptionRequestFailed { .. }
            | SubscriptionEvent::SubscriptionEnded { .. } => {
                self.pending_plan_change = None;
                self.ended = true;
            }
            SubscriptionEvent::PlanChangeRequested { from, to, .. } => {
                self.pending_plan_change = Some((from, to));
            }
            SubscriptionEvent::PlanChangeFailed { .. } => {
                self.pending_plan_change = None;
            }
            SubscriptionEvent::StripeEventApplied {
                stripe_event_id, ..
            }
            | SubscriptionEvent::StaleStripeEventIgnored {
                stripe_event_id, ..
            } => {
                self.stripe_events.insert(stripe_event_id);
            }
            SubscriptionEvent::TrialEndingSoon { trial_end, .. } => {
                self.trial_reminded = Some(trial_end.timestamp());
            }
        }
    }
}

impl Subscription {
    /// The customer this subscription belongs to, once requested or recorded.
    pub fn customer_id(&self) -> Option<&str> {
        self.recorded
            .as_ref()
            .map(|r| r.customer_id.as_str())
            .or_else(|| self.requested.as_ref().map(|r| r.customer_id.as_str()))
    }

    /// The provider's state, once known.
    pub fn state(&self) -> Option<&SubscriptionState> {
        self.recorded.as_ref().map(|recorded| &recorded.state)
    }

    /// The provider's id, once known.
    pub fn stripe_subscription_id(&self) -> Option<&str> {
        self.recorded
            .as_ref()
            .map(|recorded| recorded.stripe_subscription_id.as_str())
    }

    /// The plan it is on (or was requested for).
    pub fn plan(&self) -> Option<&str> {
        self.state()
            .and_then(|state| state.plan.as_deref())
            .or_else(|| self.requested.as_ref().map(|r| r.plan.as_str()))
    }

    /// True while it bills or may bill again (requested, trialing, active, past due, …); an
    /// ended subscription or a failed request is not live.
    pub fn is_live(&self) -> bool {
        if self.ended {
            return false;
        }
        match self.state() {
            Some(state) => !is_terminal_status(&state.status),
            None => self.requested.is_some(),
        }
    }

    /// billstream's request, awaiting the provider's first answer: plan, trial days and when
    /// it was made. A request still here long after it was made lost its answer (a crash)
    /// and is completed by asking the provider again with the same key.
    pub fn unanswered_request(&self) -> Option<(&str, u32, DateTime<Utc>)> {
        match (&self.requested, &self.recorded, self.ended) {
            (Some(request), None, false) => {
                Some((request.plan.as_str(), request.trial_days, request.at))
            }
            _ => None,
        }
    }

    /// `SubscriptionEnded` when `state` ends a subscription that had not ended yet.
    fn end_if_terminal(
        &self,
        state: &SubscriptionState,
        at: DateTime<Utc>,
    ) -> Option<SubscriptionEvent> {
        (!self.ended && is_terminal_status(&state.status))
            .then_some(SubscriptionEvent::SubscriptionEnded { at })
    }
}
