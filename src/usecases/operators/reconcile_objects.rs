//! Reconciliation's object pass: the provider's events are not the whole story. Stripe keeps
//! them 30 days, and some providers never emit one (localstripe: none for intents, charges or
//! refunds), so an object can move at the provider while billstream never hears of it. This
//! pass takes every object billstream holds in a state that can still change — payments not
//! yet final, subscriptions not ended, open invoices and drafts the provider knows — retrieves
//! it from the provider, and where the provider is ahead brings it forward through the
//! object's own aggregate (`RecordOutcome` as a status check, `RecordProviderState`,
//! `ApplyProviderState`), never by writing a view. The views only pick the candidates; the
//! aggregates decide, and as their states only move forward a repeated run records nothing.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use aggregates::invoice::{Invoice, InvoiceNumber};
use aggregates::payment::{Outcome, Payment, PaymentCommand, RecordOutcome};
use aggregates::reconciliation::ObjectDrift;
use aggregates::subscription::{ProviderObservation, Subscription, SubscriptionCommand};
use chrono::{DateTime, SubsecRound, Utc};
use cqrs_es::Aggregate;
use sqlx::SqlitePool;

use crate::error::AppError;
use crate::provider::{PaymentProvider, ProviderSubscription};
use crate::store::{Cqrs, InvoiceCqrs};
use crate::usecases::common::execute_with_retry;
use crate::usecases::invoices::numbering::apply_provider_state;
use crate::usecases::plans::PriceBook;
use crate::usecases::provider_state::{invoice_state, subscription_state};

/// Candidates read from a view per query: the pass pages through them, however many.
const PAGE: i64 = 100;

/// The metadata key naming the run on the events a repair records.
const RUN_KEY: &str = "reconciliation_run";

/// What the object pass compared and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectReport {
    /// Objects compared with the provider's.
    pub checked: u64,
    /// Those billstream held behind the provider.
    pub differing: Vec<ObjectDrift>,
    /// Those this run brought forward (none in a dry run).
    pub repaired: Vec<ObjectDrift>,
}

/// Compares billstream's changeable objects with the provider's, and repairs them.
pub struct ObjectPass {
    pool: SqlitePool,
    provider: Arc<dyn PaymentProvider>,
    payments: Arc<Cqrs<Payment>>,
    subscriptions: Arc<Cqrs<Subscription>>,
    invoices: Arc<InvoiceCqrs>,
    prices: Arc<PriceBook>,
}

/// One candidate: billstream's id, the provider's, its customer and its status in the view.
type Candidate = (String, String, String, String);

impl ObjectPass {
    pub fn new(
        pool: SqlitePool,
        provider: Arc<dyn PaymentProvider>,
        payments: Arc<Cqrs<Payment>>,
        subscriptions: Arc<Cqrs<Subscription>>,
        invoices: Arc<InvoiceCqrs>,
        prices: Arc<PriceBook>,
    ) -> Self {
        Self {
            pool,
            provider,
            payments,
            subscriptions,
            invoices,
            prices,
        }
    }

    /// Compares every changeable object; unless `dry_run`, repairs those behind, tagging the
    /// events recorded with `run_id`. Objects named in `left_to_events` (the provider ids of
    /// the events this run found missing) are left to those events, which the inbox applies
    /// with their provider event ids. An object the provider cannot answer for (gone, or the
    /// provider failing on it) is logged and left for the next run.
    pub async fn run(
        &self,
        run_id: &str,
        dry_run: bool,
        left_to_events: &HashSet<String>,
    ) -> Result<ObjectReport, AppError> {
        let mut report = ObjectReport::default();
        for kind in [Kind::Payment, Kind::Subscription, Kind::Invoice] {
            let mut after = String::new();
            loop {
                let page = self.candidates(kind, &after).await?;
                for candidate in &page {
                    if left_to_events.contains(&candidate.1) {
                        continue;
                    }
                    report.checked += 1;
                    match self.compare(kind, candidate, run_id, dry_run).await {
                        Ok(Some((drift, repaired))) => {
                            if repaired {
                                report.repaired.push(drift.clone());
                            }
                            report.differing.push(drift);
                        }
                        Ok(None) => {}
                        Err(error) => tracing::warn!(
                            object = kind.name(),
                            id = %candidate.0,
                            %error,
                            "reconciliation could not compare an object with the provider's"
                        ),
                    }
                }
                match page.last() {
                    Some(last) if page.len() as i64 == PAGE => after = last.0.clone(),
                    _ => break,
                }
            }
        }
        Ok(report)
    }

    /// The next page of `kind`'s changeable objects after id `after`.
    async fn candidates(&self, kind: Kind, after: &str) -> Result<Vec<Candidate>, AppError> {
        let sql = match kind {
            Kind::Payment => {
                "SELECT payment_id, payment_intent_id, customer_id, status FROM payments
                  WHERE status IN ('requires_payment_method', 'requires_action', 'processing',
                                   'failed')
                    AND payment_id > ?1 ORDER BY payment_id LIMIT ?2"
            }
            Kind::Subscription => {
                "SELECT subscription_id, stripe_subscription_id, customer_id, status
                   FROM subscriptions
                  WHERE status NOT IN ('canceled', 'incomplete_expired')
                    AND subscription_id > ?1 ORDER BY subscription_id LIMIT ?2"
            }
            Kind::Invoice => {
                "SELECT invoice_id, stripe_invoice_id, customer_id, status FROM invoices
                  WHERE status IN ('draft', 'open') AND stripe_invoice_id IS NOT NULL
                    AND invoice_id > ?1 ORDER BY invoice_id LIMIT ?2"
            }
        };
        Ok(sqlx::query_as(sql)
            .bind(after)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Whether the provider is ahead of billstream on one object, and whether this run
    /// brought it forward.
    async fn compare(
        &self,
        kind: Kind,
        (id, provider_id, customer_id, status): &Candidate,
        run_id: &str,
        dry_run: bool,
    ) -> Result<Option<(ObjectDrift, bool)>, AppError> {
        let drift = |to_status: &str| ObjectDrift {
            object: kind.name().to_owned(),
            id: id.clone(),
            provider_id: provider_id.clone(),
            from_status: status.clone(),
            to_status: to_status.to_owned(),
        };
        let metadata = HashMap::from([(RUN_KEY.to_owned(), run_id.to_owned())]);
        // Stripe's times are whole seconds: an observation from now is not older than them.
        let now = Utc::now().trunc_subsecs(0);
        let drift = match kind {
            Kind::Payment => {
                let intent = self.provider.retrieve_payment_intent(provider_id).await?;
                let Some(outcome) = intent.outcome() else {
                    return Ok(None);
                };
                if outcome_status(&outcome) == status {
                    return Ok(None);
                }
                let drift = drift(outcome_status(&outcome));
                if !dry_run {
                    let command = PaymentCommand::RecordOutcome(RecordOutcome {
                        attempt: None,
                        outcome,
                        at: now,
                    });
                    execute_with_retry(&self.payments, id, command, metadata).await?;
                }
                drift
            }
            Kind::Subscription => {
                let provider = self.provider.retrieve_subscription(provider_id).await?;
                if !self.subscription_differs(id, &provider).await? {
                    return Ok(None);
                }
                let drift = drift(&provider.status);
                if !dry_run {
                    let plan = match &provider.price_id {
                        Some(price) => self.prices.plan_for_price(price).await,
                        None => None,
                    };
                    let command = SubscriptionCommand::RecordProviderState(ProviderObservation {
                        customer_id: customer_id.clone(),
                        stripe_subscription_id: provider.id.clone(),
                        state: subscription_state(&provider, plan),
                        observed_at: now,
                    });
                    execute_with_retry(&self.subscriptions, id, command, metadata).await?;
                }
                drift
            }
            Kind::Invoice => {
                let provider = self.provider.retrieve_invoice(provider_id).await?;
                if provider.status == *status {
                    return Ok(None);
                }
                let placeholder = InvoiceNumber::sequential(0, 0);
                let Some(state) = invoice_state(&provider, placeholder, now) else {
                    return Ok(None);
                };
                let drift = drift(&provider.status);
                if !dry_run {
                    apply_provider_state(&self.invoices, &self.pool, id, state, metadata).await?;
                }
                drift
            }
        };
        let repaired = !dry_run && self.recorded_by(kind, id, run_id).await?;
        Ok(Some((drift, repaired)))
    }

    /// Whether the subscription's view differs from the provider's answer in what a missed
    /// event would have changed: its status, its scheduled cancellation, its period.
    async fn subscription_differs(
        &self,
        id: &str,
        provider: &ProviderSubscription,
    ) -> Result<bool, AppError> {
        let row: Option<(String, bool, Option<String>)> = sqlx::query_as(
            "SELECT status, cancel_at_period_end, current_period_end FROM subscriptions
              WHERE subscription_id = ?",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some((status, cancel_at_period_end, period_end)) = row else {
            return Ok(false);
        };
        let period_end = period_end
            .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
            .map(|at| at.timestamp());
        Ok(status != provider.status
            || cancel_at_period_end != provider.cancel_at_period_end
            || period_end != provider.current_period_end)
    }

    /// Whether this run's command recorded anything on the object (a webhook applied first
    /// would leave the aggregate nothing to record).
    async fn recorded_by(&self, kind: Kind, id: &str, run_id: &str) -> Result<bool, AppError> {
        let recorded: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM events
              WHERE aggregate_type = ?1 AND aggregate_id = ?2
                AND json_extract(metadata, '$.reconciliation_run') = ?3",
        )
        .bind(kind.aggregate_type())
        .bind(id)
        .bind(run_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(recorded > 0)
    }
}

/// The kinds of object compared.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Payment,
    Subscription,
    Invoice,
}

impl Kind {
    /// The provider's name for it, as the report says it.
    fn name(self) -> &'static str {
        match self {
            Self::Payment => "payment_intent",
            Self::Subscription => "subscription",
            Self::Invoice => "invoice",
        }
    }

    fn aggregate_type(self) -> &'static str {
        match self {
            Self::Payment => Payment::TYPE,
            Self::Subscription => Subscription::TYPE,
            Self::Invoice => Invoice::TYPE,
        }
    }
}

/// The payments view's status for an outcome.
fn outcome_status(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Succeeded { .. } => "succeeded",
        Outcome::Failed { .. } => "failed",
        Outcome::RequiresAction { .. } => "requires_action",
        Outcome::Processing => "processing",
        Outcome::Canceled => "canceled",
    }
}
