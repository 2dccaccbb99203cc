//! `billstream snapshot --as-of <RFC 3339 time | position> --out FILE.db`: every view as it
//! stood at a past moment of the log, written into a new SQLite file (the books as of a date).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::bail;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use projections::as_of::{self, AsOf};
use projections::Projector;

use crate::config::Config;
use crate::store::lock::{database_path, DatabaseLock};
use crate::store::pool as db;

/// The moment and the new file.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// A log position, or an RFC 3339 time (the last event committed at or before it).
    #[arg(long, value_name = "TIME|POSITION")]
    pub as_of: AsOf,
    /// The new SQLite file (refused if it exists).
    #[arg(long)]
    pub out: PathBuf,
}

/// Writes the views as of the moment asked into a new file and says where they stand.
pub async fn run(config: &Config, args: SnapshotArgs) -> anyhow::Result<()> {
    if args.out.exists() {
        bail!(
            "{} already exists; choose another file (a snapshot never overwrites one)",
            args.out.display()
        );
    }
    let _lock = database_path(&config.database_url)?
        .map(|path| DatabaseLock::shared(&path))
        .transpose()?;
    let pool = db::connect(config).await?;
    db::migrate(&pool).await?;
    let projector = Arc::new(Projector::with_all_projections(pool.clone()));
    let position = as_of::resolve_in(&pool, args.as_of).await?;
    let recorded_at: Option<String> =
        sqlx::query_scalar("SELECT recorded_at FROM events WHERE position = ?")
            .bind(position)
            .fetch_optional(&pool)
            .await?;
    let bar = ProgressBar::new(position.max(0) as u64);
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} events ({per_sec}, eta {eta})",
    )?);
    let progress_bar = bar.clone();
    let started = Instant::now();
    let written = projector
        .write_views_as_of(&args.out, position, &move |reached, _| {
            progress_bar.set_position(reached.max(0) as u64)
        })
        .await;
    bar.finish_and_clear();
    if let Err(error) = written {
        // A half-written file is no snapshot.
        let _ = std::fs::remove_file(&args.out);
        return Err(error.into());
    }
    println!(
        "wrote the views as of position {position} ({}) to {} in {:.2} s",
        recorded_at.as_deref().unwrap_or("before the first event"),
        args.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
