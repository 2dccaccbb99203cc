//! Where the service keeps its data, read with the rest of `Config`.
//!
//! | Variable | Default | Meaning |
//! |---|---|---|
//! | `DATABASE_URL` | `sqlite://billstream.db` | `sqlite://…` (or a path): one node, everything in that file; `postgres://…` (libpq's URL, `sslmode` honoured): the event log shared by every node |
//! | `NODE_DATABASE_URL` | `sqlite://billstream-node.db` | with PostgreSQL only: this node's own file (its copy of the log, its views and the offline sandbox) |
//! | `DATABASE_POOL_SIZE` | `16` | with PostgreSQL only: connections this node may hold |
//! | `DATABASE_STATEMENT_TIMEOUT` | `30s` | with PostgreSQL only: longest a statement may run (1s to 1h) |
//! | `WEBHOOK_CLAIM_TIMEOUT` | `30s` | with PostgreSQL only: how long a node holds a Stripe event it is applying before another node may take it over (1s to 1h) |

use std::time::Duration;

use super::{parse_span, ConfigError, Secret};

/// The shared log on PostgreSQL, when `DATABASE_URL` names one.
#[derive(Debug, Clone)]
pub struct SharedLogSettings {
    /// The server's URL; it may hold a password, so it is never shown.
    pub url: Secret,
    pub max_connections: u32,
    pub statement_timeout: Duration,
    /// How long a node's claim on a webhook event in the shared inbox lasts.
    pub inbox_claim: Duration,
}

/// The node's SQLite URL, and the shared log when there is one.
pub fn from_lookup(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, Option<SharedLogSettings>), ConfigError> {
    let url = get("DATABASE_URL").unwrap_or_else(|| "sqlite://billstream.db".into());
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Ok((url, None));
    }
    let max_connections = match get("DATABASE_POOL_SIZE") {
        None => 16,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|size| (2..=1_000).contains(size))
            .ok_or_else(|| ConfigError::Invalid {
                variable: "DATABASE_POOL_SIZE",
                reason: "expected a number of connections from 2 to 1000".to_owned(),
            })?,
    };
    let statement_timeout = match get("DATABASE_STATEMENT_TIMEOUT") {
        None => Duration::from_secs(30),
        Some(raw) => parse_span(&raw)
            .filter(|span| (Duration::from_secs(1)..=Duration::from_secs(3_600)).contains(span))
            .ok_or_else(|| ConfigError::Invalid {
                variable: "DATABASE_STATEMENT_TIMEOUT",
                reason: "expected a span from 1s to 1h, such as 30s or 5m".to_owned(),
            })?,
    };
    let inbox_claim = match get("WEBHOOK_CLAIM_TIMEOUT") {
        None => Duration::from_secs(30),
        Some(raw) => parse_span(&raw)
            .filter(|span| (Duration::from_secs(1)..=Duration::from_secs(3_600)).contains(span))
            .ok_or_else(|| ConfigError::Invalid {
                variable: "WEBHOOK_CLAIM_TIMEOUT",
                reason: "expected a span from 1s to 1h, such as 30s or 5m".to_owned(),
            })?,
    };
    let node = get("NODE_DATABASE_URL").unwrap_or_else(|| "sqlite://billstream-node.db".into());
    if node.starts_with("postgres") {
        return Err(ConfigError::Invalid {
            variable: "NODE_DATABASE_URL",
            reason: "must be a SQLite file of this node's own (sqlite://…)".to_owned(),
        });
    }
    let shared = SharedLogSettings {
        url: Secret::new(url),
        max_connections,
        statement_timeout,
        inbox_claim,
    };
    Ok((node, Some(shared)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<(String, Option<SharedLogSettings>), ConfigError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        from_lookup(&move |name| {
            vars.iter()
                .find(|(variable, _)| variable == name)
                .map(|(_, value)| value.clone())
        })
    }

    #[test]
    fn a_sqlite_url_keeps_everything_in_that_file() {
        let (node, shared) = read(&[("DATABASE_URL", "sqlite:///var/lib/b.db")]).unwrap();
        assert_eq!(node, "sqlite:///var/lib/b.db");
        assert!(shared.is_none());
    }

    #[test]
    fn a_postgres_url_shares_the_log_and_gives_the_node_a_file_of_its_own() {
        let (node, shared) = read(&[
            ("DATABASE_URL", "postgres://b:pw@db:5432/b?sslmode=require"),
            ("DATABASE_POOL_SIZE", "8"),
            ("DATABASE_STATEMENT_TIMEOUT", "5s"),
            ("WEBHOOK_CLAIM_TIMEOUT", "2m"),
        ])
        .unwrap();
        assert_eq!(node, "sqlite://billstream-node.db");
        let shared = shared.expect("a shared log");
        assert_eq!(
            shared.url.expose(),
            "postgres://b:pw@db:5432/b?sslmode=require"
        );
        assert_eq!(shared.max_connections, 8);
        assert_eq!(shared.statement_timeout, Duration::from_secs(5));
        assert_eq!(shared.inbox_claim, Duration::from_secs(120));
        assert!(
            !format!("{shared:?}").contains("pw"),
            "the URL is never shown"
        );
    }

    #[test]
    fn unusable_pool_sizes_timeouts_and_node_files_are_refused_by_name() {
        let postgres = ("DATABASE_URL", "postgresql://db/b");
        for (variable, value) in [
            ("DATABASE_POOL_SIZE", "1"),
            ("DATABASE_POOL_SIZE", "many"),
            ("DATABASE_STATEMENT_TIMEOUT", "0s"),
            ("DATABASE_STATEMENT_TIMEOUT", "2d"),
            ("WEBHOOK_CLAIM_TIMEOUT", "0s"),
            ("NODE_DATABASE_URL", "postgres://db/other"),
        ] {
            let refused = read(&[postgres, (variable, value)]).unwrap_err();
            assert!(
                matches!(refused, ConfigError::Invalid { variable: named, .. } if named == variable),
                "{variable}={value}: {refused:?}"
            );
        }
    }
}
