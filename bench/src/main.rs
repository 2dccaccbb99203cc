//! billstream's benchmarks: the release binary on loopback with a fresh database, every figure
//! next to a reference measured in the same run on the same machine.
//!
//! `cargo run --release -p billstream-bench` (full run, writes BENCHMARKS.md);
//! `cargo run -p billstream-bench -- --quick --output target/bench-quick.md` (CI's short run:
//! small sizes, fails on any lost or failed request, not on speed).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use billstream_bench::api::{register, Customer, PASSWORD};
use billstream_bench::events;
use billstream_bench::load::{self, closed_loop, open_loop, LoadReport};
use billstream_bench::machine;
use billstream_bench::profile::Profile;
use billstream_bench::replay_log::grow_log;
use billstream_bench::service::{
    build_service_binary, free_port, run_measured, workspace_root, Service, ServiceSpec,
};
use clap::Parser;
use serde_json::{json, Value};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqliteConnection};

mod report;
use report::{Figure, Report};

#[derive(Parser)]
#[command(about = "Measures billstream against same-run references and writes BENCHMARKS.md")]
struct Args {
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
    /// Keep the run's databases, logs and profiles (their directory is printed).
    #[arg(long)]
    keep: bool,
    /// Internal: serve the hello-world reference on this port.
    #[arg(long, hide = true)]
    serve_hello: Option<u16>,
}

/// Sizes of one run.
struct Sizes {
    raw_single: usize,
    raw_batches: usize,
    hello: usize,
    webhooks: usize,
    commands: usize,
    reads: usize,
    history_payments: usize,
    replay_events: u64,
    login_seconds: f64,
}

const FULL: Sizes = Sizes {
    raw_single: 2_000,
    raw_batches: 300,
    hello: 40_000,
    webhooks: 20_000,
    commands: 2_000,
    reads: 20_000,
    history_payments: 1_000,
    replay_events: 1_000_000,
    login_seconds: 10.0,
};

const QUICK: Sizes = Sizes {
    raw_single: 200,
    raw_batches: 20,
    hello: 2_000,
    webhooks: 1_000,
    commands: 100,
    reads: 1_000,
    history_payments: 200,
    replay_events: 20_000,
    login_seconds: 2.0,
};

const CONNECTIONS: usize = 64;
const COMMAND_CONNECTIONS: usize = 16;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(port) = args.serve_hello {
        return serve_hello(port);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(args))
}

/// The reference web server: axum's hello world, on a runtime like billstream's.
fn serve_hello(port: u16) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let app =
                axum::Router::new().route("/", axum::routing::get(|| async { "Hello, World!" }));
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
            axum::serve(listener, app).await?;
            Ok(())
        })
}

async fn run(args: Args) -> anyhow::Result<()> {
    let mut sizes = if args.quick { QUICK } else { FULL };
    if let Some(events) = args.replay_events {
        sizes.replay_events = events;
    }
    let command_line = if args.quick {
        format!(
            "cargo run -p billstream-bench -- --quick --output {}",
            args.output.display()
        )
    } else {
        "cargo run --release -p billstream-bench".to_owned()
    };
    eprintln!("building the service binary…");
    let binary = build_service_binary()?;
    let work = tempfile::Builder::new()
        .prefix("bench-")
        .tempdir_in(workspace_root().join("target"))?;
    let mut report = Report::new(machine::describe(work.path()), command_line, args.quick);

    eprintln!("references: raw SQLite…");
    let raw = raw_sqlite(&work.path().join("raw.db"), &sizes).await?;
    report.reference(
        "raw SQLite, 1 event-log row per transaction (synchronous=FULL)",
        Figure::rate(raw.single_rows_per_s, "rows/s").with_p99(raw.single_p99),
    );
    report.reference(
        "raw SQLite, 100 event-log rows per transaction (synchronous=FULL)",
        Figure::rate(raw.batched_rows_per_s, "rows/s"),
    );

    eprintln!("references: axum hello world…");
    let hello = hello_world(&sizes).await?;
    ensure!(
        hello.failed == 0,
        "{} hello-world requests failed",
        hello.failed
    );
    report.reference(
        "axum hello world, 64 connections",
        Figure::load(&hello, "req/s"),
    );

    let spec = ServiceSpec {
        binary,
        database: work.path().join("billstream.db"),
        port: free_port()?,
        bcrypt_cost: 12,
        log_file: work.path().join("billstream.log"),
    };
    let service = Service::start(&spec).await?;
    let client = load::client(CONNECTIONS);
    let ingest_customer = register(&client, &service.base, "ingest@example.com").await?;

    let profile = |phase: &str| {
        args.perf
            .then(|| Profile::start(service.pid(), work.path(), phase))
            .flatten()
    };
    let mut profiles: Vec<(String, Option<String>)> = Vec::new();
    let finish = |running: Option<Profile>| running.and_then(|profile| profile.finish(25));

    eprintln!("webhook ingest…");
    let running = profile("ingest");
    let (ingest, applied_after) = webhook_ingest(
        &client,
        &service.base,
        &spec,
        &ingest_customer,
        sizes.webhooks,
    )
    .await?;
    ensure!(
        ingest.failed == 0,
        "{} webhooks were not acknowledged",
        ingest.failed
    );
    report.measure(
        "webhook ingest: signed events acknowledged, 64 connections",
        Figure::load(&ingest, "events/s"),
        raw.batched_rows_per_s,
        "raw 100 rows/tx",
        Some(0.5),
    );
    report.note(format!(
        "all {} webhook events applied to the projections {:.2} s after the first was sent ({:.0} events/s end to end)",
        sizes.webhooks,
        applied_after.as_secs_f64(),
        sizes.webhooks as f64 / applied_after.as_secs_f64()
    ));

    profiles.push((
        "webhook ingest, until every event is applied".into(),
        finish(running),
    ));
    eprintln!("commands…");
    let running = profile("commands");
    let (pairs, commands) = create_and_confirm(
        &client,
        &service.base,
        COMMAND_CONNECTIONS,
        sizes.commands,
        "commands",
    )
    .await?;
    ensure!(
        pairs.failed == 0,
        "{} create+confirm pairs failed",
        pairs.failed
    );
    report.measure(
        "commands: create-intent + confirm on the sandbox, 16 connections (pairs)",
        Figure::load(&pairs, "pairs/s"),
        raw.single_rows_per_s,
        "raw 1 row/tx",
        None,
    );
    report.measure_latency(
        "commands: p99 of one command (create-intent or confirm)",
        load::quantile(&commands, 0.99),
        raw.single_p99,
        "p99 of a raw 1-row tx",
        3.0,
    );

    profiles.push(("commands".into(), finish(running)));
    let (_, alone) =
        create_and_confirm(&client, &service.base, 1, sizes.commands / 10, "alone").await?;
    report.measure_latency(
        "commands: p99 of one command, one client at a time (no queueing)",
        load::quantile(&alone, 0.99),
        raw.single_p99,
        "p99 of a raw 1-row tx",
        3.0,
    );
    eprintln!("reads…");
    let reads = history_reads(&client, &service.base, &spec, &sizes, |phase| {
        profile(phase)
    })
    .await?;
    profiles.push(("reads (history page)".into(), finish(reads.1)));
    let reads = reads.0;
    ensure!(reads.failed == 0, "{} history reads failed", reads.failed);
    report.measure(
        &format!(
            "reads: payment-history page of a customer with {} payments, 64 connections",
            sizes.history_payments
        ),
        Figure::load(&reads, "req/s"),
        hello.per_second(),
        "hello world",
        Some(0.25),
    );

    eprintln!("logins beside webhooks…");
    let logins = logins_beside_webhooks(
        &client,
        &service.base,
        &ingest_customer,
        ingest.per_second(),
        sizes.login_seconds,
    )
    .await?;
    report.measure_latency(
        &format!(
            "webhook p99 with logins at 2x bcrypt capacity ({:.1} logins/s; {:.0} webhooks/s open loop)",
            logins.login_rate, logins.webhook_rate
        ),
        logins.with_logins.quantile(0.99),
        logins.without_logins.quantile(0.99),
        "webhook p99 without logins",
        1.2,
    );
    report.note(format!(
        "logins: {} answered 200 of {} sent, p50 {:.0} ms, p99 {:.0} ms; webhooks without logins p50 {:.2} ms, with logins p50 {:.2} ms",
        logins.logins.completed,
        logins.logins.completed + logins.logins.failed,
        ms(logins.logins.quantile(0.5)),
        ms(logins.logins.quantile(0.99)),
        ms(logins.without_logins.quantile(0.5)),
        ms(logins.with_logins.quantile(0.5)),
    ));
    service.stop()?;
    for (phase, hottest) in profiles {
        if let Some(hottest) = hottest {
            report.profile(&phase, hottest);
        }
    }

    eprintln!("replay: growing the log to {} events…", sizes.replay_events);
    let events = grow_log(&spec.database_url(), sizes.replay_events).await?;
    let scan = raw_scan(&spec.database_url()).await?;
    report.reference(
        &format!("raw full scan of the {events}-event log (ORDER BY position)"),
        Figure::rate(scan, "rows/s"),
    );
    let mut replay_profile = None;
    let (status, elapsed, peak_rss) = run_measured(spec.cli_command(&["replay"]), |pid| {
        if args.perf {
            replay_profile = Profile::start(pid, work.path(), "replay");
        }
    })?;
    if let Some(hottest) = replay_profile.and_then(|profile| profile.finish(25)) {
        report.profile("replay (the replay process)", hottest);
    }
    ensure!(status.success(), "replay failed: {status}");
    let replay_rate = events as f64 / elapsed.as_secs_f64();
    report.measure(
        &format!("replay: every projection rebuilt from {events} events (whole process)"),
        Figure::rate(replay_rate, "events/s"),
        scan,
        "raw scan",
        Some(0.3),
    );
    report.memory(
        "replay: peak resident memory of the replay process",
        peak_rss,
        200 * 1024 * 1024,
    );

    let markdown = report.markdown();
    print!("{}", report.table());
    std::fs::write(&args.output, markdown)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprintln!("written to {}", args.output.display());
    if args.keep {
        eprintln!("kept the run's files in {}", work.keep().display());
    }
    Ok(())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

struct RawFigures {
    single_rows_per_s: f64,
    single_p99: Duration,
    batched_rows_per_s: f64,
}

/// Inserts into a table shaped like the event log, at billstream's durability.
async fn raw_sqlite(path: &std::path::Path, sizes: &Sizes) -> anyhow::Result<RawFigures> {
    let mut conn = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .connect()
        .await?;
    sqlx::query(
        "CREATE TABLE events (aggregate_type text NOT NULL, aggregate_id text NOT NULL,
           sequence integer NOT NULL, event_type text NOT NULL, event_version text NOT NULL,
           payload text NOT NULL, metadata text NOT NULL, position integer,
           recorded_at text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
           PRIMARY KEY (aggregate_type, aggregate_id, sequence)) STRICT",
    )
    .execute(&mut conn)
    .await?;
    let payload = json!({"PaymentSucceeded": {"amount": 1000, "currency": "eur",
        "payment_intent_id": "pi_3Q0000000000000000000000", "succeeded_at": "2026-11-24T10:00:00Z"}})
    .to_string();
    let mut latencies = Vec::with_capacity(sizes.raw_single);
    let started = Instant::now();
    for i in 0..sizes.raw_single {
        let sent = Instant::now();
        let mut tx = conn.begin().await?;
        insert_raw(&mut tx, i, &payload).await?;
        tx.commit().await?;
        latencies.push(sent.elapsed());
    }
    let single_rows_per_s = sizes.raw_single as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    let started = Instant::now();
    let mut next = sizes.raw_single;
    for _ in 0..sizes.raw_batches {
        let mut tx = conn.begin().await?;
        for _ in 0..100 {
            insert_raw(&mut tx, next, &payload).await?;
            next += 1;
        }
        tx.commit().await?;
    }
    let batched_rows_per_s = (sizes.raw_batches * 100) as f64 / started.elapsed().as_secs_f64();
    Ok(RawFigures {
        single_rows_per_s,
        single_p99: load::quantile(&latencies, 0.99),
        batched_rows_per_s,
    })
}

async fn insert_raw(conn: &mut SqliteConnection, i: usize, payload: &str) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata, position)
         VALUES ('Payment', ?, 1, 'PaymentSucceeded', '1', ?, '{}', ?)",
    )
    .bind(format!("{i:032x}"))
    .bind(payload)
    .bind(i as i64)
    .execute(conn)
    .await?;
    Ok(())
}

/// Reads every row of the log in position order, decoding each column.
async fn raw_scan(database_url: &str) -> anyhow::Result<f64> {
    use futures::TryStreamExt;
    let options: SqliteConnectOptions = database_url.parse()?;
    let mut conn = options.connect().await?;
    let started = Instant::now();
    let mut rows = sqlx::query_as::<_, (String, String, i64, String, String, String, String, i64)>(
        "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                metadata, position FROM events ORDER BY position",
    )
    .fetch(&mut conn);
    let mut count = 0u64;
    let mut bytes = 0usize;
    while let Some(row) = rows.try_next().await? {
        count += 1;
        bytes += row.5.len();
    }
    std::hint::black_box(bytes);
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

async fn hello_world(sizes: &Sizes) -> anyhow::Result<LoadReport> {
    let port = free_port()?;
    let mut server = std::process::Command::new(std::env::current_exe()?)
        .args(["--serve-hello", &port.to_string()])
        .spawn()?;
    let client = load::client(CONNECTIONS);
    let url = format!("http://127.0.0.1:{port}/");
    let deadline = Instant::now() + Duration::from_secs(10);
    while client.get(&url).send().await.is_err() {
        if Instant::now() > deadline {
            bail!("the hello-world server did not start");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let report = closed_loop(CONNECTIONS, sizes.hello, |_| {
        let (client, url) = (&client, &url);
        async move { matches!(client.get(url).send().await, Ok(r) if r.status().is_success()) }
    })
    .await;
    server.kill()?;
    server.wait()?;
    Ok(report)
}

/// Posts `count` signed events (a success then a partial refund per PaymentIntent) at 64
/// connections; returns the acknowledgements and the time until every event was applied.
async fn webhook_ingest(
    client: &reqwest::Client,
    base: &str,
    spec: &ServiceSpec,
    customer: &Customer,
    count: usize,
) -> anyhow::Result<(LoadReport, Duration)> {
    let now = chrono::Utc::now().timestamp();
    let bodies: Vec<String> = (0..count)
        .map(|i| {
            let intent = format!("pi_ingest{:07}", i / 2);
            let id = format!("evt_ingest{i:08}");
            if i % 2 == 0 {
                events::payment_succeeded(&id, &intent, &customer.stripe_customer_id, 1000, now)
            } else {
                events::charge_refunded(
                    &id,
                    &intent,
                    &customer.stripe_customer_id,
                    1000,
                    &[100],
                    now + 1,
                )
            }
        })
        .collect();
    let started = Instant::now();
    let report = closed_loop(CONNECTIONS, count, |i| {
        events::deliver(client, base, bodies[i].clone())
    })
    .await;
    let applied = wait_until_applied(spec, Duration::from_secs(600)).await?;
    Ok((report, applied.duration_since(started)))
}

/// Waits until the inbox has nothing pending and every projection has the whole log.
async fn wait_until_applied(spec: &ServiceSpec, limit: Duration) -> anyhow::Result<Instant> {
    let options: SqliteConnectOptions = spec.database_url().parse()?;
    let mut conn = options.connect().await?;
    let deadline = Instant::now() + limit;
    loop {
        let (pending, behind): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM stripe_inbox WHERE status = 'pending'),
                    (SELECT COUNT(*) FROM projection_checkpoints
                      WHERE position < (SELECT COALESCE(MAX(position), 0) FROM events))",
        )
        .fetch_one(&mut conn)
        .await?;
        if pending == 0 && behind == 0 {
            return Ok(Instant::now());
        }
        if Instant::now() > deadline {
            bail!("{pending} events still pending after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Create-intent then confirm, `pairs` times at 16 connections over 8 customers. Returns the
/// pairs and each single command's latency.
async fn create_and_confirm(
    client: &reqwest::Client,
    base: &str,
    connections: usize,
    pairs: usize,
    name: &str,
) -> anyhow::Result<(LoadReport, Vec<Duration>)> {
    let mut customers = Vec::new();
    for i in 0..connections.min(8) {
        customers.push(register(client, base, &format!("{name}{i}@example.com")).await?);
    }
    let singles = Arc::new(Mutex::new(Vec::with_capacity(pairs * 2)));
    let report = closed_loop(connections, pairs, |i| {
        let customer = &customers[i % customers.len()];
        let singles = singles.clone();
        async move {
            let sent = Instant::now();
            let Ok(created) = client
                .post(format!("{base}/api/payments/create-intent"))
                .bearer_auth(&customer.token)
                .json(&json!({"amount": 1999, "currency": "eur", "description": "bench"}))
                .send()
                .await
            else {
                return false;
            };
            if created.status() != reqwest::StatusCode::CREATED {
                return false;
            }
            let Ok(created) = created.json::<Value>().await else {
                return false;
            };
            let between = Instant::now();
            let Ok(confirmed) = client
                .post(format!("{base}/api/payments/confirm"))
                .bearer_auth(&customer.token)
                .json(&json!({"payment_intent_id": created["payment_intent_id"], "payment_method": "pm_card_visa"}))
                .send()
                .await
            else {
                return false;
            };
            let ok = confirmed.status().is_success()
                && confirmed.json::<Value>().await.is_ok_and(|body| body["status"] == "succeeded");
            let mut singles = singles.lock().expect("not poisoned");
            singles.push(between.duration_since(sent));
            singles.push(between.elapsed());
            ok
        }
    })
    .await;
    let mut singles = Arc::try_unwrap(singles)
        .expect("load finished")
        .into_inner()
        .expect("not poisoned");
    singles.sort();
    Ok((report, singles))
}

/// Gives a customer `history_payments` payments, then reads their history's first page.
async fn history_reads(
    client: &reqwest::Client,
    base: &str,
    spec: &ServiceSpec,
    sizes: &Sizes,
    profile: impl Fn(&str) -> Option<Profile>,
) -> anyhow::Result<(LoadReport, Option<Profile>)> {
    let reader = register(client, base, "history@example.com").await?;
    let now = chrono::Utc::now().timestamp();
    let seeded = closed_loop(CONNECTIONS, sizes.history_payments, |i| {
        events::deliver(
            client,
            base,
            events::payment_succeeded(
                &format!("evt_history{i:06}"),
                &format!("pi_history{i:06}"),
                &reader.stripe_customer_id,
                500 + i as i64,
                now,
            ),
        )
    })
    .await;
    ensure!(seeded.failed == 0, "seeding the history failed");
    wait_until_applied(spec, Duration::from_secs(300)).await?;
    let url = format!("{base}/api/payments/history");
    let first: Value = client
        .get(&url)
        .bearer_auth(&reader.token)
        .send()
        .await?
        .json()
        .await?;
    ensure!(
        first["data"]
            .as_array()
            .is_some_and(|page| !page.is_empty()),
        "the history is empty: {first}"
    );
    let running = profile("reads");
    let report = closed_loop(CONNECTIONS, sizes.reads, |_| {
        let (url, token) = (&url, &reader.token);
        async move {
            matches!(client.get(url).bearer_auth(token).send().await, Ok(r) if r.status().is_success())
        }
    })
    .await;
    Ok((report, running))
}

struct LoginFigures {
    login_rate: f64,
    webhook_rate: f64,
    without_logins: LoadReport,
    with_logins: LoadReport,
    logins: LoadReport,
}

/// Webhooks at a quarter of the measured ingest rate, open loop, alone and then with logins
/// arriving at twice what bcrypt can verify on this machine.
async fn logins_beside_webhooks(
    client: &reqwest::Client,
    base: &str,
    customer: &Customer,
    ingest_rate: f64,
    seconds: f64,
) -> anyhow::Result<LoginFigures> {
    let hash = bcrypt::hash(PASSWORD, 12)?;
    let started = Instant::now();
    for _ in 0..3 {
        bcrypt::verify(PASSWORD, &hash)?;
    }
    let per_hash = started.elapsed().as_secs_f64() / 3.0;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    // billstream verifies on (cores - 1) threads, at least one.
    let capacity = cores.saturating_sub(1).max(1) as f64 / per_hash;
    let login_rate = 2.0 * capacity;
    let webhook_rate = (ingest_rate / 4.0).max(50.0);
    let webhook_total = (webhook_rate * seconds) as usize;
    let now = chrono::Utc::now().timestamp();
    let stripe_customer = customer.stripe_customer_id.clone();
    let webhooks = |round: &'static str| {
        let client = client.clone();
        let base = base.to_owned();
        let stripe_customer = stripe_customer.clone();
        move |i: usize| {
            let body = events::payment_succeeded(
                &format!("evt_{round}{i:07}"),
                &format!("pi_{round}{i:07}"),
                &stripe_customer,
                700,
                now,
            );
            let (client, base) = (client.clone(), base.clone());
            async move { events::deliver(&client, &base, body).await }
        }
    };
    let without_logins = open_loop(webhook_rate, webhook_total, webhooks("alone")).await;
    let login_total = (login_rate * seconds).ceil() as usize;
    let login = {
        let client = client.clone();
        let url = format!("{base}/api/auth/login");
        let email = customer.email.clone();
        move |_: usize| {
            let (client, url, email) = (client.clone(), url.clone(), email.clone());
            async move {
                matches!(client.post(&url).json(&json!({"email": email, "password": PASSWORD})).send().await,
                    Ok(r) if r.status().is_success())
            }
        }
    };
    let (with_logins, logins) = tokio::join!(
        open_loop(webhook_rate, webhook_total, webhooks("beside")),
        open_loop(login_rate, login_total, login)
    );
    ensure!(
        without_logins.failed == 0 && with_logins.failed == 0,
        "webhooks failed during the login run"
    );
    Ok(LoginFigures {
        login_rate,
        webhook_rate,
        without_logins,
        with_logins,
        logins,
    })
}
