//! `billstream reconcile [--since TIME] [--dry-run]`: compares the provider's events (the
//! sandbox's, or Stripe's last 30 days) with the webhook inbox, feeds the inbox every event it
//! never received, compares the objects billstream holds in a changeable state with the
//! provider's and brings forward those behind, and records the run; prints a summary. The running service's inbox worker
//! applies what was fed, as it applies any delivery; the command waits a little (`--wait`) to
//! say how each one ended.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::Args;

use crate::config::{parse_span, Config, Mode};
use crate::inbox::{Inbox, InboxStatus, NodeInbox};
use crate::provider::sandbox::SandboxProvider;
use crate::provider::stripe::StripeProvider;
use crate::provider::PaymentProvider;
use crate::store::cqrs_for;
use crate::store::group_commit::{GroupCommit, GroupCommitSettings};
use crate::store::pool as db;
use crate::usecases::operators::reconcile::{ReconcileReport, Reconciler};
use crate::usecases::operators::reconcile_objects::ObjectPass;
use crate::usecases::plans::{PlanCatalog, PriceBook};
use projections::WriteGate;

/// How far back Stripe lists events, and the default window.
const RETENTION: &str = "30d";

/// Repair from the provider.
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// The window's start: an RFC 3339 time (2026-11-30T00:00:00Z) or a span back from now
    /// (90m, 24h, 7d). Default: 30d, all Stripe keeps.
    #[arg(long, default_value = RETENTION)]
    pub since: String,
    /// Only report what is missing; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Seconds to wait for the running service to apply what was fed (0: do not wait).
    #[arg(long, default_value_t = 10)]
    pub wait: u64,
}

/// Runs a reconciliation and prints its summary.
pub async fn run(config: &Config, args: ReconcileArgs) -> anyhow::Result<()> {
    let since = parse_since(&args.since, Utc::now())?;
    let pool = db::connect(config).await?;
    db::migrate(&pool).await?;
    let writer =
        GroupCommit::start(&pool, WriteGate::new(), GroupCommitSettings::default()).await?;
    let inbox = Inbox::Node(NodeInbox::new(pool.clone(), writer.clone()));
    let provider: Arc<dyn PaymentProvider> = match config.mode() {
        Mode::Sandbox => Arc::new(SandboxProvider::new(pool.clone())),
        Mode::StripeTest | Mode::StripeLive => {
            let key = config
                .stripe_secret_key
                .as_ref()
                .expect("Stripe mode has a key");
            Arc::new(StripeProvider::new(key, &config.stripe_api_base)?)
        }
    };
    let runs = Arc::new(cqrs_for(pool.clone(), &writer, None, ()));
    let plans = Arc::new(PlanCatalog::load(config.plans_file.as_deref())?);
    // No projector here: the running service's projector brings the views up to date with
    // what the object pass records, as it does with every other writer's events.
    let objects = ObjectPass::new(
        pool.clone(),
        provider.clone(),
        Arc::new(cqrs_for(pool.clone(), &writer, None, ())),
        Arc::new(cqrs_for(pool.clone(), &writer, None, ())),
        Arc::new(cqrs_for(pool.clone(), &writer, None, ())),
        Arc::new(PriceBook::new(plans, provider.clone())),
    );
    let reconciler = Reconciler::new(provider, inbox.clone(), runs, None).with_objects(objects);
    let report = reconciler.run(since, args.dry_run).await?;
    print_report(&report);
    if !report.repaired.is_empty() && args.wait > 0 {
        print_outcomes(&inbox, &report, Duration::from_secs(args.wait)).await?;
    }
    Ok(())
}

/// `--since`: an RFC 3339 time, or a span back from `now`.
fn parse_since(raw: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(raw) {
        return Ok(time.with_timezone(&Utc));
    }
    let span = parse_span(raw)
        .and_then(|span| chrono::Duration::from_std(span).ok())
        .ok_or_else(|| {
            anyhow::anyhow!("--since {raw}: expected an RFC 3339 time or a span such as 24h or 7d")
        })?;
    Ok(now - span)
}

fn print_report(report: &ReconcileReport) {
    let format = |time: &DateTime<Utc>| time.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let title = if report.dry_run { "Dry run: " } else { "" };
    println!(
        "{title}the provider's events from {} to {}",
        format(&report.since),
        format(&report.until)
    );
    println!("  listed     {:>6}", report.listed);
    println!(
        "  missing    {:>6}  (never received by the webhook inbox)",
        report.missing.len()
    );
    if report.dry_run {
        for event in &report.missing {
            println!("    {}  {}", event.stripe_event_id, event.event_type);
        }
        print_objects(report);
        println!("Nothing was changed; run without --dry-run to repair them.");
        return;
    }
    println!(
        "  repaired   {:>6}  (fed into the inbox by this run)",
        report.repaired.len()
    );
    for event in &report.repaired {
        println!("    {}  {}", event.stripe_event_id, event.event_type);
    }
    print_objects(report);
    if let Some(run_id) = &report.run_id {
        println!("Recorded as reconciliation run {run_id}.");
    }
}

/// The object pass: what it compared, found behind the provider, and (unless a dry run)
/// brought forward.
fn print_objects(report: &ReconcileReport) {
    let objects = &report.objects;
    println!("The provider's objects billstream holds in a state that can still change:");
    println!("  compared   {:>6}", objects.checked);
    println!(
        "  behind     {:>6}  (the provider's state is ahead of billstream's)",
        objects.differing.len()
    );
    let listed = if report.dry_run {
        &objects.differing
    } else {
        println!(
            "  repaired   {:>6}  (brought forward by this run)",
            objects.repaired.len()
        );
        &objects.repaired
    };
    for object in listed {
        println!(
            "    {} {} ({})  {} -> {}",
            object.object, object.id, object.provider_id, object.from_status, object.to_status
        );
    }
}

/// Waits up to `wait` for the inbox worker to apply what was fed, then says how each ended.
async fn print_outcomes(
    inbox: &Inbox,
    report: &ReconcileReport,
    wait: Duration,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut statuses = Vec::new();
    loop {
        statuses.clear();
        for event in &report.repaired {
            let status = match inbox.find(&event.stripe_event_id).await? {
                Some(record) => match record.entry.last_error {
                    Some(error) => format!("{} ({error})", record.entry.status),
                    None => record.entry.status,
                },
                None => String::new(),
            };
            statuses.push((event.stripe_event_id.clone(), status));
        }
        let pending = statuses
            .iter()
            .any(|(_, status)| status.starts_with(InboxStatus::Pending.as_str()));
        if !pending || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("In the inbox now:");
    for (event_id, status) in &statuses {
        println!("    {event_id}  {status}");
    }
    if statuses
        .iter()
        .any(|(_, status)| status.starts_with(InboxStatus::Pending.as_str()))
    {
        println!("Pending events are applied by the service's inbox worker once it runs.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_reads_a_time_or_a_span_back_from_now() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_since("2026-11-29T00:00:00Z", now)
                .unwrap()
                .to_rfc3339(),
            "2026-11-29T00:00:00+00:00"
        );
        assert_eq!(
            parse_since("24h", now).unwrap().to_rfc3339(),
            "2026-11-29T12:00:00+00:00"
        );
        assert!(parse_since("yesterday", now).is_err());
    }
}
