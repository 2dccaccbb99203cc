//! Decisions on billstream's own requests: a new subscription (claiming its plan) and a change
//! of plan (moving the claim), each recorded before the provider is called and undone if the
//! provider refuses.

use chrono::{DateTime, Utc};

use super::{RequestSubscription, Subscription, SubscriptionError, SubscriptionEvent};

impl Subscription {
    pub(super) fn decide_request(
        &self,
        request: RequestSubscription,
    ) -> Result<Vec<SubscriptionEvent>, SubscriptionError> {
        if let Some(existing) = &self.requested {
            // The same request again (a retry with the same Idempotency-Key) asks nothing new.
            return if existing.customer_id == request.customer_id && existing.plan == request.plan {
                Ok(vec![])
            } else {
                Err(SubscriptionError::AlreadyRequested)
            };
        }
        if self.recorded.is_some() {
            return Err(SubscriptionError::AlreadyRequested);
        }
        Ok(vec![SubscriptionEvent::SubscriptionRequested {
            customer_id: request.customer_id,
            plan: request.plan,
            trial_days: request.trial_days,
            at: request.at,
        }])
    }

    pub(super) fn decide_request_failure(
        &self,
        reason: String,
        at: DateTime<Utc>,
    ) -> Vec<SubscriptionEvent> {
        match self.unanswered_request() {
            Some(_) => vec![SubscriptionEvent::SubscriptionRequestFailed { reason, at }],
            // Answered meanwhile (a webhook), or already failed: nothing to undo.
            None => vec![],
        }
    }

    pub(super) fn decide_plan_change(
        &self,
        plan: String,
        at: DateTime<Utc>,
    ) -> Result<Vec<SubscriptionEvent>, SubscriptionError> {
        if self.recorded.is_none() {
            return Err(SubscriptionError::NotFound);
        }
        if !self.is_live() {
            return Err(SubscriptionError::NotLive);
        }
        let from = self.plan().map(str::to_owned);
        if from.as_deref() == Some(plan.as_str()) {
            return Ok(vec![]);
        }
        Ok(vec![SubscriptionEvent::PlanChangeRequested {
            from,
            to: plan,
            at,
        }])
    }

    pub(super) fn decide_plan_change_failure(
        &self,
        reason: String,
        at: DateTime<Utc>,
    ) -> Vec<SubscriptionEvent> {
        match &self.pending_plan_change {
            Some((back_to, _)) => vec![SubscriptionEvent::PlanChangeFailed {
                back_to: back_to.clone(),
                reason,
                at,
            }],
            None => vec![],
        }
    }
}
