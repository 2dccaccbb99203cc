//! Read model: one row per subscription.

use aggregates::subscription::{Subscription, SubscriptionEvent, SubscriptionState};
use chrono::{TimeZone, Utc};
use cqrs_es::Aggregate;
use sqlx::{FromRow, SqliteExecutor};

use crate::customer_profiles::format_timestamp;
use crate::event_log::StoredEvent;
use crate::statement::{collect, Statement};
use crate::{Projection, ProjectionError};

/// A subscription as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct SubscriptionRow {
    pub subscription_id: String,
    pub customer_id: String,
    pub stripe_subscription_id: String,
    pub plan: Option<String>,
    pub price: Option<String>,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub interval: Option<String>,
    pub status: String,
    pub current_period_start: Option<String>,
    pub current_period_end: Option<String>,
    pub trial_end: Option<String>,
    pub cancel_at_period_end: bool,
    pub canceled_at: Option<String>,
    pub ended_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The subscriptions projection and its queries.
pub struct Subscriptions;

impl Subscriptions {
    /// One subscription.
    pub async fn find(
        db: impl SqliteExecutor<'_>,
        subscription_id: &str,
    ) -> Result<Option<SubscriptionRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM subscriptions WHERE subscription_id = ?")
            .bind(subscription_id)
            .fetch_optional(db)
            .await
    }

    /// The subscription billstream keeps for a Stripe subscription id.
    pub async fn find_by_stripe_id(
        db: impl SqliteExecutor<'_>,
        stripe_subscription_id: &str,
    ) -> Result<Option<SubscriptionRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM subscriptions WHERE stripe_subscription_id = ?")
            .bind(stripe_subscription_id)
            .fetch_optional(db)
            .await
    }

    /// A customer's subscriptions, newest first.
    pub async fn for_customer(
        db: impl SqliteExecutor<'_>,
        customer_id: &str,
    ) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT * FROM subscriptions WHERE customer_id = ? ORDER BY created_at DESC, subscription_id",
        )
        .bind(customer_id)
        .fetch_all(db)
        .await
    }

    /// Every subscription (for statistics and replay checks).
    pub async fn all(db: impl SqliteExecutor<'_>) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
        sqlx::query_as("SELECT * FROM subscriptions ORDER BY subscription_id")
            .fetch_all(db)
            .await
    }
}

fn unix_timestamp(seconds: Option<i64>) -> Option<String> {
    seconds
        .and_then(|s| Utc.timestamp_opt(s, 0).single())
        .map(|at| format_timestamp(&at))
}

/// Statuses after which a subscription is over (its `ended_at` is set once).
const ENDED: &[&str] = &["canceled", "incomplete_expired"];

fn write_state(out: &mut Vec<Statement>, id: &str, state: &SubscriptionState, updated_at: &str) {
    out.push(Statement::new(
        "UPDATE subscriptions SET plan = COALESCE(?2, plan), status = ?3, current_period_start = ?4,
            current_period_end = ?5, trial_end = ?6, cancel_at_period_end = ?7, updated_at = ?8,
            price = ?9, amount = COALESCE(?10, amount), currency = COALESCE(?11, currency),
            interval = COALESCE(?12, interval), canceled_at = ?13,
            ended_at = CASE WHEN ?14 THEN COALESCE(?15, ended_at, ?8) ELSE NULL END,
            interval_count = ?16
          WHERE subscription_id = ?1",
    )
    .bind(id)
    .bind(&state.plan)
    .bind(&state.status)
    .bind(unix_timestamp(state.current_period_start))
    .bind(unix_timestamp(state.current_period_end))
    .bind(unix_timestamp(state.trial_end))
    .bind(state.cancel_at_period_end)
    .bind(updated_at)
    .bind(&state.price)
    .bind(state.amount)
    .bind(&state.currency)
    .bind(&state.interval)
    .bind(unix_timestamp(state.canceled_at))
    .bind(ENDED.contains(&state.status.as_str()))
    .bind(unix_timestamp(state.ended_at))
    .bind(state.interval_count));
}

impl Projection for Subscriptions {
    fn name(&self) -> &'static str {
        "subscriptions"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["subscriptions"]
    }

    fn statements(&self, event: &StoredEvent) -> Option<Result<Vec<Statement>, ProjectionError>> {
        collect(|out| write(out, event))
    }
}

/// Appends to `out` the statements that apply `event` to the view (none for events of no
/// interest).
fn write(out: &mut Vec<Statement>, event: &StoredEvent) -> Result<(), ProjectionError> {
    if event.aggregate_type != Subscription::TYPE {
        return Ok(());
    }
    let id = event.aggregate_id.as_str();
    match event.decode::<SubscriptionEvent>()? {
        SubscriptionEvent::SubscriptionRecorded {
            customer_id,
            stripe_subscription_id,
            state,
            at,
        } => {
            let at = format_timestamp(&at);
            out.push(Statement::new(
                "INSERT INTO subscriptions (subscription_id, customer_id, stripe_subscription_id,
                    status, cancel_at_period_end, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5)",
            )
            .bind(id)
            .bind(customer_id)
            .bind(stripe_subscription_id)
            .bind(&state.status)
            .bind(&at));
            write_state(out, id, &state, &at);
        }
        SubscriptionEvent::SubscriptionStateChanged { state, at } => {
            write_state(out, id, &state, &format_timestamp(&at));
        }
        // Requests and their claims: the row appears with the provider's first answer.
        SubscriptionEvent::SubscriptionRequested { .. }
        | SubscriptionEvent::SubscriptionRequestFailed { .. }
        | SubscriptionEvent::PlanChangeRequested { .. }
        | SubscriptionEvent::PlanChangeFailed { .. }
        | SubscriptionEvent::SubscriptionEnded { .. }
        | SubscriptionEvent::StripeEventApplied { .. }
        | SubscriptionEvent::StaleStripeEventIgnored { .. } => {}
        // The mailer sends the message; the row remembers which trial end was reminded,
        // so the reminder loop does not ask again.
        SubscriptionEvent::TrialEndingSoon { trial_end, .. } => {
            out.push(
                Statement::new(
                    "UPDATE subscriptions SET trial_reminded_for = ?2 WHERE subscription_id = ?1",
                )
                .bind(id)
                .bind(unix_timestamp(Some(trial_end.timestamp()))),
            );
        }
    }
    Ok(())
}
