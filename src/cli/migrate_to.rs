//! `billstream migrate-to --to postgres://…`: copies this SQLite database's event log into a
//! PostgreSQL database, in order, with every position, sequence, payload and commit time; the
//! claims (e-mails, invoice and credit-note numbers, plans) are made again as the events land
//! (`store::postgres::import`). The webhook inbox and the offline sandbox follow the log, each
//! row the target lacks.
//!
//! It reads committed events only, so it may run while the SQLite server does; run it again to
//! copy what was appended since (it goes on where the target's log ends). The PostgreSQL URL,
//! which may hold a password, is never printed.

use std::time::Duration;

use anyhow::Context;
use clap::Args;
use projections::event_log;

use crate::config::Config;
use crate::inbox::SharedInbox;
use crate::provider::sandbox;
use crate::store::pool as db;
use crate::store::postgres::{self, import, PgSettings};

/// Where to copy the log.
#[derive(Debug, Args)]
pub struct MigrateToArgs {
    /// The PostgreSQL database to copy the log into: `postgres://user:password@host:port/db`
    /// (add `?sslmode=require` for TLS). It is created by `createdb` beforehand; its schema is
    /// applied here.
    #[arg(long, value_name = "POSTGRES_URL")]
    pub to: String,
}

/// Events per transaction on the target.
const PAGE: i64 = 1_000;

/// Copies the log, then prints what it did.
pub async fn run(config: &Config, args: MigrateToArgs) -> anyhow::Result<()> {
    if !(args.to.starts_with("postgres://") || args.to.starts_with("postgresql://")) {
        anyhow::bail!("--to takes a PostgreSQL URL (postgres://user:password@host:port/database)");
    }
    let source = db::connect(config).await?;
    db::migrate(&source).await?;
    let target = postgres::connect(&args.to, &PgSettings::default())
        .await
        .context("cannot connect to the PostgreSQL database given by --to")?;
    postgres::migrate(&target)
        .await
        .context("cannot apply billstream's schema to the PostgreSQL database")?;

    let mut conn = source.acquire().await?;
    let source_head = event_log::head_position(&mut conn).await?;
    let start = postgres::log::head(&target).await?;
    if start > source_head {
        anyhow::bail!(
            "the PostgreSQL log holds {start} events, more than this database's {source_head}: it holds another log; nothing was copied"
        );
    }
    if start > 0 {
        // The target holds a copy already: go on only if it is this log's beginning.
        let last_copied = event_log::read_after(&mut conn, start - 1, 1).await?;
        if let Some(event) = last_copied.first() {
            import::check_same(&target, event)
                .await
                .context("nothing was copied")?;
        }
    }
    let began = std::time::Instant::now();
    let mut head = start;
    loop {
        let page = event_log::read_after(&mut conn, head, PAGE).await?;
        if page.is_empty() {
            break;
        }
        head = import::append_page(&target, &page).await?;
    }
    let copied = head - start;
    let seconds = began.elapsed().as_secs_f64().max(1e-9);
    println!(
        "copied {copied} events ({:.0} events/s); the PostgreSQL log ends at position {head}, as this database's does",
        copied as f64 / seconds
    );
    if start > 0 {
        println!(
            "the first {start} events were there from an earlier run and were checked, not copied"
        );
    }
    // The webhook inbox goes too, so that events acknowledged here and not yet applied are
    // applied by the nodes (the claim's holder and lease are never used by a copy).
    let inbox = SharedInbox::new(target.clone(), "migrate-to".into(), Duration::from_secs(1));
    let moved = inbox.adopt(&source).await?;
    println!("copied {moved} webhook events the PostgreSQL inbox did not hold");
    // And the offline sandbox, whose objects the copied events name.
    let moved = sandbox::adopt::adopt(&source, &target).await?;
    println!("copied {moved} sandbox rows the PostgreSQL sandbox did not hold");
    Ok(())
}
