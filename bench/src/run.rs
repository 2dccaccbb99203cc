//! One benchmark run, start to end: the references, the service's phases, the replay, the
//! ratios into the report, and the comparison with the committed report.

use std::time::Duration;

use anyhow::{ensure, Context};
use billstream_bench::api::register;
use billstream_bench::load::{self, LoadReport};
use billstream_bench::machine;
use billstream_bench::profile::Profile;
use billstream_bench::replay_log::grow_log;
use billstream_bench::service::{
    build_service_binary, free_port, run_measured, workspace_root, Service, ServiceSpec,
};

use crate::phases::{commands, ingest, logins, reads, stream};
use crate::references::{direct, http, through_sqlx, InsertFigures};
use crate::regression;
use crate::report::{Figure, Report};
use crate::rows::{record_commands, record_logins, record_references, record_streams};
use crate::sizes::{Sizes, COMMAND_CONNECTIONS, CONNECTIONS, FULL, QUICK};
use crate::Args;

/// The ceiling on the time from the last webhook acknowledgement to all applied.
const APPLIED_WITHIN: Duration = Duration::from_secs(2);

/// What the references measured, for the ratios.
pub struct References {
    pub direct: InsertFigures,
    pub health: LoadReport,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut sizes = if args.quick { QUICK } else { FULL };
    if let Some(events) = args.replay_events {
        sizes.replay_events = events;
    }
    if let Some(events) = args.long_stream {
        sizes.long_stream = events;
    }
    let mut command_line = if args.quick {
        format!(
            "cargo run -p billstream-bench -- --quick --output {}",
            args.output.display()
        )
    } else {
        "cargo run --release -p billstream-bench".to_owned()
    };
    if let Some(events) = args.long_stream {
        command_line.push_str(&format!(" --long-stream {events}"));
    }
    // Read before this run writes anything: by default it writes BENCHMARKS.md itself.
    let committed = regression::committed(&workspace_root());
    eprintln!("building the service binary…");
    let binary = build_service_binary()?;
    let work = tempfile::Builder::new()
        .prefix("bench-")
        .tempdir_in(workspace_root().join("target"))?;
    let mut report = Report::new(machine::describe(work.path()), command_line, args.quick);

    eprintln!("references: SQLite called directly, and through sqlx…");
    let direct = direct::inserts(
        work.path().join("direct.db"),
        sizes.direct_single,
        sizes.direct_batches,
    )
    .await?;
    let via_sqlx = through_sqlx::inserts(
        &work.path().join("sqlx.db"),
        sizes.sqlx_single,
        sizes.sqlx_batches,
    )
    .await?;
    let version = through_sqlx::sqlite_version().await?;
    ensure!(
        version == direct::sqlite_version(),
        "rusqlite calls SQLite {} but sqlx calls {version}: the references would not run the service's SQLite",
        direct::sqlite_version()
    );
    report.note(format!(
        "SQLite {version} in every reference: rusqlite and sqlx report the same library, the one libsqlite3-sys of the build, which the service links too; direct references: rusqlite on a plain thread, cached prepared statements, WAL, synchronous=FULL"
    ));

    let spec = ServiceSpec {
        binary,
        database: work.path().join("billstream.db"),
        shared_log: None,
        port: free_port()?,
        bcrypt_cost: 12,
        log_file: work.path().join("billstream.log"),
    };
    let service = Service::start(&spec).await?;
    let client = load::client(CONNECTIONS);
    eprintln!("references: the service's GET /health, axum hello world…");
    let health = http::health(&client, &service.base, sizes.http).await;
    ensure!(
        health.failed == 0,
        "{} /health requests failed",
        health.failed
    );
    let hello = http::hello_world(sizes.http).await?;
    ensure!(
        hello.failed == 0,
        "{} hello-world requests failed",
        hello.failed
    );
    record_references(&mut report, &direct, &via_sqlx, &health, &hello);
    let refs = References { direct, health };

    let profile = |phase: &str| {
        args.perf
            .then(|| Profile::start(service.pid(), work.path(), phase))
            .flatten()
    };
    let finish = |running: Option<Profile>| running.and_then(|profile| profile.finish(25));
    let mut profiles: Vec<(String, Option<String>)> = Vec::new();
    let ingest_customer = register(&client, &service.base, "ingest@example.com").await?;

    eprintln!("webhook ingest…");
    let running = profile("ingest");
    let ingest = ingest::webhook_ingest(
        &client,
        &service.base,
        &spec,
        &ingest_customer,
        sizes.webhooks,
    )
    .await?;
    profiles.push((
        "webhook ingest, until every event is applied".into(),
        finish(running),
    ));
    ensure!(
        ingest.load.failed == 0,
        "{} webhooks were not acknowledged",
        ingest.load.failed
    );
    report.measure(
        "webhook ingest: signed events acknowledged, 64 connections",
        Figure::load(&ingest.load, "events/s"),
        refs.health.per_second(),
        "GET /health",
        Some(0.4),
    );
    report.within(
        "webhook ingest: from the last acknowledgement to every event applied",
        ingest.last_ack_to_applied,
        APPLIED_WITHIN,
    );
    report.note(format!(
        "all {} webhook events applied to the projections {:.2} s after the first was sent ({:.0} events/s end to end)",
        sizes.webhooks,
        ingest.first_sent_to_applied.as_secs_f64(),
        sizes.webhooks as f64 / ingest.first_sent_to_applied.as_secs_f64()
    ));

    eprintln!("commands…");
    let running = profile("commands");
    let (pairs, singles) = commands::create_and_confirm(
        &client,
        &service.base,
        COMMAND_CONNECTIONS,
        sizes.commands,
        "commands",
    )
    .await?;
    profiles.push(("commands".into(), finish(running)));
    ensure!(
        pairs.failed == 0,
        "{} create+confirm pairs failed",
        pairs.failed
    );
    let (alone_pairs, alone) =
        commands::create_and_confirm(&client, &service.base, 1, sizes.commands / 10, "alone")
            .await?;
    ensure!(
        alone_pairs.failed == 0,
        "{} create+confirm pairs of a lone client failed",
        alone_pairs.failed
    );
    record_commands(&mut report, &refs, &pairs, &singles, &alone);

    eprintln!(
        "commands on a long stream: growing a customer's to {} events…",
        sizes.long_stream
    );
    let streams = stream::long_and_short(
        &client,
        &service.base,
        &spec,
        sizes.long_stream,
        sizes.stream_commands,
    )
    .await?;
    record_streams(&mut report, &streams);

    eprintln!("reads…");
    let (reads, running) = reads::history_reads(&client, &service.base, &spec, &sizes, |phase| {
        profile(phase)
    })
    .await?;
    profiles.push(("reads (history page)".into(), finish(running)));
    ensure!(reads.failed == 0, "{} history reads failed", reads.failed);
    report.measure(
        &format!(
            "reads: payment-history page of a customer with {} payments, 64 connections",
            sizes.history_payments
        ),
        Figure::load(&reads, "req/s"),
        refs.health.per_second(),
        "GET /health",
        Some(0.3),
    );

    eprintln!("logins beside webhooks…");
    let logins = logins::logins_beside_webhooks(
        &client,
        &service.base,
        &ingest_customer,
        ingest.load.per_second(),
        sizes.login_seconds,
    )
    .await?;
    record_logins(&mut report, &logins);
    service.stop()?;
    for (phase, hottest) in profiles {
        if let Some(hottest) = hottest {
            report.profile(&phase, hottest);
        }
    }

    replay(&args, &sizes, &spec, work.path(), &mut report).await?;

    let lines = regression::compare(committed.as_ref(), &report.guarded_ratios(), args.quick);
    for line in lines
        .iter()
        .filter(|line| line.starts_with("possible regression"))
    {
        eprintln!("{line}");
    }
    report.against_committed(lines);
    print!("{}", report.table());
    std::fs::write(&args.output, report.markdown())
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprintln!("written to {}", args.output.display());
    if args.keep {
        eprintln!("kept the run's files in {}", work.keep().display());
    }
    Ok(())
}

/// Grows the service's log, scans it directly (the reference) and through sqlx (an extra),
/// then times the replay process and its peak memory.
async fn replay(
    args: &Args,
    sizes: &Sizes,
    spec: &ServiceSpec,
    work: &std::path::Path,
    report: &mut Report,
) -> anyhow::Result<()> {
    eprintln!("replay: growing the log to {} events…", sizes.replay_events);
    let events = grow_log(&spec.database_url(), sizes.replay_events).await?;
    let (scanned, scan) = direct::scan(spec.database.clone()).await?;
    ensure!(
        scanned == events,
        "the direct scan read {scanned} of {events} events"
    );
    report.reference(
        &format!("direct full scan of the {events}-event log, ORDER BY position (rusqlite)"),
        Figure::rate(scan, "rows/s"),
    );
    let via_sqlx = through_sqlx::scan(&spec.database_url()).await?;
    report.extra_measure(
        "raw full scan through sqlx (each row decoded into owned values)",
        Figure::rate(via_sqlx, "rows/s"),
        scan,
        "direct scan",
    );
    let mut replay_profile = None;
    let (status, elapsed, peak_rss) = run_measured(spec.cli_command(&["replay"]), |pid| {
        if args.perf {
            replay_profile = Profile::start(pid, work, "replay");
        }
    })?;
    if let Some(hottest) = replay_profile.and_then(|profile| profile.finish(25)) {
        report.profile("replay (the replay process)", hottest);
    }
    ensure!(status.success(), "replay failed: {status}");
    report.measure(
        &format!("replay: every projection rebuilt from {events} events (whole process)"),
        Figure::rate(events as f64 / elapsed.as_secs_f64(), "events/s"),
        scan,
        "direct scan",
        Some(0.3),
    );
    report.memory(
        "replay: peak resident memory of the replay process",
        peak_rss,
        200 * 1024 * 1024,
    );
    Ok(())
}
