//! Decisions on what the provider says about a subscription — its answers to billstream's
//! requests and Stripe's events: whichever comes first records it, only a newer state changes
//! it, a terminal status is never left, and reaching one ends the subscription (releasing its
//! plan).

use super::status::is_terminal_status;
use super::{
    ProviderObservation, Subscription, SubscriptionError, SubscriptionEvent, SubscriptionStripeFact,
};

impl Subscription {
    /// The provider's answer to our own request: it records the subscription if no event did
    /// yet, and otherwise changes it unless a newer state is already known or it has ended.
    pub(super) fn decide_observation(
        &self,
        observation: ProviderObservation,
    ) -> Result<Vec<SubscriptionEvent>, SubscriptionError> {
        let Some(recorded) = &self.recorded else {
            if self
                .customer_id()
                .is_some_and(|customer| customer != observation.customer_id)
            {
                return Err(SubscriptionError::Mismatch);
            }
            let ended = self.end_if_terminal(&observation.state, observation.observed_at);
            return Ok(std::iter::once(SubscriptionEvent::SubscriptionRecorded {
                customer_id: observation.customer_id,
                stripe_subscription_id: observation.stripe_subscription_id,
                state: observation.state,
                at: observation.observed_at,
            })
            .chain(ended)
            .collect());
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
            || is_terminal_status(&recorded.state.status)
            || older
        {
            return Ok(vec![]);
        }
        let ended = self.end_if_terminal(&observation.state, observation.observed_at);
        Ok(
            std::iter::once(SubscriptionEvent::SubscriptionStateChanged {
                state: observation.state,
                at: observation.observed_at,
            })
            .chain(ended)
            .collect(),
        )
    }

    /// Whichever event arrives first records the subscription (an `updated` before its
    /// `created` included); after that only a newer state changes it, and a terminal status is
    /// never left.
    pub(super) fn decide_stripe_event(
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
            let ended = self.end_if_terminal(&fact.state, fact.created);
            return Ok([
                applied,
                SubscriptionEvent::SubscriptionRecorded {
                    customer_id: fact.customer_id,
                    stripe_subscription_id: fact.stripe_subscription_id,
                    state: fact.state,
                    at: fact.created,
                },
            ]
            .into_iter()
            .chain(ended)
            .collect());
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
        if is_terminal_status(&recorded.state.status) {
            return stale(format!(
                "the subscription is already {}",
                recorded.state.status
            ));
        }
        if self.last_change_at.is_some_and(|last| fact.created < last) {
            return stale("a newer state was already applied".into());
        }
        let ended = self.end_if_terminal(&fact.state, fact.created);
        Ok([
            applied,
            SubscriptionEvent::SubscriptionStateChanged {
                state: fact.state,
                at: fact.created,
            },
        ]
        .into_iter()
        .chain(ended)
        .collect())
    }
}
