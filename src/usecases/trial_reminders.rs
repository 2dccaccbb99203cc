//! Trial reminders: finds the trialing subscriptions whose trial ends within three days, by the
//! service's clock (the sandbox's test clock in sandbox mode), and asks each subscription to
//! record `TrialEndingSoon`. The aggregate records it once per trial end, so running this
//! again — every poll, after a restart, in a second process — sends nothing twice; the mailer
//! turns the event into the message.

use std::collections::HashMap;
use std::sync::Arc;

use aggregates::subscription::{
    Subscription, SubscriptionCommand, SubscriptionError, TRIAL_REMINDER_SECONDS,
};
use chrono::{DateTime, Duration, Utc};
use cqrs_es::AggregateError;
use sqlx::SqlitePool;

use super::clock::Clock;
use super::common::Commands;

/// Asks the subscriptions whose trial ends soon to record their reminder.
pub struct TrialReminders {
    pool: SqlitePool,
    commands: Commands<Subscription>,
    clock: Arc<dyn Clock>,
}

impl TrialReminders {
    pub fn new(pool: SqlitePool, commands: Commands<Subscription>, clock: Arc<dyn Clock>) -> Self {
        Self {
            pool,
            commands,
            clock,
        }
    }

    /// One look; returns how many subscriptions were asked. A refusal (the read model is a
    /// step behind the aggregate) is skipped; a storage failure stops the look, retried on the
    /// next one.
    pub async fn run_once(&self) -> Result<usize, sqlx::Error> {
        let now = self.clock.now().await;
        let mut asked = 0;
        for subscription_id in self.ending_soon(now).await? {
            let command = SubscriptionCommand::RemindTrialEnding { now };
            match self
                .commands
                .execute(&subscription_id, command, HashMap::new())
                .await
            {
                Ok(()) => asked += 1,
                Err(AggregateError::UserError(SubscriptionError::TrialNotEndingSoon)) => {}
                Err(error) => {
                    tracing::warn!(%subscription_id, %error, "cannot record a trial reminder")
                }
            }
        }
        Ok(asked)
    }

    /// The trialing subscriptions whose trial ends between `now` and three days later, and
    /// whose reminder for that trial end is not recorded yet.
    async fn ending_soon(&self, now: DateTime<Utc>) -> Result<Vec<String>, sqlx::Error> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT subscription_id, trial_end FROM subscriptions
              WHERE status = 'trialing' AND trial_end IS NOT NULL
                AND trial_reminded_for IS NOT trial_end",
        )
        .fetch_all(&self.pool)
        .await?;
        let horizon = now + Duration::seconds(TRIAL_REMINDER_SECONDS);
        Ok(rows
            .into_iter()
            .filter(|(_, trial_end)| {
                DateTime::parse_from_rfc3339(trial_end)
                    .is_ok_and(|end| (now..=horizon).contains(&end.with_timezone(&Utc)))
            })
            .map(|(subscription_id, _)| subscription_id)
            .collect())
    }
}
