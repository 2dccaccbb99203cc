//! Growing delays after repeated failed logins of one account, counted in the database so
//! that they hold across restarts and across every node sharing it. From the `threshold`-th
//! failure on, the account refuses logins (429 with `Retry-After`, before any password is
//! checked) for `base_delay`, doubling with each further failure up to `max_delay`. A success
//! resets the count; failures a day old are forgotten. Accounts are keyed by their normalised
//! e-mail whether or not an account has it, so the answers say nothing about which exist.

use std::future::Future;
use std::time::Duration;

use aggregates::customer::Email;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::SqlitePool;

use super::store;
use crate::error::AppError;

/// How failed logins slow an account down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures that start the delays (0: never).
    pub threshold: u32,
    /// The first delay.
    pub base_delay: Duration,
    /// The longest delay.
    pub max_delay: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            threshold: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15 * 60),
        }
    }
}

impl LockoutPolicy {
    /// How long logins are refused after the `failures`-th consecutive failure.
    pub fn delay_after(&self, failures: i64) -> Duration {
        let threshold = i64::from(self.threshold);
        if self.threshold == 0 || failures < threshold {
            return Duration::ZERO;
        }
        let doublings = u32::try_from(failures - threshold)
            .unwrap_or(u32::MAX)
            .min(32);
        self.base_delay
            .saturating_mul(1u32.checked_shl(doublings).unwrap_or(u32::MAX))
            .min(self.max_delay)
    }
}

/// How long a failure is remembered without another one.
const FORGET_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// The failed-login counters of every account.
pub struct LoginThrottle {
    counters: store::Counters,
    policy: LockoutPolicy,
}

impl LoginThrottle {
    /// Counters in `pool`, applied with `policy`.
    pub fn new(pool: SqlitePool, policy: LockoutPolicy) -> Self {
        Self {
            counters: store::Counters::Node(pool),
            policy,
        }
    }

    /// Keeps the counters in the nodes' shared database (PostgreSQL) instead.
    pub fn shared(mut self, pool: sqlx::PgPool) -> Self {
        self.counters = store::Counters::Shared(pool);
        self
    }

    /// Runs `login` for `email` unless the account is in a delay: a wrong password
    /// (`InvalidCredentials`) counts one more failure, a success resets the count.
    pub async fn guard<T>(
        &self,
        email: &str,
        login: impl Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let key = account_key(email);
        let now = Utc::now();
        let failures = store::login_failures(&self.counters, &key).await?;
        if let Some(failures) = &failures {
            let last = DateTime::parse_from_rfc3339(&failures.last_failed_at)
                .map_err(AppError::internal)?
                .with_timezone(&Utc);
            let delay = self.policy.delay_after(failures.failures);
            let until = last + chrono::TimeDelta::from_std(delay).unwrap_or(chrono::TimeDelta::MAX);
            if until > now {
                let wait = (until - now).to_std().unwrap_or_default();
                return Err(AppError::TooManyFailedLogins {
                    retry_after_seconds: seconds_rounded_up(wait),
                });
            }
        }
        match login.await {
            Ok(value) => {
                if failures.is_some() {
                    store::clear_login_failures(&self.counters, &key).await?;
                }
                Ok(value)
            }
            Err(AppError::InvalidCredentials) => {
                let now = Utc::now();
                let forget_before = timestamp(now - FORGET_AFTER);
                let count = store::record_login_failure(
                    &self.counters,
                    &key,
                    &timestamp(now),
                    &forget_before,
                )
                .await?;
                store::forget_old_login_failures(&self.counters, &forget_before).await?;
                if count >= i64::from(self.policy.threshold) && self.policy.threshold > 0 {
                    tracing::warn!(failures = count, "repeated failed logins for one account");
                }
                Err(AppError::InvalidCredentials)
            }
            Err(other) => Err(other),
        }
    }
}

/// The key an account's failures are counted under: its normalised e-mail, or the trimmed,
/// lower-cased text for something that is not an e-mail (bounded in length).
pub fn account_key(email: &str) -> String {
    match Email::parse(email) {
        Ok(email) => email.as_str().to_owned(),
        Err(_) => email.trim().to_lowercase().chars().take(320).collect(),
    }
}

/// Whole seconds, at least 1 (a `Retry-After` of 0 invites an immediate retry).
pub fn seconds_rounded_up(wait: Duration) -> u64 {
    let whole = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    whole.max(1)
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_at_the_threshold_double_and_are_capped() {
        let policy = LockoutPolicy::default();
        let delays: Vec<u64> = (1..=16)
            .map(|failures| policy.delay_after(failures).as_secs())
            .collect();
        assert_eq!(
            delays,
            [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]
        );
        assert_eq!(policy.delay_after(i64::MAX), Duration::from_secs(900));
    }

    #[test]
    fn a_zero_threshold_never_delays() {
        let policy = LockoutPolicy {
            threshold: 0,
            ..LockoutPolicy::default()
        };
        assert_eq!(policy.delay_after(1_000), Duration::ZERO);
    }

    #[test]
    fn accounts_are_keyed_by_their_normalised_email() {
        assert_eq!(account_key("  Ada@Example.COM "), "ada@example.com");
        assert_eq!(account_key(" Not An E-mail "), "not an e-mail");
        assert_eq!(account_key(&"x".repeat(1000)).len(), 320);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(seconds_rounded_up(Duration::from_millis(1)), 1);
        assert_eq!(seconds_rounded_up(Duration::from_millis(1001)), 2);
        assert_eq!(seconds_rounded_up(Duration::ZERO), 1);
    }
}
