//! The `billstream` binary: parse the command line, load `.env` and the configuration, run.

use clap::Parser;

use billstream::cli::{self, Cli};
use billstream::config::Config;
use billstream::store::sqlite_process;
use billstream::telemetry;

/// mimalloc rather than glibc's malloc: the service allocates and frees small objects on every
/// request from many threads at once, where glibc's arenas took about 13% of the self time in a
/// history page's profile (`_int_malloc`, `_int_free`, `malloc_consolidate`). BENCHMARKS.md has
/// the comparison.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Before anything opens SQLite: afterwards SQLite no longer takes process-wide settings.
    let sqlite_configured = sqlite_process::configure_before_first_connection();
    let cli = Cli::parse();
    // A missing .env is normal; the environment alone is enough.
    let _ = dotenvy::dotenv();
    let config = Config::from_env()?;
    telemetry::init(config.log_format);
    if !sqlite_configured {
        tracing::warn!(
            "SQLite was initialised before its allocation statistics could be turned off"
        );
    }
    cli::run(cli, config).await
}
