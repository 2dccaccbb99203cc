//! `billstream backup --out FILE` and `billstream restore --from FILE [--database PATH]`: a
//! consistent copy taken while the service runs, and putting one back once it is stopped.

use std::path::PathBuf;

use clap::Args;

use crate::config::Config;
use crate::store::backup::{self, Inspection};
use crate::store::lock::database_path;
use crate::store::pool as db;

/// Where to write the copy.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The new file (refused if it exists).
    #[arg(long)]
    pub out: PathBuf,
}

/// What to restore, and where.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup (any billstream database file).
    #[arg(long)]
    pub from: PathBuf,
    /// The database to replace (default: the file DATABASE_URL names).
    #[arg(long)]
    pub database: Option<PathBuf>,
}

fn describe(inspection: &Inspection) -> String {
    format!(
        "{} events (log complete), {} aggregates, schema {}, {:.1} MiB",
        inspection.events,
        inspection.aggregates,
        inspection.schema_version,
        inspection.bytes as f64 / (1024.0 * 1024.0)
    )
}

/// Writes the copy and prints what it holds.
pub async fn run_backup(config: &Config, args: BackupArgs) -> anyhow::Result<()> {
    // Connecting would create a missing database: back up only one that exists.
    if let Some(path) = database_path(&config.database_url)?.filter(|path| !path.is_file()) {
        anyhow::bail!("no database at {}", path.display());
    }
    let pool = db::connect(config).await?;
    let started = std::time::Instant::now();
    let inspection = backup::backup(&pool, &args.out).await?;
    pool.close().await;
    println!(
        "backed up to {} in {:.2} s: {}",
        args.out.display(),
        started.elapsed().as_secs_f64(),
        describe(&inspection)
    );
    Ok(())
}

/// Checks the backup, then puts it in place of the (stopped) database.
pub async fn run_restore(config: &Config, args: RestoreArgs) -> anyhow::Result<()> {
    let target = match args.database {
        Some(path) => path,
        None => database_path(&config.database_url)?
            .ok_or_else(|| anyhow::anyhow!("DATABASE_URL names no file; pass --database"))?,
    };
    let restored = backup::restore(&args.from, &target).await?;
    println!(
        "restored {} to {}: {}",
        args.from.display(),
        target.display(),
        describe(&restored.inspection)
    );
    if let Some(replaced) = restored.replaced {
        println!("the database it replaced is kept as {}", replaced.display());
    }
    println!("start the server: it applies newer migrations and catches its views up");
    Ok(())
}
