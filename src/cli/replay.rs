//! `billstream replay`: rebuild every projection from the log.

use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use projections::Projector;

use crate::config::Config;
use crate::store::pool as db;

/// Rebuilds all projections with a progress bar and prints the rate at the end.
pub async fn run(config: &Config) -> anyhow::Result<()> {
    let pool = db::connect(config).await?;
    db::migrate(&pool).await?;
    let projector = Arc::new(Projector::with_all_projections(pool.clone()));
    let bar = ProgressBar::new(0);
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} events ({per_sec}, eta {eta})",
    )?);
    let progress_bar = bar.clone();
    let report = projector
        .replay(&move |position, head| {
            progress_bar.set_length(head.max(0) as u64);
            progress_bar.set_position(position.max(0) as u64);
        })
        .await?;
    bar.finish_and_clear();
    println!(
        "replayed {} events in {:.2} s ({:.0} events/s)",
        report.events,
        report.elapsed.as_secs_f64(),
        report.events_per_second()
    );
    Ok(())
}
