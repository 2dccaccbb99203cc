//! The table rows of each phase: which reference each figure is divided by, and the target
//! the issue sets for the ratio.

use std::time::Duration;

use billstream_bench::load::{self, LoadReport};

use crate::phases::{logins, stream};
use crate::references::InsertFigures;
use crate::report::{Figure, Report};
use crate::run::References;
use crate::sizes::{FULL, SHORT_STREAM};

pub fn record_references(
    report: &mut Report,
    direct: &InsertFigures,
    via_sqlx: &InsertFigures,
    health: &LoadReport,
    hello: &LoadReport,
) {
    report.reference(
        "direct SQLite, 1 event-log row per transaction (rusqlite, synchronous=FULL)",
        Figure::rate(direct.single_rows_per_s, "rows/s").with_p99(direct.single_p99),
    );
    report.reference(
        "direct SQLite, 100 event-log rows per transaction (rusqlite, synchronous=FULL)",
        Figure::rate(direct.batched_rows_per_s, "rows/s"),
    );
    report.reference(
        "the service's GET /health, 64 connections",
        Figure::load(health, "req/s"),
    );
    report.extra_measure(
        "raw SQLite through sqlx, 1 row/tx (the async hop alone)",
        Figure::rate(via_sqlx.single_rows_per_s, "rows/s").with_p99(via_sqlx.single_p99),
        direct.single_rows_per_s,
        "direct 1 row/tx",
    );
    report.extra_measure(
        "raw SQLite through sqlx, 100 rows/tx (the async hop alone)",
        Figure::rate(via_sqlx.batched_rows_per_s, "rows/s"),
        direct.batched_rows_per_s,
        "direct 100 rows/tx",
    );
    report.extra_measure(
        "axum hello world, 64 connections (no middleware, no state)",
        Figure::load(hello, "req/s"),
        health.per_second(),
        "GET /health",
    );
}

pub fn record_commands(
    report: &mut Report,
    refs: &References,
    pairs: &LoadReport,
    singles: &[Duration],
    alone: &[Duration],
) {
    report.measure(
        "commands: create-intent + confirm on the sandbox, 16 connections (pairs)",
        Figure::load(pairs, "pairs/s"),
        refs.direct.single_rows_per_s,
        "direct 1 row/tx",
        None,
    );
    report.measure_latency(
        "commands: p99 of one command (create-intent or confirm), 16 clients",
        load::quantile(singles, 0.99),
        refs.direct.single_p99,
        "direct p99 of a 1-row tx",
        20.0,
    );
    report.measure_latency(
        "commands: p99 of one command, one client at a time (no queueing)",
        load::quantile(alone, 0.99),
        refs.direct.single_p99,
        "direct p99 of a 1-row tx",
        5.0,
    );
}

pub fn record_streams(report: &mut Report, streams: &stream::Streams) {
    report.measure_latency(
        &format!(
            "commands: p50 of a profile update on a customer with {} events, one client",
            streams.long_events
        ),
        load::quantile(&streams.long, 0.5),
        load::quantile(&streams.short, 0.5),
        &format!("p50 on a customer with {SHORT_STREAM} events"),
        2.0,
    );
    report.note(format!(
        "stream length: the long stream's first {} events made by sequential PATCH /api/auth/profile, the rest but one copies of them appended directly (sequential updates would cost the square of the length), the last one an untimed warm-up update that replays them all and writes the customer's snapshot (checked to cover the whole stream), {:.1} s in all; {} timed updates on each customer, alternating, each adding an event (the short stream goes from {SHORT_STREAM} to {}){}",
        streams.seeded,
        streams.grown_in.as_secs_f64(),
        streams.long.len(),
        SHORT_STREAM + streams.short.len(),
        if streams.long_events != FULL.long_stream {
            format!(
                "; this run's long stream has {} events, not the full run's {}",
                streams.long_events, FULL.long_stream
            )
        } else {
            String::new()
        }
    ));
}

pub fn record_logins(report: &mut Report, logins: &logins::LoginFigures) {
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
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
