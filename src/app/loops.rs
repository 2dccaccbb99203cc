//! The service's background work: the projector's catch-up, the sandbox's billing cycle, the
//! repair of requests that lost their answer, the issuing of invoice documents, the scheduled
//! reconciliation with the provider — and the signal that stops it all.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use projections::Projector;
use tokio::task::JoinHandle;

use crate::provider::sandbox::SandboxProvider;
use crate::usecases::invoices::InvoiceService;
use crate::usecases::operators::reconcile::Reconciler;
use crate::usecases::operators::reconciliations;
use crate::usecases::repair::{PendingRequestRepair, GRACE};
use crate::usecases::trial_reminders::TrialReminders;

/// How often the sandbox looks for renewals and retries that fell due in real time.
const SANDBOX_CLOCK_POLL: Duration = Duration::from_secs(30);

/// How often requests whose answer was lost are looked for.
const REPAIR_POLL: Duration = Duration::from_secs(30);

/// How often finalized invoices whose document is not yet issued are looked for.
const ISSUE_POLL: Duration = Duration::from_secs(10);

/// How often the projector looks for events it has not applied (commands also trigger it).
const PROJECTOR_POLL: Duration = Duration::from_secs(1);

/// Every so often, completes the requests whose provider answer was lost (a crash between the
/// two facts of a refund or a new subscription).
pub(super) fn spawn_repair_loop(repair: Arc<PendingRequestRepair>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(REPAIR_POLL);
        loop {
            ticks.tick().await;
            match repair.run_once(GRACE).await {
                Ok(0) => {}
                Ok(settled) => tracing::info!(settled, "pending requests completed"),
                Err(error) => {
                    tracing::warn!(%error, "completing pending requests failed; will retry")
                }
            }
        }
    })
}

/// Every so often, issues the documents of finalized invoices that have none recorded yet (a
/// crash between finalization and issuance, or a document that could not be issued then).
pub(super) fn spawn_issuing_loop(invoices: Arc<InvoiceService>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(ISSUE_POLL);
        // An invoice that cannot be issued (amounts billstream cannot reconcile) is logged once
        // and not tried again by this process; a download still tries, and says why.
        let mut unissuable = HashSet::new();
        loop {
            ticks.tick().await;
            match invoices.issue_pending(&unissuable).await {
                Ok((issued, failed)) => {
                    if issued > 0 {
                        tracing::info!(issued, "invoice documents issued");
                    }
                    unissuable.extend(failed);
                }
                Err(error) => tracing::warn!(%error, "issuing pending invoice documents failed"),
            }
        }
    })
}

/// Every `poll`, asks the subscriptions whose trial ends within three days to record their
/// reminder (the mailer sends it).
pub(super) fn spawn_trial_reminder_loop(
    reminders: TrialReminders,
    poll: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(poll);
        loop {
            ticks.tick().await;
            match reminders.run_once().await {
                Ok(0) => {}
                Ok(asked) => tracing::debug!(asked, "trial reminders looked at"),
                Err(error) => tracing::warn!(%error, "looking for trials ending soon failed"),
            }
        }
    })
}

/// Catches every projection up at start (events committed while no projector ran) and then
/// keeps polling, so an event whose post-commit catch-up failed is still applied.
pub(super) fn spawn_projector_loop(projector: Arc<Projector>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match projector.catch_up().await {
                Ok(0) => {}
                Ok(applied) => tracing::info!(applied, "projections caught up"),
                Err(error) => tracing::error!(%error, "projector catch-up failed; will retry"),
            }
            tokio::time::sleep(PROJECTOR_POLL).await;
        }
    })
}

/// How far back Stripe lists events: the window of a first run.
const PROVIDER_RETENTION: chrono::Duration = chrono::Duration::days(30);

/// Every `interval`, feeds the inbox the provider's events it never received and brings the
/// objects behind the provider's forward (`Reconciler`). Each run's window
/// starts one interval before the last run's end, so consecutive windows overlap (an event
/// created while a run was listing is seen by the next) and a server stopped for a while looks
/// back over all it missed, up to what the provider keeps.
pub(super) fn spawn_reconcile_loop(
    reconciler: Arc<Reconciler>,
    pool: sqlx::SqlitePool,
    interval: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let overlap = chrono::Duration::from_std(interval).unwrap_or(PROVIDER_RETENTION);
        let mut ticks = tokio::time::interval(interval);
        // The first tick is immediate: wait one interval, so a restart loop does not list.
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let oldest = chrono::Utc::now() - PROVIDER_RETENTION;
            let since = match reconciliations::last_until(&pool).await {
                Ok(last) => last.map_or(oldest, |until| (until - overlap).max(oldest)),
                Err(error) => {
                    tracing::warn!(%error, "cannot read the last reconciliation; will retry");
                    continue;
                }
            };
            match reconciler.run(since, false).await {
                Ok(report) if report.repaired.is_empty() && report.objects.repaired.is_empty() => {
                    tracing::debug!(
                        listed = report.listed,
                        objects = report.objects.checked,
                        "reconciled: nothing missing"
                    )
                }
                Ok(report) => tracing::warn!(
                    listed = report.listed,
                    missing = report.missing.len(),
                    repaired = report.repaired.len(),
                    objects = report.objects.checked,
                    objects_repaired = report.objects.repaired.len(),
                    "reconciled: what billstream never heard of was repaired from the provider"
                ),
                Err(error) => tracing::warn!(%error, "reconciliation failed; will retry"),
            }
        }
    })
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; draining requests");
}

/// Lets the sandbox renew and retry as real time passes, as Stripe would.
pub(super) fn spawn_sandbox_clock_loop(sandbox: SandboxProvider) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(SANDBOX_CLOCK_POLL);
        loop {
            ticks.tick().await;
            if let Err(error) = sandbox.run_due().await {
                tracing::warn!(%error, "the sandbox's billing cycle failed; will retry");
            }
        }
    })
}
