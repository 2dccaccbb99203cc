//! Subscribing, cancelling, resuming and changing plans. The provider runs the subscription;
//! each answer it gives is recorded on the Subscription aggregate (and its webhooks keep it in
//! step afterwards).

use std::collections::HashMap;
use std::sync::Arc;

use aggregates::subscription::{ProviderObservation, SubscriptionCommand};
use aggregates::ValidationError;
use chrono::{SubsecRound, Utc};
use cqrs_es::AggregateError;
use projections::{Projector, SubscriptionRow, Subscriptions};
use sqlx::SqlitePool;
use tokio::sync::Mutex;
use uuid::Uuid;

use super::common::stripe_customer_id;
use super::plans::PriceBook;
use super::provider_state::subscription_state;
use crate::error::AppError;
use crate::provider::{NewSubscription, PaymentProvider, ProviderSubscription};
use crate::store::SubscriptionCqrs;
use crate::usecases::common::{command_metadata, execute_with_retry};

/// Statuses in which a subscription still bills (or may again).
const LIVE: &[&str] = &[
    "trialing",
    "active",
    "incomplete",
    "past_due",
    "unpaid",
    "paused",
];

/// Longest trial accepted (two years).
const MAX_TRIAL_DAYS: u32 = 730;

/// Namespace of subscription ids derived from an Idempotency-Key.
const FROM_IDEMPOTENCY_KEY: Uuid = Uuid::from_u128(0x51b2_8c0e_6a1d_4f73_9e25_b4c8_07d3_1a66);

/// A subscription request, as the API received it.
#[derive(Debug, Clone)]
pub struct SubscribeRequest {
    pub plan: String,
    pub payment_method: Option<String>,
    pub trial_days: Option<i64>,
    pub idempotency_key: Option<String>,
}

/// The subscription use cases.
pub struct SubscriptionService {
    pool: SqlitePool,
    provider: Arc<dyn PaymentProvider>,
    cqrs: Arc<SubscriptionCqrs>,
    prices: Arc<PriceBook>,
    projector: Arc<Projector>,
    /// One subscription change per customer at a time: the "one live subscription per plan"
    /// check and the provider call must not interleave.
    customer_locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl SubscriptionService {
    pub fn new(
        pool: SqlitePool,
        provider: Arc<dyn PaymentProvider>,
        cqrs: Arc<SubscriptionCqrs>,
        prices: Arc<PriceBook>,
        projector: Arc<Projector>,
    ) -> Self {
        Self {
            pool,
            provider,
            cqrs,
            prices,
            projector,
            customer_locks: Mutex::new(HashMap::new()),
        }
    }

    async fn lock_for(&self, customer_id: &str) -> Arc<Mutex<()>> {
        self.customer_locks
            .lock()
            .await
            .entry(customer_id.to_owned())
            .or_default()
            .clone()
    }

    /// Makes `payment_method` the card the customer's subscriptions and invoices are charged to.
    pub async fn set_payment_method(
        &self,
        customer_id: &str,
        payment_method: &str,
    ) -> Result<(), AppError> {
        if payment_method.trim().is_empty() || payment_method.len() > 255 {
            return Err(
                ValidationError::new("payment_method", "must be a payment method id").into(),
            );
        }
        let provider_customer = stripe_customer_id(&self.pool, customer_id).await?;
        let key = format!("default-pm-{customer_id}-{}", Uuid::new_v4());
        self.provider
            .set_default_payment_method(&provider_customer, payment_method, &key)
            .await?;
        Ok(())
    }

    /// Subscribes the customer to a plan of the catalog.
    pub async fn subscribe(
        &self,
        customer_id: &str,
        request: SubscribeRequest,
        request_id: Option<&str>,
    ) -> Result<SubscriptionRow, AppError> {
        let plan = self
            .prices
            .catalog()
            .find(&request.plan)
            .cloned()
            .ok_or_else(|| {
                ValidationError::new("plan", "is not a plan of the catalog (see GET /api/plans)")
            })?;
        let trial_days = match request.trial_days {
            None => plan.trial_days,
            Some(days) if (0..=i64::from(MAX_TRIAL_DAYS)).contains(&days) => days as u32,
            Some(_) => {
                return Err(ValidationError::new(
                    "trial_days",
                    format!("must be a whole number of days from 0 to {MAX_TRIAL_DAYS}"),
                )
                .into())
            }
        };
        let subscription_id = match &request.idempotency_key {
            Some(key) => Uuid::new_v5(
                &FROM_IDEMPOTENCY_KEY,
                format!("{customer_id}/{key}").as_bytes(),
            ),
            None => Uuid::new_v4(),
        }
        .to_string();
        let lock = self.lock_for(customer_id).await;
        let _guard = lock.lock().await;
        if let Some(existing) = Subscriptions::find(&self.pool, &subscription_id).await? {
            return Ok(existing);
        }
        let live = Subscriptions::for_customer(&self.pool, customer_id)
            .await?
            .into_iter()
            .any(|row| {
                row.plan.as_deref() == Some(plan.id.as_str()) && LIVE.contains(&row.status.as_str())
            });
        if live {
            return Err(AppError::AlreadySubscribed);
        }
        if let Some(method) = &request.payment_method {
            self.set_payment_method(customer_id, method).await?;
        }
        let provider_customer = stripe_customer_id(&self.pool, customer_id).await?;
        let price = self.prices.price(&plan).await?;
        let created = self
            .provider
            .create_subscription(
                &NewSubscription {
                    subscription_id: subscription_id.clone(),
                    stripe_customer_id: provider_customer,
                    price,
                    trial_days: Some(trial_days),
                },
                &format!("subscription-create-{subscription_id}"),
            )
            .await?;
        self.record(customer_id, &subscription_id, &created, request_id)
            .await
    }

    /// Records the provider's answer and returns the subscription as the API shows it.
    async fn record(
        &self,
        customer_id: &str,
        subscription_id: &str,
        provider: &ProviderSubscription,
        request_id: Option<&str>,
    ) -> Result<SubscriptionRow, AppError> {
        let plan = match &provider.price_id {
            Some(price) => self.prices.plan_for_price(price).await,
            None => None,
        };
        let state = subscription_state(provider, plan);
        let command = SubscriptionCommand::RecordProviderState(ProviderObservation {
            customer_id: customer_id.to_owned(),
            stripe_subscription_id: provider.id.clone(),
            state: state.clone(),
            // Stripe's event times are whole seconds: an event from the same second as this
            // answer is not older than it.
            observed_at: Utc::now().trunc_subsecs(0),
        });
        execute_with_retry(
            &self.cqrs,
            subscription_id,
            command,
            command_metadata(request_id),
        )
        .await
        .map_err(|error| match error {
            AggregateError::AggregateConflict => AppError::Conflict,
            other => AppError::internal(other),
        })?;
        // Read-your-writes even when the answer changed nothing (a webhook got there first).
        self.projector
            .catch_up()
            .await
            .map_err(AppError::internal)?;
        let mut row = Subscriptions::find(&self.pool, subscription_id)
            .await?
            .ok_or(AppError::NotFound)?;
        // A webhook from the same second may have been applied after our answer (Stripe's
        // times are whole seconds); the caller gets what the provider answered, and the view
        // converges with the provider's next event.
        row.status = state.status;
        row.cancel_at_period_end = state.cancel_at_period_end;
        Ok(row)
    }

    /// The caller's subscription (404 for anyone else's).
    pub async fn owned(
        &self,
        customer_id: &str,
        subscription_id: &str,
    ) -> Result<SubscriptionRow, AppError> {
        Subscriptions::find(&self.pool, subscription_id)
            .await?
            .filter(|row| row.customer_id == customer_id)
            .ok_or(AppError::NotFound)
    }

    /// Cancels now, or at the end of the current period.
    pub async fn cancel(
        &self,
        customer_id: &str,
        subscription_id: &str,
        at_period_end: bool,
        request_id: Option<&str>,
    ) -> Result<SubscriptionRow, AppError> {
        let row = self.owned(customer_id, subscription_id).await?;
        let key = format!("subscription-cancel-{subscription_id}-{}", Uuid::new_v4());
        let answer = self
            .provider
            .cancel_subscription(&row.stripe_subscription_id, at_period_end, &key)
            .await?;
        self.record(customer_id, subscription_id, &answer, request_id)
            .await
    }

    /// Undoes a cancellation at period end.
    pub async fn resume(
        &self,
        customer_id: &str,
        subscription_id: &str,
        request_id: Option<&str>,
    ) -> Result<SubscriptionRow, AppError> {
        let row = self.owned(customer_id, subscription_id).await?;
        let key = format!("subscription-resume-{subscription_id}-{}", Uuid::new_v4());
        let answer = self
            .provider
            .resume_subscription(&row.stripe_subscription_id, &key)
            .await?;
        self.record(customer_id, subscription_id, &answer, request_id)
            .await
    }

    /// Moves to another plan (prorated by the provider).
    pub async fn change_plan(
        &self,
        customer_id: &str,
        subscription_id: &str,
        plan_id: &str,
        request_id: Option<&str>,
    ) -> Result<SubscriptionRow, AppError> {
        let plan = self
            .prices
            .catalog()
            .find(plan_id)
            .cloned()
            .ok_or_else(|| {
                ValidationError::new("plan", "is not a plan of the catalog (see GET /api/plans)")
            })?;
        let lock = self.lock_for(customer_id).await;
        let _guard = lock.lock().await;
        let row = self.owned(customer_id, subscription_id).await?;
        if row.plan.as_deref() == Some(plan.id.as_str()) {
            return Ok(row);
        }
        let price = self.prices.price(&plan).await?;
        let key = format!("subscription-plan-{subscription_id}-{}", Uuid::new_v4());
        let answer = self
            .provider
            .change_subscription_price(&row.stripe_subscription_id, &price, &key)
            .await?;
        self.record(customer_id, subscription_id, &answer, request_id)
            .await
    }
}
