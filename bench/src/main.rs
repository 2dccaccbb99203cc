//! billstream's benchmarks: the release binary on loopback with a fresh database, every figure
//! next to a reference measured in the same run on the same machine, and each ratio compared
//! with the committed report.
//!
//! `cargo run --release -p billstream-bench` (full run, writes BENCHMARKS.md);
//! `cargo run -p billstream-bench -- --quick --output target/bench-quick.md` (CI's short run:
//! small sizes, fails on any lost or failed request, not on speed).
//!
//! The references: SQLite called directly (`references::direct`) for every storage-bound
//! figure, the service's own `GET /health` for every HTTP-bound one. The earlier references
//! (SQLite through sqlx, axum's hello world) stay as extra rows.

mod phases;
mod references;
mod regression;
mod report;
mod rows;
mod run;
mod sizes;

use std::path::PathBuf;

use clap::Parser;

#[derive(Parser)]
#[command(about = "Measures billstream against same-run references and writes BENCHMARKS.md")]
pub struct Args {
    /// Small sizes for CI: checks that every part runs and loses nothing.
    #[arg(long)]
    quick: bool,
    /// Where the report goes.
    #[arg(long, default_value = "BENCHMARKS.md")]
    output: PathBuf,
    /// Record a CPU profile of the service (Linux `perf`) during each phase and add the
    /// hottest functions to the report.
    #[arg(long)]
    perf: bool,
    /// Size of the replayed log (default: 1,000,000; 20,000 with --quick).
    #[arg(long)]
    replay_events: Option<u64>,
    /// Events in the long customer stream of the stream-length check (default: 10,000;
    /// 1,000 with --quick), e.g. the full size in a quick debug run.
    #[arg(long)]
    long_stream: Option<usize>,
    /// Keep the run's databases, logs and profiles (their directory is printed).
    #[arg(long)]
    keep: bool,
    /// Internal: serve the hello-world reference on this port.
    #[arg(long, hide = true)]
    serve_hello: Option<u16>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(port) = args.serve_hello {
        return references::http::serve_hello(port);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run::run(args))
}
