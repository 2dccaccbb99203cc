//! The `billstream` binary: parse the command line, load `.env` and the configuration, run.

use clap::Parser;

use billstream::cli::{self, Cli};
use billstream::config::Config;
use billstream::telemetry;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // A missing .env is normal; the environment alone is enough.
    let _ = dotenvy::dotenv();
    let config = Config::from_env()?;
    telemetry::init(config.log_format);
    cli::run(cli, config).await
}
