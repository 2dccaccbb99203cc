//! The longest write latency while `billstream replay` rebuilds every view of a long log beside
//! a live server: `cargo run --release -p billstream-bench --bin rebuild_under_load --
//! --events 1000000`. Seeds a log with real requests, grows it by copies (as the main bench
//! does), brings the views up, starts the service, then measures writes (create-intent) from
//! several clients for a while alone and again while the replay runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::ensure;
use billstream_bench::api::register;
use billstream_bench::load::{client, quantile};
use billstream_bench::replay_log::grow_log;
use billstream_bench::service::{
    build_service_binary, free_port, workspace_root, Service, ServiceSpec,
};
use clap::Parser;
use serde_json::{json, Value};

#[derive(Parser)]
#[command(about = "Longest write latency during a shadow rebuild of a long log")]
struct Args {
    /// Size of the log to rebuild.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Concurrent writing clients.
    #[arg(long, default_value_t = 4)]
    writers: usize,
    /// Seconds of writes measured without a rebuild, for comparison.
    #[arg(long, default_value_t = 5)]
    baseline_seconds: u64,
}

/// Write latencies seen by the clients over one stretch.
struct Writes {
    latencies: Vec<Duration>,
    failed: usize,
}

impl Writes {
    fn describe(&self) -> String {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        format!(
            "{} writes ({} failed), p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            sorted.len(),
            self.failed,
            quantile(&sorted, 0.5).as_secs_f64() * 1e3,
            quantile(&sorted, 0.99).as_secs_f64() * 1e3,
            sorted.last().copied().unwrap_or_default().as_secs_f64() * 1e3
        )
    }
}

/// Creates payment intents from `tokens` (one client task each) until `stop`.
async fn write_until(base: &str, tokens: &[String], stop: Arc<AtomicBool>) -> Writes {
    let http = client(tokens.len());
    let tasks: Vec<_> = tokens
        .iter()
        .map(|token| {
            let (http, url, token, stop) = (
                http.clone(),
                format!("{base}/api/payments/create-intent"),
                token.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                let (mut latencies, mut failed) = (Vec::new(), 0);
                while !stop.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    let response = http
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({"amount": 1999, "currency": "eur"}))
                        .send()
                        .await;
                    latencies.push(sent.elapsed());
                    if !response.is_ok_and(|response| response.status() == 201) {
                        failed += 1;
                    }
                }
                (latencies, failed)
            })
        })
        .collect();
    let mut writes = Writes {
        latencies: Vec::new(),
        failed: 0,
    };
    for task in tasks {
        let (latencies, failed) = task.await.expect("a writer task");
        writes.latencies.extend(latencies);
        writes.failed += failed;
    }
    writes
}

/// Real requests of every kind the views follow: customers, payments confirmed and refunded.
async fn seed(base: &str) -> anyhow::Result<()> {
    let http = client(1);
    for i in 0..20 {
        let customer = register(&http, base, &format!("seed{i}@example.com")).await?;
        for amount in [1_500, 2_500, 4_000] {
            let created: Value = http
                .post(format!("{base}/api/payments/create-intent"))
                .bearer_auth(&customer.token)
                .json(&json!({"amount": amount, "currency": "eur"}))
                .send()
                .await?
                .json()
                .await?;
            let confirmed: Value = http
                .post(format!("{base}/api/payments/confirm"))
                .bearer_auth(&customer.token)
                .json(&json!({"payment_intent_id": created["payment_intent_id"], "payment_method": "pm_card_visa"}))
                .send()
                .await?
                .json()
                .await?;
            ensure!(confirmed["status"] == "succeeded", "seeding: {confirmed}");
            if amount == 4_000 {
                let refund = http
                    .post(format!(
                        "{base}/api/payments/{}/refund",
                        created["payment_id"].as_str().unwrap_or_default()
                    ))
                    .bearer_auth(&customer.token)
                    .json(&json!({"amount": 1_000}))
                    .send()
                    .await?;
                ensure!(refund.status().is_success(), "seeding: refund failed");
            }
        }
    }
    Ok(())
}

/// The copies are history: their e-mails went out long ago. Moves the mailer (which follows
/// the log like a view but is no view, so a replay leaves it) to the head, or the service would
/// first queue an e-mail for every copied payment before answering `/ready`.
async fn mailer_done_with_history(database_url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(database_url).await?;
    sqlx::query(
        "INSERT INTO projection_checkpoints (projection, position)
         VALUES ('mailer', (SELECT MAX(position) FROM events))
         ON CONFLICT (projection) DO UPDATE SET position = excluded.position",
    )
    .execute(&mut conn)
    .await?;
    conn.close().await?;
    Ok(())
}

async fn run(args: Args) -> anyhow::Result<()> {
    let binary = build_service_binary()?;
    let work = tempfile::Builder::new()
        .prefix("rebuild-bench-")
        .tempdir_in(workspace_root().join("target"))?;
    let spec = ServiceSpec {
        binary,
        database: work.path().join("billstream.db"),
        shared_log: None,
        port: free_port()?,
        bcrypt_cost: 4,
        log_file: work.path().join("billstream.log"),
    };
    let service = Service::start(&spec).await?;
    seed(&service.base).await?;
    service.stop()?;
    eprintln!("growing the log to {} events…", args.events);
    let events = grow_log(&spec.database_url(), args.events).await?;
    eprintln!("bringing the views up (a first replay, no server)…");
    spec.cli(&["replay"])?;
    mailer_done_with_history(&spec.database_url()).await?;

    let service = Service::start(&spec).await?;
    let http = client(1);
    let mut tokens = Vec::new();
    for i in 0..args.writers {
        tokens.push(
            register(&http, &service.base, &format!("writer{i}@example.com"))
                .await?
                .token,
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    let baseline = tokio::spawn({
        let (base, tokens, stop) = (service.base.clone(), tokens.clone(), stop.clone());
        async move { write_until(&base, &tokens, stop).await }
    });
    tokio::time::sleep(Duration::from_secs(args.baseline_seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let baseline = baseline.await?;
    eprintln!("without a rebuild: {}", baseline.describe());

    let stop = Arc::new(AtomicBool::new(false));
    let during = tokio::spawn({
        let (base, tokens, stop) = (service.base.clone(), tokens.clone(), stop.clone());
        async move { write_until(&base, &tokens, stop).await }
    });
    let replay_spec = spec.clone();
    let started = Instant::now();
    let replay = tokio::task::spawn_blocking(move || replay_spec.cli(&["replay"])).await??;
    let rebuild_seconds = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let during = during.await?;
    service.stop()?;
    ensure!(
        during.failed == 0,
        "{} writes failed during the rebuild",
        during.failed
    );
    println!("log: {events} events; {} writing clients", args.writers);
    println!("without a rebuild: {}", baseline.describe());
    println!(
        "during the rebuild ({rebuild_seconds:.1} s): {}",
        during.describe()
    );
    print!("replay: {}", String::from_utf8_lossy(&replay.stdout));
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(args))
}
