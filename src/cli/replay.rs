//! `billstream replay [--projection NAME]… [--verify]`: rebuild views from the log beside the
//! live ones and swap them in, or only compare them (`--verify`), while servers keep running.

use std::sync::Arc;

use anyhow::bail;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use projections::Projector;

use crate::config::Config;
use crate::store::lock::{database_path, DatabaseLock};
use crate::store::pool as db;

/// Which views, and whether to swap them in.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A view to rebuild (repeatable; all views when none is given).
    #[arg(long = "projection", value_name = "NAME")]
    pub projections: Vec<String>,
    /// Only compare the rebuilt views with the live ones: print what differs and exit 1 on
    /// drift, leaving the live views as they are.
    #[arg(long)]
    pub verify: bool,
}

/// Rebuilds (or verifies) the chosen views with a progress bar showing events/s and time left.
pub async fn run(config: &Config, args: ReplayArgs) -> anyhow::Result<()> {
    // A server's share of the database: runs beside live servers, never beside a restore.
    let _lock = database_path(&config.database_url)?
        .map(|path| DatabaseLock::shared(&path))
        .transpose()?;
    let pool = db::connect(config).await?;
    db::migrate(&pool).await?;
    let projector = Arc::new(Projector::with_all_projections(pool.clone()));
    let selected = projector.select(&args.projections).map_err(|error| {
        anyhow::anyhow!(
            "{error}; the views are {}",
            projector.view_names().join(", ")
        )
    })?;
    let names: Vec<&str> = selected
        .iter()
        .map(|projection| projection.name())
        .collect();
    let bar = ProgressBar::new(0);
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} events ({per_sec}, eta {eta})",
    )?);
    let progress_bar = bar.clone();
    let on_progress = move |position: i64, head: i64| {
        progress_bar.set_length(head.max(0) as u64);
        progress_bar.set_position(position.max(0) as u64);
    };
    if args.verify {
        let drifts = projector.verify(&selected, &on_progress).await?;
        bar.finish_and_clear();
        if drifts.is_empty() {
            println!(
                "verified {}: equal to a rebuild from the log",
                names.join(", ")
            );
            return Ok(());
        }
        for drift in &drifts {
            println!("{drift}");
        }
        bail!(
            "{} rows differ from a rebuild from the log; the live views are left as they are \
             (`billstream replay` rebuilds them)",
            drifts.len()
        );
    }
    let claim = projector.claim(selected)?;
    let report = projector.rebuild(&claim, &on_progress).await?;
    bar.finish_and_clear();
    println!(
        "rebuilt {} from {} events in {:.2} s ({:.0} events/s); swapped in at position {} in {:.1} ms \
         ({} events appended meanwhile applied in the swap)",
        names.join(", "),
        report.events,
        report.elapsed.as_secs_f64(),
        report.events_per_second(),
        report.position,
        report.swap.as_secs_f64() * 1000.0,
        report.swap_events,
    );
    Ok(())
}
