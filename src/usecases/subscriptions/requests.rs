//! New subscriptions: the request is recorded first — claiming the plan for the customer, so
//! racing requests in any number of processes leave one live subscription per plan — then the
//! provider is asked with a key derived from the subscription's id, then its answer (or its
//! refusal, which releases the claim) is recorded.

use aggregates::subscription::{RequestSubscription, SubscriptionCommand};
use aggregates::values::PaymentMethodId;
use aggregates::ValidationError;
use chrono::Utc;
use projections::{SubscriptionRow, Subscriptions};
use sqlx::SqlitePool;

use super::{SubscribeRequest, SubscriptionService, MAX_TRIAL_DAYS};
use crate::error::AppError;
use crate::provider::{NewSubscription, ProviderError};
use crate::usecases::common::idempotency::{provider_key, DerivedId, Subject};
use crate::usecases::common::{command_metadata, owned_by, stripe_customer_id, CommandMetadata};

impl SubscriptionService {
    /// Subscribes the customer to a plan of the catalog.
    pub async fn subscribe(
        &self,
        customer_id: &str,
        request: SubscribeRequest,
        request_id: Option<&str>,
    ) -> Result<SubscriptionRow, AppError> {
        let plan = self.plan(&request.plan)?;
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
        if let Some(method) = &request.payment_method {
            PaymentMethodId::parse(method, self.card_numbers)?;
        }
        let subscription_id = DerivedId::SubscriptionFromClientKey
            .for_request(customer_id, request.idempotency_key.as_deref());
        if let Some(existing) = Subscriptions::find(&self.pool, &subscription_id).await? {
            return owned_by(Some(existing), customer_id);
        }
        // A quick answer for the common case; the claim below is what actually decides.
        if plan_holder(&self.pool, customer_id, &plan.id)
            .await?
            .is_some_and(|holder| holder != subscription_id)
        {
            return Err(AppError::AlreadySubscribed);
        }
        // The plan is claimed here, in the transaction that records the request.
        let metadata = command_metadata(request_id);
        let command = SubscriptionCommand::Request(RequestSubscription {
            customer_id: customer_id.to_owned(),
            plan: plan.id.clone(),
            trial_days,
            at: Utc::now(),
        });
        if let Err(error) = self
            .commands
            .execute(&subscription_id, command, metadata.clone())
            .await
        {
            return Err(self.claim_or(customer_id, &plan.id, error.into()).await);
        }
        if let Some(method) = &request.payment_method {
            if let Err(error) = self.set_payment_method(customer_id, method).await {
                self.fail_request(&subscription_id, &error, metadata).await;
                return Err(error);
            }
        }
        self.complete_request(customer_id, &subscription_id, metadata)
            .await
    }

    /// Asks the provider for the subscription billstream requested, with the key derived from
    /// its id (so a retry after a crash finds the subscription made the first time), and
    /// records the answer. A refusal releases the plan's claim.
    pub(crate) async fn complete_request(
        &self,
        customer_id: &str,
        subscription_id: &str,
        metadata: CommandMetadata,
    ) -> Result<SubscriptionRow, AppError> {
        let subscription = self.commands.load(subscription_id).await?;
        let Some((plan_id, trial_days, _)) = subscription.unanswered_request() else {
            return self.read(subscription_id).await;
        };
        let plan = self.plan(plan_id)?;
        let created = async {
            let stripe_customer = stripe_customer_id(&self.pool, customer_id).await?;
            let price = self.prices.price(&plan).await?;
            let new = NewSubscription {
                subscription_id: subscription_id.to_owned(),
                stripe_customer_id: stripe_customer,
                price,
                trial_days: Some(trial_days),
            };
            let key = provider_key(Subject::Subscription, subscription_id, "create");
            Ok::<_, AppError>(self.provider.create_subscription(&new, &key).await?)
        }
        .await;
        match created {
            Ok(answer) => {
                self.record(customer_id, subscription_id, &answer, metadata)
                    .await
            }
            Err(error) => {
                if is_refusal(&error) {
                    self.fail_request(subscription_id, &error, metadata).await;
                }
                Err(error)
            }
        }
    }

    /// `AlreadySubscribed` when the customer's claim on `plan` is what refused the command
    /// (the claim table is written in the appending transaction, so it is the truth), else
    /// `error`.
    pub(super) async fn claim_or(
        &self,
        customer_id: &str,
        plan: &str,
        error: AppError,
    ) -> AppError {
        if !matches!(error, AppError::Conflict) {
            return error;
        }
        match plan_holder(&self.pool, customer_id, plan).await {
            Ok(Some(_)) => AppError::AlreadySubscribed,
            Ok(None) => error,
            Err(read) => read.into(),
        }
    }

    /// Records that the provider refused a request, releasing the plan's claim.
    pub(super) async fn fail_request(
        &self,
        subscription_id: &str,
        error: &AppError,
        metadata: CommandMetadata,
    ) {
        let command = SubscriptionCommand::FailRequest {
            reason: error.to_string(),
            at: Utc::now(),
        };
        self.undo(subscription_id, command, metadata).await;
    }

    /// Records that the provider refused what was asked, moving or releasing the plan's claim.
    /// Should recording it fail (the store unreachable), the error is logged: a new
    /// subscription stays pending and its repair settles it later.
    pub(super) async fn undo(
        &self,
        subscription_id: &str,
        command: SubscriptionCommand,
        metadata: CommandMetadata,
    ) {
        if let Err(error) = self
            .commands
            .execute(subscription_id, command, metadata)
            .await
        {
            tracing::error!(%error, "could not record the provider's refusal");
        }
    }
}

/// The subscription that holds the customer's claim on `plan`, if any.
async fn plan_holder(
    pool: &SqlitePool,
    customer_id: &str,
    plan: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT subscription_id FROM subscription_plan_claims WHERE customer_id = ? AND plan = ?",
    )
    .bind(customer_id)
    .bind(plan)
    .fetch_optional(pool)
    .await
}

/// True when the provider (or billstream's checks) refused the request for good; false when
/// the outcome is unknown (the provider was unreachable) and the request stays pending.
fn is_refusal(error: &AppError) -> bool {
    !matches!(
        error,
        AppError::PaymentProvider(ProviderError::Provider(_) | ProviderError::Storage(_))
            | AppError::Internal(_)
    )
}
