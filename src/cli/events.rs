//! `billstream events`: the log as JSON lines, for operators.

use std::io::Write;

use clap::Args;
use projections::{event_log, EventFilter};
use serde_json::{json, Value};

use crate::config::Config;
use crate::store::pool as db;

/// Filters for `billstream events`.
#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only events of this aggregate type (Customer, Payment…).
    #[arg(long)]
    pub aggregate_type: Option<String>,
    /// Only events of this aggregate id.
    #[arg(long)]
    pub aggregate_id: Option<String>,
    /// Only events after this global position.
    #[arg(long, default_value_t = 0)]
    pub after: i64,
    /// At most this many events.
    #[arg(long)]
    pub limit: Option<i64>,
}

const PAGE: i64 = 1_000;

/// Streams matching events to stdout, one JSON object per line.
pub async fn run(config: &Config, args: EventsArgs) -> anyhow::Result<()> {
    let pool = db::connect(config).await?;
    db::migrate(&pool).await?;
    let filter = EventFilter {
        aggregate_type: args.aggregate_type,
        aggregate_id: args.aggregate_id,
    };
    let mut remaining = args.limit.unwrap_or(i64::MAX);
    let mut position = args.after;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut conn = pool.acquire().await?;
    while remaining > 0 {
        let events = event_log::read(&mut conn, &filter, position, PAGE.min(remaining)).await?;
        let Some(last) = events.last().map(|event| event.position) else {
            break;
        };
        for event in &events {
            let mut payload: Value = serde_json::from_str(&event.payload)?;
            redact_secrets(&mut payload);
            let line = json!({
                "position": event.position,
                "aggregate_type": event.aggregate_type,
                "aggregate_id": event.aggregate_id,
                "sequence": event.sequence,
                "event_type": event.event_type,
                "event_version": event.event_version,
                "payload": payload,
                "recorded_at": event.recorded_at,
            });
            writeln!(out, "{line}")?;
        }
        remaining -= events.len() as i64;
        position = last;
    }
    out.flush()?;
    Ok(())
}

/// Fields that stay in the store: an operator's terminal has no use for them.
const REDACTED: &[&str] = &["password_hash", "client_secret"];

/// Replaces secret fields at any depth.
fn redact_secrets(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                if REDACTED.contains(&key.as_str()) {
                    *field = Value::String("<redacted>".into());
                } else {
                    redact_secrets(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_secrets),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hashes_are_redacted_at_any_depth() {
        let mut payload =
            json!({"CustomerRegistered": {"email": "a@b.co", "password_hash": "$2b$"}});
        redact_secrets(&mut payload);
        assert_eq!(payload["CustomerRegistered"]["password_hash"], "<redacted>");
        assert_eq!(payload["CustomerRegistered"]["email"], "a@b.co");
    }
}
