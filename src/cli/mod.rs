//! The command line: `serve` (default), `migrate`, `migrate-to`, `replay`, `snapshot`,
//! `events`, `inbox`, `reconcile`, `mail`, `backup`, `restore`.

mod backup;
mod events;
mod inbox;
mod mail;
mod migrate_to;
mod reconcile;
mod replay;
mod snapshot;

use clap::{Parser, Subcommand};

use crate::app::{shutdown_signal, Application};
use crate::config::Config;
use crate::store::pool as db;

/// billstream: an event-sourced billing service.
#[derive(Debug, Parser)]
#[command(name = "billstream", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Copy this database's event log into a PostgreSQL database, in order (resumable).
    MigrateTo(migrate_to::MigrateToArgs),
    /// Rebuild views from the event log beside the live ones and swap them in (or `--verify`).
    Replay(replay::ReplayArgs),
    /// Write every view as it stood at a past time or log position into a new SQLite file.
    Snapshot(snapshot::SnapshotArgs),
    /// Print events as JSON lines, in commit order.
    Events(events::EventsArgs),
    /// Inspect or re-queue stored Stripe webhook events.
    Inbox(inbox::InboxArgs),
    /// Feed the webhook inbox the provider's events it never received, and record the run.
    Reconcile(reconcile::ReconcileArgs),
    /// Inspect the e-mail queued and sent (the outbox and the local mailbox).
    Mail(mail::MailArgs),
    /// Write a consistent copy of the database while the service runs.
    Backup(backup::BackupArgs),
    /// Put a backup in place of the database (checked first; refused while a server runs).
    Restore(backup::RestoreArgs),
}

/// Runs the parsed command line.
pub async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(config).await?;
            app.run_until_stopped(shutdown_signal()).await?;
        }
        Command::Migrate => {
            let pool = db::connect(&config).await?;
            db::migrate(&pool).await?;
            eprintln!("migrations applied to {}", config.database_url);
            if let Some(shared) = &config.shared_log {
                let settings = crate::store::postgres::PgSettings::default();
                let log = crate::store::postgres::connect(shared.url.expose(), &settings).await?;
                crate::store::postgres::migrate(&log).await?;
                eprintln!("migrations applied to the shared PostgreSQL database");
            }
        }
        Command::MigrateTo(args) => migrate_to::run(&config, args).await?,
        Command::Replay(args) => replay::run(&config, args).await?,
        Command::Snapshot(args) => snapshot::run(&config, args).await?,
        Command::Events(args) => events::run(&config, args).await?,
        Command::Inbox(args) => inbox::run(&config, args).await?,
        Command::Reconcile(args) => {
            if config.shared_log.is_some() {
                anyhow::bail!("billstream reconcile appends to this node's own log; on PostgreSQL set RECONCILE_INTERVAL on the nodes instead");
            }
            reconcile::run(&config, args).await?
        }
        Command::Mail(args) => mail::run(&config, args).await?,
        Command::Backup(args) => backup::run_backup(&config, args).await?,
        Command::Restore(args) => backup::run_restore(&config, args).await?,
    }
    Ok(())
}
