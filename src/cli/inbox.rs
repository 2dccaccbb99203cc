//! `billstream inbox list|retry`: what the webhook inbox holds, and putting events back.
//! Databases written by versions before invoices were applied may hold `deferred` rows (invoice
//! events kept for later); nothing writes that status now, so it is not advertised, but such
//! rows are still listed and `retry --deferred` (hidden) queues them again.

use clap::{Args, Subcommand};
use serde_json::json;

use crate::config::Config;
use crate::inbox::{Inbox, NodeInbox, SharedInbox};
use crate::store::group_commit::{GroupCommit, GroupCommitSettings};
use crate::store::pool as db;
use crate::store::postgres::{self, PgSettings};
use projections::WriteGate;

/// Inspect or re-queue stored Stripe events.
#[derive(Debug, Args)]
pub struct InboxArgs {
    #[command(subcommand)]
    pub command: InboxCommand,
}

/// What to do with the inbox.
#[derive(Debug, Subcommand)]
pub enum InboxCommand {
    /// Print stored events as JSON lines, newest first.
    List {
        /// Only events in this status (pending, applied, ignored, unknown_customer, parked).
        #[arg(long)]
        status: Option<String>,
        /// At most this many events.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Queue events again: one by id, or every parked event.
    Retry {
        /// The Stripe event id (`evt_…`).
        event_id: Option<String>,
        /// Every parked event.
        #[arg(long, conflicts_with = "event_id")]
        parked: bool,
        /// Every event an older version stored as deferred.
        #[arg(long, hide = true, conflicts_with_all = ["event_id", "parked"])]
        deferred: bool,
    },
}

/// Runs an inbox command.
pub async fn run(config: &Config, args: InboxArgs) -> anyhow::Result<()> {
    let inbox = match &config.shared_log {
        // The nodes' shared inbox; this command never claims, so its name and lease are unused.
        Some(shared) => {
            let log = postgres::connect(shared.url.expose(), &PgSettings::default()).await?;
            postgres::migrate(&log).await?;
            Inbox::Shared(SharedInbox::new(log, "cli".into(), shared.inbox_claim))
        }
        None => {
            let pool = db::connect(config).await?;
            db::migrate(&pool).await?;
            let writer =
                GroupCommit::start(&pool, WriteGate::new(), GroupCommitSettings::default()).await?;
            Inbox::Node(NodeInbox::new(pool, writer))
        }
    };
    match args.command {
        InboxCommand::List { status, limit } => {
            for entry in inbox.list(status.as_deref(), limit).await? {
                println!("{}", json!(entry));
            }
        }
        InboxCommand::Retry {
            event_id,
            parked,
            deferred,
        } => {
            let status = if deferred { "deferred" } else { "parked" };
            if event_id.is_none() && !parked && !deferred {
                anyhow::bail!("name an event id, or pass --parked");
            }
            let requeued = inbox.requeue(event_id.as_deref(), status).await?;
            println!(
                "{requeued} event(s) queued again; a running service applies them within a second"
            );
        }
    }
    Ok(())
}
