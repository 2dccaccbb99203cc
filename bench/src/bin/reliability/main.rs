//! billstream's reliability harness: crashes under load, a storm of duplicated and shuffled
//! webhooks, contention on one payment. Every check is against billstream's own binary on
//! loopback with a real SQLite file — or on PostgreSQL's shared log (`--database`) — and any
//! loss or duplicate fails the run.
//!
//! `cargo run --release -p billstream-bench --bin reliability` (full run, writes
//! RELIABILITY.md); `--quick` for CI's short run.

use std::path::PathBuf;

use anyhow::Context;
use billstream_bench::machine;
use billstream_bench::service::{build_service_binary, free_port, workspace_root, ServiceSpec};
use clap::Parser;

mod bad_input;
mod client;
mod contention;
mod crash;
mod storm;

#[derive(Parser)]
#[command(about = "Crash, storm and contention checks; writes RELIABILITY.md")]
struct Args {
    /// Small sizes for CI.
    #[arg(long)]
    quick: bool,
    /// Where the report goes.
    #[arg(long, default_value = "RELIABILITY.md")]
    output: PathBuf,
    /// Seed of the random crash moments and delivery order (random when absent).
    #[arg(long)]
    seed: Option<u64>,
    /// Run on PostgreSQL's shared log: `postgres://user@host:port/database`. Each phase drops
    /// and creates a database of its own, `<database>_<phase>`, on that server.
    #[arg(long)]
    database: Option<String>,
}

/// Sizes of one run.
pub struct Sizes {
    pub crash_rounds: usize,
    pub storm_objects: usize,
    pub storm_deliveries: usize,
    pub contention_rounds: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let sizes = if args.quick {
        Sizes {
            crash_rounds: 3,
            storm_objects: 50,
            storm_deliveries: 1_000,
            contention_rounds: 3,
        }
    } else {
        Sizes {
            crash_rounds: 20,
            storm_objects: 500,
            storm_deliveries: 10_000,
            contention_rounds: 20,
        }
    };
    let seed = args.seed.unwrap_or_else(rand::random);
    eprintln!("building the service binary…");
    let binary = build_service_binary()?;
    let work = tempfile::Builder::new()
        .prefix("reliability-")
        .tempdir_in(workspace_root().join("target"))?;
    let database = args.database.clone();
    let spec = |name: &str| {
        let (binary, database) = (binary.clone(), database.clone());
        let (file, log_file) = (
            work.path().join(format!("{name}.db")),
            work.path().join(format!("{name}.log")),
        );
        let name = name.to_owned();
        async move {
            let shared_log = match &database {
                Some(url) => Some(billstream_bench::postgres::fresh_database(url, &name).await?),
                None => None,
            };
            anyhow::Ok(ServiceSpec {
                binary,
                database: file,
                shared_log,
                port: free_port()?,
                bcrypt_cost: 4,
                log_file,
            })
        }
    };
    let mut sections = Vec::new();

    eprintln!(
        "crash: {} rounds of kill -9 under load…",
        sizes.crash_rounds
    );
    let started = std::time::Instant::now();
    let crash = crash::run(&spec("crash").await?, sizes.crash_rounds, seed).await?;
    sections.push(crash.markdown());
    eprintln!(
        "  crash done after {:.1} s",
        started.elapsed().as_secs_f64()
    );

    eprintln!(
        "storm: {} deliveries over {} objects…",
        sizes.storm_deliveries, sizes.storm_objects
    );
    let storm = storm::run(
        &spec("storm").await?,
        sizes.storm_objects,
        sizes.storm_deliveries,
        seed,
    )
    .await?;
    sections.push(storm.markdown());
    eprintln!(
        "  storm done after {:.1} s",
        started.elapsed().as_secs_f64()
    );

    eprintln!(
        "contention: {} rounds of 50 concurrent confirms and refunds…",
        sizes.contention_rounds
    );
    let contention = contention::run(&spec("contention").await?, sizes.contention_rounds).await?;
    sections.push(contention.markdown());
    eprintln!(
        "  contention done after {:.1} s",
        started.elapsed().as_secs_f64()
    );

    eprintln!("bad input: the property tests…");
    let bad_input = bad_input::run()?;
    sections.push(bad_input.markdown());

    let command = if args.quick {
        format!(
            "cargo run -p billstream-bench --bin reliability -- --quick --output {}",
            args.output.display()
        )
    } else {
        "cargo run --release -p billstream-bench --bin reliability".to_owned()
    };
    let command = match (&args.database, args.quick) {
        (Some(_), true) => format!("{command} --database postgres://…"),
        (Some(_), false) => format!("{command} -- --database postgres://…"),
        (None, _) => command,
    };
    let mut out = String::from("# Reliability\n\n");
    if args.quick {
        out.push_str("_Short run (CI sizes)._\n\n");
    }
    if args.database.is_some() {
        // The server is the operator's; its URL (which may hold a password) is not printed.
        out.push_str("_On PostgreSQL: the event log shared (`--database postgres://…`), each phase on a fresh database; the node's own state in its SQLite file._\n\n");
    }
    out.push_str(&format!(
        "- Run: {}\n- Machine: {}\n- Command: `{command}` (seed {seed})\n- Losses found: {}\n\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine::describe(work.path()),
        crash.losses + storm.losses + contention.losses + bad_input.losses,
    ));
    for section in sections {
        out.push_str(&section);
        out.push('\n');
    }
    print!("{out}");
    std::fs::write(&args.output, &out)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let losses = crash.losses + storm.losses + contention.losses + bad_input.losses;
    anyhow::ensure!(losses == 0, "{losses} losses or duplicates found");
    Ok(())
}
