//! A customer's subscription to a plan. Stripe Billing runs it; its events keep this aggregate
//! in step, in order, exactly once.

mod commands;
mod error;
mod events;

#[cfg(test)]
mod tests;

pub use commands::{
    ProviderObservation, SubscriptionCommand, SubscriptionState, SubscriptionStripeFact,
};
pub use error::SubscriptionError;
pub use events::SubscriptionEvent;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

/// A subscription's state, rebuilt from its events.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    recorded: Option<Recorded>,
    /// Stripe events already applied (or recorded as stale): each acts once.
    stripe_events: BTreeSet<String>,
    /// Stripe's time of the newest state applied.
    last_change_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Recorded {
    customer_id: String,
    stripe_subscription_id: String,
    state: SubscriptionState,
}

/// Statuses a subscription never leaves in Stripe.
const TERMINAL: &[&str] = &["canceled", "incomplete_expired"];

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
                if let Some(recorded) = &mut self.recorded {
                    recorded.state = state;
                }
                self.last_change_at = Some(at);
            }
            SubscriptionEvent::StripeEventApplied {
                stripe_event_id, ..
            }
            | SubscriptionEvent::StaleStripeEventIgnored {
                stripe_event_id, ..
            } => {
                self.stripe_events.insert(stripe_event_id);
            }
        }
    }
}

impl Subscription {
    /// The provider's answer to our own request: it records the subscription if no event did
    /// yet, and otherwise changes it unless a newer state is already known or it has ended.
    fn decide_observation(
        &self,
        observation: ProviderObservation,
    ) -> Result<Vec<SubscriptionEvent>, SubscriptionError> {
        let Some(recorded) = &self.recorded else {
            return Ok(vec![SubscriptionEvent::SubscriptionRecorded {
                customer_id: observation.customer_id,
                stripe_subscription_id: observation.stripe_subscription_id,
                state: observation.state,
                at: observation.observed_at,
            }]);
        };
        if recorded.stripe_subscription_id != observation.stripe_subscription_id
            || recorded.customer_id != observation.customer_id
        {
            return Err(SubscriptionError::Mismatch);
        }
        let older = self
            .last_change_at
            .is_some_and(|last| observation.observed_at < last);
        if recorded.state == observation.state
            || TERMINAL.contains(&recorded.state.status.as_str())
            || older
        {
            return Ok(vec![]);
        }
        Ok(vec![SubscriptionEvent::SubscriptionStateChanged {
            state: observation.state,
            at: observation.observed_at,
        }])
    }

    /// The customer this subscription belongs to, once recorded.
    pub fn customer_id(&self) -> Option<&str> {
        self.recorded.as_ref().map(|r| r.customer_id.as_str())
    }

    /// Whichever event arrives first records the subscription (an `updated` before its
    /// `created` included); after that only a newer state changes it, and a terminal status is
    /// never left.
    fn decide_stripe_event(
        &self,
        fact: SubscriptionStripeFact,
    ) -> Result<Vec<SubscriptionEvent>, SubscriptionError> {
        if self.stripe_events.contains(&fact.stripe_event_id) {
            return Ok(vec![]);
        }
        let applied = SubscriptionEvent::StripeEventApplied {
            stripe_event_id: fact.stripe_event_id.clone(),
            event_type: fact.event_type.clone(),
            created: fact.created,
        };
        let Some(recorded) = &self.recorded else {
            return Ok(vec![
                applied,
                SubscriptionEvent::SubscriptionRecorded {
                    customer_id: fact.customer_id,
                    stripe_subscription_id: fact.stripe_subscription_id,
                    state: fact.state,
                    at: fact.created,
                },
            ]);
        };
        if recorded.stripe_subscription_id != fact.stripe_subscription_id {
            return Err(SubscriptionError::Mismatch);
        }
        if recorded.state == fact.state {
            return Ok(vec![]);
        }
        let stale = |reason: String| {
            Ok(vec![SubscriptionEvent::StaleStripeEventIgnored {
                stripe_event_id: fact.stripe_event_id.clone(),
                event_type: fact.event_type.clone(),
                created: fact.created,
                reason,
            }])
        };
        if TERMINAL.contains(&recorded.state.status.as_str()) {
            return stale(format!(
                "the subscription is already {}",
                recorded.state.status
            ));
        }
        if self.last_change_at.is_some_and(|last| fact.created < last) {
            return stale("a newer state was already applied".into());
        }
        Ok(vec![
            applied,
            SubscriptionEvent::SubscriptionStateChanged {
                state: fact.state,
                at: fact.created,
            },
        ])
    }
}
