//! Typed configuration, read from the environment (`main` loads `.env` first). The database
//! (SQLite, or PostgreSQL's shared log) is read in `database`, the abuse limits in `limits`,
//! the scheduled reconciliation in `reconcile`; secrets are wrapped by `secret`.

mod database;
mod limits;
mod password_reset;
mod reconcile;
mod secret;
pub mod seller;

pub use database::SharedLogSettings;
pub use limits::{Limits, Rate, RateLimits, RatePair};
pub use password_reset::PasswordResetSettings;
pub use reconcile::{parse_span, ReconcileSettings};
pub use secret::Secret;

use std::net::SocketAddr;
use std::time::Duration;

/// SQLite's `synchronous` setting for the event store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// fsync on every commit: nothing acknowledged is lost, even on power failure (default).
    Full,
    /// fsync at checkpoints: faster; a power failure may lose the last commits.
    Normal,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Pretty,
    /// One JSON object per line, for a log collector.
    Json,
}

/// Which payment provider the service talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No Stripe key: the built-in offline sandbox plays Stripe's part.
    Sandbox,
    /// A Stripe test-mode key (`sk_test_…`, `rk_test_…`).
    StripeTest,
    /// A Stripe live key: real money, strict requirements.
    StripeLive,
}

/// Everything the service reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// The node's SQLite file: everything, or — with `shared_log` — all but the log itself.
    pub database_url: String,
    /// The event log on PostgreSQL, shared by every node (`DATABASE_URL=postgres://…`).
    pub shared_log: Option<SharedLogSettings>,
    pub database_synchronous: Synchronous,
    /// How long the group-commit writer waits for more concurrent writes before committing.
    pub database_commit_window: Duration,
    pub bind_addr: SocketAddr,
    pub jwt_secret: Option<Secret>,
    pub jwt_ttl: Duration,
    pub bcrypt_cost: u32,
    pub stripe_secret_key: Option<Secret>,
    pub stripe_publishable_key: Option<String>,
    pub stripe_webhook_secret: Option<Secret>,
    /// How far a webhook signature's timestamp may be from now, either way.
    pub stripe_webhook_tolerance_seconds: i64,
    pub stripe_api_base: String,
    /// The plan catalog (TOML); the built-in catalog when unset.
    pub plans_file: Option<std::path::PathBuf>,
    /// Where the sandbox delivers its webhooks (default: the service's own endpoint); `off`
    /// delivers none (they stay in the sandbox's outbox).
    pub sandbox_webhook_url: Option<String>,
    pub cors_allowed_origins: Vec<String>,
    pub log_format: LogFormat,
    /// The bearer token of the admin API (`/api/admin`); the admin API is off when unset.
    pub operator_token: Option<Secret>,
    /// Who issues the invoices (printed on every PDF).
    pub seller: invoice_documents::Seller,
    /// Rate limits, failed-login delays, request timeouts.
    pub limits: Limits,
    /// Where e-mail goes (`SMTP_URL`, `MAIL_FROM`…): the local mailbox unless told otherwise.
    pub mail: crate::mail::MailSettings,
    /// How long forgotten-password links work (`PASSWORD_RESET_TTL`).
    pub password_reset: PasswordResetSettings,
    /// The scheduled reconciliation with the provider (`RECONCILE_INTERVAL`).
    pub reconcile: ReconcileSettings,
}

/// A variable that is set but unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The value cannot be parsed or is out of range.
    #[error("{variable} is invalid: {reason}")]
    Invalid {
        variable: &'static str,
        reason: String,
    },
    /// A variable that must be set is not.
    #[error("{variable} is not set: {reason}")]
    Missing {
        variable: &'static str,
        reason: &'static str,
    },
}

/// The shortest JWT secret accepted with a live Stripe key.
pub const MIN_LIVE_JWT_SECRET_BYTES: usize = 32;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`; empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let invalid = |variable: &'static str, reason: &str| ConfigError::Invalid {
            variable,
            reason: reason.to_owned(),
        };

        let database_synchronous = match get("DATABASE_SYNCHRONOUS").as_deref() {
            None => Synchronous::Full,
            Some(v) if v.eq_ignore_ascii_case("full") => Synchronous::Full,
            Some(v) if v.eq_ignore_ascii_case("normal") => Synchronous::Normal,
            Some(_) => return Err(invalid("DATABASE_SYNCHRONOUS", "expected full or normal")),
        };
        let database_commit_window = match get("DATABASE_COMMIT_WINDOW_US") {
            None => Duration::from_micros(500),
            Some(v) => v
                .parse()
                .ok()
                .filter(|us| *us <= 100_000)
                .map(Duration::from_micros)
                .ok_or_else(|| {
                    invalid(
                        "DATABASE_COMMIT_WINDOW_US",
                        "expected microseconds from 0 to 100000",
                    )
                })?,
        };
        let bind_addr = get("BIND_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .map_err(|_| invalid("BIND_ADDR", "expected host:port, such as 127.0.0.1:8080"))?;
        let jwt_ttl_seconds: u64 = match get("JWT_TTL") {
            None => 3600,
            Some(v) => v
                .parse()
                .ok()
                .filter(|s| (60..=30 * 24 * 3600).contains(s))
                .ok_or_else(|| invalid("JWT_TTL", "expected seconds between 60 and 2592000"))?,
        };
        let bcrypt_cost = match get("BCRYPT_COST") {
            None => 12,
            Some(v) => v
                .parse()
                .ok()
                .filter(|c| (4..=31).contains(c))
                .ok_or_else(|| invalid("BCRYPT_COST", "expected an integer from 4 to 31"))?,
        };
        let log_format = match get("LOG_FORMAT").as_deref() {
            None => LogFormat::Pretty,
            Some(v) if v.eq_ignore_ascii_case("pretty") => LogFormat::Pretty,
            Some(v) if v.eq_ignore_ascii_case("json") => LogFormat::Json,
            Some(_) => return Err(invalid("LOG_FORMAT", "expected pretty or json")),
        };
        let stripe_secret_key = get("STRIPE_SECRET_KEY").map(Secret::new);
        if let Some(key) = &stripe_secret_key {
            let known = ["sk_test_", "sk_live_", "rk_test_", "rk_live_"];
            if !known.iter().any(|prefix| key.expose().starts_with(prefix)) {
                return Err(invalid(
                    "STRIPE_SECRET_KEY",
                    "expected a Stripe secret key (sk_test_…, sk_live_…, rk_test_… or rk_live_…)",
                ));
            }
        }
        let operator_token = get("OPERATOR_TOKEN").map(Secret::new);
        if operator_token
            .as_ref()
            .is_some_and(|token| token.expose().len() < 16)
        {
            return Err(invalid(
                "OPERATOR_TOKEN",
                "must be at least 16 characters (use a long random value)",
            ));
        }
        let seller = seller::from_lookup(&get)?;
        let (database_url, shared_log) = database::from_lookup(&get)?;
        let config = Self {
            database_url,
            shared_log,
            database_synchronous,
            database_commit_window,
            bind_addr,
            jwt_secret: get("JWT_SECRET").map(Secret::new),
            jwt_ttl: Duration::from_secs(jwt_ttl_seconds),
            bcrypt_cost,
            stripe_secret_key,
            stripe_publishable_key: get("STRIPE_PUBLISHABLE_KEY"),
            stripe_webhook_secret: get("STRIPE_WEBHOOK_SECRET").map(Secret::new),
            stripe_webhook_tolerance_seconds: match get("STRIPE_WEBHOOK_TOLERANCE") {
                None => 300,
                Some(v) => v
                    .parse()
                    .ok()
                    .filter(|s| (1..=86_400).contains(s))
                    .ok_or_else(|| {
                        invalid(
                            "STRIPE_WEBHOOK_TOLERANCE",
                            "expected seconds between 1 and 86400",
                        )
                    })?,
            },
            stripe_api_base: get("STRIPE_API_BASE")
                .unwrap_or_else(|| "https://api.stripe.com".into()),
            sandbox_webhook_url: get("SANDBOX_WEBHOOK_URL"),
            plans_file: get("PLANS_FILE").map(std::path::PathBuf::from),
            cors_allowed_origins: get("CORS_ALLOWED_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|origin| origin.trim().to_owned())
                        .filter(|origin| !origin.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            log_format,
            operator_token,
            seller,
            limits: Limits::from_lookup(&get)?,
            mail: crate::mail::MailSettings::from_lookup(&get, bind_addr)?,
            password_reset: PasswordResetSettings::from_lookup(&get)?,
            reconcile: ReconcileSettings::from_lookup(&get)?,
        };
        config.check_live_requirements()?;
        Ok(config)
    }

    /// Every configured webhook signing secret (comma-separated during a rotation).
    pub fn webhook_secrets(&self) -> Vec<Secret> {
        self.stripe_webhook_secret
            .as_ref()
            .map(|secrets| {
                secrets
                    .expose()
                    .split(',')
                    .map(str::trim)
                    .filter(|secret| !secret.is_empty())
                    .map(Secret::new)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Sandbox without a key; Stripe test or live mode by the key's prefix.
    pub fn mode(&self) -> Mode {
        match &self.stripe_secret_key {
            None => Mode::Sandbox,
            Some(key) if key.expose().contains("_live_") => Mode::StripeLive,
            Some(_) => Mode::StripeTest,
        }
    }

    /// With real money at stake the service refuses to start with a weak or missing JWT secret.
    fn check_live_requirements(&self) -> Result<(), ConfigError> {
        if self.mode() != Mode::StripeLive {
            return Ok(());
        }
        let long_enough = self
            .jwt_secret
            .as_ref()
            .is_some_and(|secret| secret.expose().len() >= MIN_LIVE_JWT_SECRET_BYTES);
        if !long_enough {
            return Err(ConfigError::Invalid {
                variable: "JWT_SECRET",
                reason: format!(
                    "a live Stripe key requires a JWT_SECRET of at least {MIN_LIVE_JWT_SECRET_BYTES} bytes"
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config_from(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_need_no_variables() {
        let config = config_from(&[]).unwrap();
        assert_eq!(config.database_url, "sqlite://billstream.db");
        assert_eq!(config.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database_synchronous, Synchronous::Full);
        assert_eq!(config.jwt_ttl, Duration::from_secs(3600));
        assert_eq!(config.bcrypt_cost, 12);
        assert_eq!(config.mode(), Mode::Sandbox);
        assert!(config.jwt_secret.is_none());
    }

    #[test]
    fn empty_values_count_as_unset() {
        let config = config_from(&[("JWT_SECRET", "  "), ("DATABASE_URL", "")]).unwrap();
        assert!(config.jwt_secret.is_none());
        assert_eq!(config.database_url, "sqlite://billstream.db");
    }

    #[test]
    fn a_live_key_without_a_long_secret_is_refused() {
        let short = config_from(&[
            ("STRIPE_SECRET_KEY", "sk_live_abc"),
            ("JWT_SECRET", "short"),
        ]);
        assert!(matches!(
            short,
            Err(ConfigError::Invalid {
                variable: "JWT_SECRET",
                ..
            })
        ));
        let missing = config_from(&[("STRIPE_SECRET_KEY", "sk_live_abc")]);
        assert!(missing.is_err());
        let long = config_from(&[
            ("STRIPE_SECRET_KEY", "sk_live_abc"),
            ("JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ]);
        assert_eq!(long.unwrap().mode(), Mode::StripeLive);
    }

    #[test]
    fn a_test_key_without_a_secret_is_accepted() {
        let config = config_from(&[("STRIPE_SECRET_KEY", "sk_test_abc")]).unwrap();
        assert_eq!(config.mode(), Mode::StripeTest);
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (variable, value) in [
            ("DATABASE_SYNCHRONOUS", "off"),
            ("BIND_ADDR", "nowhere"),
            ("JWT_TTL", "5"),
            ("BCRYPT_COST", "3"),
            ("LOG_FORMAT", "xml"),
            ("STRIPE_WEBHOOK_TOLERANCE", "0"),
            ("STRIPE_SECRET_KEY", "pk_test_abc"),
        ] {
            let error = config_from(&[(variable, value)]).unwrap_err();
            assert!(
                matches!(&error, ConfigError::Invalid { variable: v, .. } if *v == variable),
                "{variable}: {error}"
            );
        }
    }

    #[test]
    fn secrets_never_print() {
        let config = config_from(&[("JWT_SECRET", "super-secret-value")]).unwrap();
        assert!(!format!("{config:?}").contains("super-secret-value"));
    }

    #[test]
    fn cors_origins_are_split_on_commas() {
        let config =
            config_from(&[("CORS_ALLOWED_ORIGINS", "http://a.test, http://b.test,")]).unwrap();
        assert_eq!(
            config.cors_allowed_origins,
            ["http://a.test", "http://b.test"]
        );
    }
}
