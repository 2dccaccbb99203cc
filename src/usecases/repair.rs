//! Completes billstream's requests that lost their answer. A refund or a new subscription is
//! recorded before the provider is asked; if the process dies (or the provider cannot be
//! reached) before the answer is recorded, the request stays pending — still holding its
//! reservation or its plan. Every so often, each request pending for longer than a grace
//! period is asked of the provider again with the same idempotency key, so the provider
//! answers with what it did the first time (or does it now), and the answer is recorded.

use std::sync::Arc;
use std::time::Duration;

use aggregates::subscription::Subscription;
use chrono::Utc;
use projections::pending_requests::{REFUND, SUBSCRIPTION};
use projections::{Payments, PendingRequest, PendingRequests};
use sqlx::SqlitePool;

use super::common::{command_metadata, Commands};
use super::payments::PaymentService;
use super::subscriptions::SubscriptionService;
use crate::error::AppError;

/// How long a request may await its answer before it is considered lost. Longer than any
/// provider call with its retries, so a request still in flight is left alone.
pub const GRACE: Duration = Duration::from_secs(60);

/// Requests repaired per run.
const BATCH: i64 = 50;

/// Completes pending requests.
pub struct PendingRequestRepair {
    pool: SqlitePool,
    payments: Arc<PaymentService>,
    subscriptions: Arc<SubscriptionService>,
    subscription_state: Commands<Subscription>,
}

impl PendingRequestRepair {
    pub fn new(
        pool: SqlitePool,
        payments: Arc<PaymentService>,
        subscriptions: Arc<SubscriptionService>,
        subscription_state: Commands<Subscription>,
    ) -> Self {
        Self {
            pool,
            payments,
            subscriptions,
            subscription_state,
        }
    }

    /// Asks the provider again for every request pending longer than `grace`; returns how
    /// many were settled. A request the provider still cannot answer stays for the next run.
    pub async fn run_once(&self, grace: Duration) -> Result<usize, AppError> {
        let before = Utc::now() - chrono::Duration::from_std(grace).unwrap_or_default();
        let pending = PendingRequests::older_than(&self.pool, before, BATCH).await?;
        let mut settled = 0;
        for request in pending {
            match self.repair(&request).await {
                Ok(()) => settled += 1,
                Err(error) => tracing::warn!(
                    %error,
                    kind = %request.kind,
                    request_id = %request.request_id,
                    "a pending request could not be completed yet; will retry"
                ),
            }
        }
        Ok(settled)
    }

    async fn repair(&self, request: &PendingRequest) -> Result<(), AppError> {
        let metadata = command_metadata(None);
        match request.kind.as_str() {
            REFUND => {
                let payment = Payments::find(&self.pool, &request.aggregate_id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                // A refusal is recorded by `settle` itself; here it only means "done".
                match self
                    .payments
                    .settle(
                        &payment.payment_intent_id,
                        &request.aggregate_id,
                        &request.request_id,
                        metadata,
                    )
                    .await
                {
                    Ok(()) | Err(AppError::InvalidState(_)) => Ok(()),
                    Err(other) => Err(other),
                }
            }
            SUBSCRIPTION => {
                let subscription = self.subscription_state.load(&request.aggregate_id).await?;
                let customer_id = subscription
                    .customer_id()
                    .ok_or(AppError::NotFound)?
                    .to_owned();
                match self
                    .subscriptions
                    .complete_request(&customer_id, &request.aggregate_id, metadata)
                    .await
                {
                    Ok(_) => Ok(()),
                    // Refused for good: `complete_request` released the plan.
                    Err(error) if !is_transient(&error) => Ok(()),
                    Err(error) => Err(error),
                }
            }
            other => {
                tracing::error!(kind = other, "unknown kind of pending request");
                Ok(())
            }
        }
    }
}

fn is_transient(error: &AppError) -> bool {
    matches!(error, AppError::PaymentProvider(_) | AppError::Internal(_))
}
