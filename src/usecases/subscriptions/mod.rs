//! Subscribing, cancelling, resuming and changing plans. The provider runs the subscription;
//! billstream's requests are first recorded on the Subscription aggregate — which claims the
//! plan, so a customer never holds two live subscriptions to one plan, whatever the number of
//! processes — and each answer the provider gives is recorded after (its webhooks keep it in
//! step afterwards).

use std::sync::Arc;

mod requests;

use aggregates::subscription::{ProviderObservation, Subscription, SubscriptionCommand};
use aggregates::values::{CardNumbers, PaymentMethodId};
use aggregates::ValidationError;
use chrono::{SubsecRound, Utc};
use projections::{SubscriptionRow, Subscriptions};
use sqlx::SqlitePool;

use super::common::idempotency::{one_off_provider_key, Subject};
use super::common::{command_metadata, owned_by, stripe_customer_id, CommandMetadata, Commands};
use super::plans::{Plan, PriceBook};
use super::provider_state::subscription_state;
use crate::error::AppError;
use crate::provider::{PaymentProvider, ProviderSubscription};

/// Longest trial accepted (two years).
pub(super) const MAX_TRIAL_DAYS: u32 = 730;

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
    commands: Commands<Subscription>,
    prices: Arc<PriceBook>,
    card_numbers: CardNumbers,
}

impl SubscriptionService {
    pub fn new(
        pool: SqlitePool,
        provider: Arc<dyn PaymentProvider>,
        commands: Commands<Subscription>,
        prices: Arc<PriceBook>,
        card_numbers: CardNumbers,
    ) -> Self {
        Self {
            pool,
            provider,
            commands,
            prices,
            card_numbers,
        }
    }

    /// Makes `payment_method` the card the customer's subscriptions and invoices are charged to.
    pub async fn set_payment_method(
        &self,
        customer_id: &str,
        payment_method: &str,
    ) -> Result<(), AppError> {
        let payment_method = PaymentMethodId::parse(payment_method, self.card_numbers)?;
        let stripe_customer = stripe_customer_id(&self.pool, customer_id).await?;
        let key = one_off_provider_key(Subject::Customer, customer_id, "default-payment-method");
        self.provider
            .set_default_payment_method(&stripe_customer, payment_method.as_str(), &key)
            .await?;
        Ok(())
    }

    /// The caller's subscription (404 for anyone else's).
    pub async fn owned(
        &self,
        customer_id: &str,
        subscription_id: &str,
    ) -> Result<SubscriptionRow, AppError> {
        owned_by(
            Subscriptions::find(&self.pool, subscription_id).await?,
            customer_id,
        )
    }

    /// The customer's subscriptions, newest first.
    pub async fn list(&self, customer_id: &str) -> Result<Vec<SubscriptionRow>, AppError> {
        Ok(Subscriptions::for_customer(&self.pool, customer_id).await?)
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
        let key = one_off_provider_key(Subject::Subscription, subscription_id, "cancel");
        let answer = self
            .provider
            .cancel_subscription(&row.stripe_subscription_id, at_period_end, &key)
            .await?;
        self.record(
            customer_id,
            subscription_id,
            &answer,
            command_metadata(request_id),
        )
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
        let key = one_off_provider_key(Subject::Subscription, subscription_id, "resume");
        let answer = self
            .provider
            .resume_subscription(&row.stripe_subscription_id, &key)
            .await?;
        self.record(
            customer_id,
            subscription_id,
            &answer,
            command_metadata(request_id),
        )
        .await
    }

    /// Moves to another plan (prorated by the provider). The claim moves first: a customer who
    /// already holds the other plan elsewhere is refused before the provider is asked.
    pub async fn change_plan(
        &self,
        customer_id: &str,
        subscription_id: &str,
        plan_id: &str,
        request_id: Option<&str>,
    ) -> Result<SubscriptionRow, AppError> {
        let plan = self.plan(plan_id)?;
        let row = self.owned(customer_id, subscription_id).await?;
        if row.plan.as_deref() == Some(plan.id.as_str()) {
            return Ok(row);
        }
        let metadata = command_metadata(request_id);
        let command = SubscriptionCommand::RequestPlanChange {
            plan: plan.id.clone(),
            at: Utc::now(),
        };
        if let Err(error) = self
            .commands
            .execute(subscription_id, command, metadata.clone())
            .await
        {
            return Err(self.claim_or(customer_id, &plan.id, error.into()).await);
        }
        let changed = async {
            let price = self.prices.price(&plan).await?;
            let key = one_off_provider_key(Subject::Subscription, subscription_id, "change-plan");
            Ok::<_, AppError>(
                self.provider
                    .change_subscription_price(&row.stripe_subscription_id, &price, &key)
                    .await?,
            )
        }
        .await;
        match changed {
            Ok(answer) => {
                self.record(customer_id, subscription_id, &answer, metadata)
                    .await
            }
            Err(error) => {
                let command = SubscriptionCommand::FailPlanChange {
                    reason: error.to_string(),
                    at: Utc::now(),
                };
                self.undo(subscription_id, command, metadata).await;
                Err(error)
            }
        }
    }

    /// Records the provider's answer and returns the subscription as the API shows it.
    async fn record(
        &self,
        customer_id: &str,
        subscription_id: &str,
        provider: &ProviderSubscription,
        metadata: CommandMetadata,
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
        self.commands
            .execute(subscription_id, command, metadata)
            .await?;
        let mut row = self.read(subscription_id).await?;
        // A webhook from the same second may have been applied after our answer (Stripe's
        // times are whole seconds); the caller gets what the provider answered, and the view
        // converges with the provider's next event.
        row.status = state.status;
        row.cancel_at_period_end = state.cancel_at_period_end;
        Ok(row)
    }

    async fn read(&self, subscription_id: &str) -> Result<SubscriptionRow, AppError> {
        Subscriptions::find(&self.pool, subscription_id)
            .await?
            .ok_or(AppError::NotFound)
    }

    fn plan(&self, plan_id: &str) -> Result<Plan, ValidationError> {
        self.prices.catalog().find(plan_id).cloned().ok_or_else(|| {
            ValidationError::new("plan", "is not a plan of the catalog (see GET /api/plans)")
        })
    }
}
