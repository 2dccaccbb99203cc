//! `billstream events`: the log as JSON lines, for operators; with `--customer`, that
//! customer's timeline (the lines `GET /api/admin/customers/{id}/timeline` answers).

use std::io::Write;

use clap::Args;
use projections::{event_log, EventFilter};
use serde_json::{json, Value};

use crate::config::Config;
use crate::error::AppError;
use crate::store::pool as db;
use crate::usecases::operators::redact::redact_secrets;
use crate::usecases::operators::timeline::customer_timeline;

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
    /// Only the events of this customer's aggregates (customer, payments, subscriptions,
    /// invoices), each with a one-line summary and its cause.
    #[arg(long, conflicts_with_all = ["aggregate_type", "aggregate_id"])]
    pub customer: Option<String>,
}

const PAGE: i64 = 1_000;

/// Streams matching events to stdout, one JSON object per line.
pub async fn run(config: &Config, args: EventsArgs) -> anyhow::Result<()> {
    let pool = db::connect(config).await?;
    db::migrate(&pool).await?;
    if let Some(customer) = &args.customer {
        return timeline(&pool, customer, args.after, args.limit).await;
    }
    let filter = EventFilter {
        aggregate_type: args.aggregate_type,
        aggregate_id: args.aggregate_id,
        ..EventFilter::default()
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

/// Prints customer `customer_id`'s timeline, one JSON object per line, page by page.
async fn timeline(
    pool: &sqlx::SqlitePool,
    customer_id: &str,
    after: i64,
    limit: Option<i64>,
) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut remaining = limit.unwrap_or(i64::MAX);
    let mut position = after;
    while remaining > 0 {
        let page = match customer_timeline(pool, customer_id, position, PAGE.min(remaining)).await {
            Err(AppError::NotFound) => anyhow::bail!("no customer {customer_id} in the log"),
            other => other?,
        };
        for entry in &page.entries {
            let line = json!({
                "position": entry.position,
                "recorded_at": entry.recorded_at,
                "aggregate_type": entry.aggregate_type,
                "aggregate_id": entry.aggregate_id,
                "event_type": entry.event_type,
                "summary": entry.summary,
                "stripe_event_id": entry.stripe_event_id,
                "request_id": entry.request_id,
            });
            writeln!(out, "{line}")?;
        }
        remaining -= page.entries.len() as i64;
        match page.next_after {
            Some(next) => position = next,
            None => break,
        }
    }
    out.flush()?;
    Ok(())
}
