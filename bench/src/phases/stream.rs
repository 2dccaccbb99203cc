//! Stream length: is a command on an aggregate with a long history slower than on one with a
//! short history? Without snapshots cqrs-es rebuilds the aggregate from all of its events for
//! every command; a customer's stream is snapshotted (`SNAPSHOT_EVERY` events), so a command loads
//! the snapshot and the few events after it, whatever the length.
//!
//! The customer's profile is the stream the API grows most cheaply: each
//! `PATCH /api/auth/profile` that changes the name appends one event to the `Customer`
//! aggregate and nothing else. Growing it to 10,000 events that way would still take
//! minutes, since every update reloads the whole stream (the cost grows with the square of
//! the length, and the updates must be sequential: concurrent ones conflict). So the first
//! [`SEED`] events come from the API and the rest are copies of them appended to the stream
//! in one transaction, as the replay log is grown: the same events the API writes, at the
//! next sequence numbers, picked up by the projector like any other. The copies are made
//! behind the event store's back, so no snapshot covers them: the copies stop one event short
//! and one untimed warm-up update through the API makes the last event, and with it the
//! snapshot a long-lived customer would have had (the run checks that it covers the whole
//! stream). A long-lived customer whose snapshot was deleted pays the same one full replay on
//! its next command.

use std::time::{Duration, Instant};

use anyhow::ensure;
use billstream::store::snapshots::SNAPSHOT_EVERY;
use billstream_bench::api::{register, Customer};
use billstream_bench::service::ServiceSpec;
use serde_json::json;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};

use super::wait_until_applied;
use crate::sizes::SHORT_STREAM;

/// Events of the long stream made through the API before the copies.
pub const SEED: usize = 100;

/// What the stream-length check measured.
pub struct Streams {
    /// Events on the long stream before the timed commands.
    pub long_events: usize,
    /// Latency of each timed update of the long stream, sorted.
    pub long: Vec<Duration>,
    /// Latency of each timed update of the short stream, sorted.
    pub short: Vec<Duration>,
    /// Events of the long stream made through the API (the rest are copies of them).
    pub seeded: usize,
    /// Time taken to grow the long stream.
    pub grown_in: Duration,
}

/// Grows one customer's stream to `long_events` events and another's to
/// [`SHORT_STREAM`], then times `timed` updates of each, alternating between them so that
/// any drift of the machine falls on both alike. Each timed update adds one event to its
/// stream: the short one ends at `SHORT_STREAM + timed`.
pub async fn long_and_short(
    client: &reqwest::Client,
    base: &str,
    spec: &ServiceSpec,
    long_events: usize,
    timed: usize,
) -> anyhow::Result<Streams> {
    let options: SqliteConnectOptions = spec.database_url().parse()?;
    let mut conn = options.connect().await?;
    let long = register(client, base, "long-stream@example.com").await?;
    let short = register(client, base, "short-stream@example.com").await?;
    let started = Instant::now();
    let seeded = SEED.min(long_events);
    let registered = grow(client, base, &mut conn, &long, "Long", seeded).await?;
    copy_events(
        &mut conn,
        &long,
        registered,
        long_events.max(seeded + 1) - 1,
    )
    .await?;
    if stream_length(&mut conn, &long).await? < long_events {
        update(client, base, &long, "Long warm-up").await?;
    }
    let length = stream_length(&mut conn, &long).await?;
    ensure!(
        length == long_events,
        "the long stream has {length} events, not {long_events}"
    );
    let snapshot = snapshot_sequence(&mut conn, &long).await?;
    ensure!(
        long_events < SNAPSHOT_EVERY || snapshot == Some(long_events),
        "the long stream's snapshot covers {snapshot:?} events, not all {long_events}"
    );
    // The projector applies the copies before anything is timed.
    wait_until_applied(spec, Duration::from_secs(300)).await?;
    let grown_in = started.elapsed();
    grow(client, base, &mut conn, &short, "Short", SHORT_STREAM).await?;
    let mut long_times = Vec::with_capacity(timed);
    let mut short_times = Vec::with_capacity(timed);
    for k in 0..timed {
        long_times.push(update(client, base, &long, &format!("Long timed {k}")).await?);
        short_times.push(update(client, base, &short, &format!("Short timed {k}")).await?);
    }
    long_times.sort();
    short_times.sort();
    Ok(Streams {
        long_events,
        long: long_times,
        short: short_times,
        seeded,
        grown_in,
    })
}

/// Updates `customer`'s name until its stream holds `target` events, then checks the count;
/// returns the length it started from (the events registration made).
async fn grow(
    client: &reqwest::Client,
    base: &str,
    conn: &mut SqliteConnection,
    customer: &Customer,
    name: &str,
    target: usize,
) -> anyhow::Result<usize> {
    let start = stream_length(conn, customer).await?;
    ensure!(
        start <= target,
        "a new customer already has {start} events, more than {target}"
    );
    for n in start..target {
        update(client, base, customer, &format!("{name} {n}")).await?;
    }
    let length = stream_length(conn, customer).await?;
    ensure!(
        length == target,
        "{} updates gave a stream of {length} events, not {target}",
        target - start
    );
    Ok(start)
}

/// Appends copies of `customer`'s events after the first `registered` (the profile updates)
/// until the stream holds `target` events, in one transaction, then checks the count.
async fn copy_events(
    conn: &mut SqliteConnection,
    customer: &Customer,
    registered: usize,
    target: usize,
) -> anyhow::Result<()> {
    let updates: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT event_type, event_version, payload, metadata FROM events
          WHERE aggregate_type = 'Customer' AND aggregate_id = ? AND sequence > ?
          ORDER BY sequence",
    )
    .bind(&customer.id)
    .bind(registered as i64)
    .fetch_all(&mut *conn)
    .await?;
    let mut length = stream_length(conn, customer).await?;
    if length >= target {
        return Ok(());
    }
    ensure!(!updates.is_empty(), "no profile update to copy");
    let mut tx = conn.begin().await?;
    for (event_type, event_version, payload, metadata) in updates.iter().cycle() {
        if length >= target {
            break;
        }
        length += 1;
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                 event_version, payload, metadata)
             VALUES ('Customer', ?, ?, ?, ?, ?, ?)",
        )
        .bind(&customer.id)
        .bind(length as i64)
        .bind(event_type)
        .bind(event_version)
        .bind(payload)
        .bind(metadata)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let counted = stream_length(conn, customer).await?;
    ensure!(
        counted == target,
        "the copies gave a stream of {counted} events, not {target}"
    );
    Ok(())
}

/// The sequence of the last event `customer`'s snapshot covers, if it has one.
async fn snapshot_sequence(
    conn: &mut SqliteConnection,
    customer: &Customer,
) -> anyhow::Result<Option<usize>> {
    let sequence: Option<i64> = sqlx::query_scalar(
        "SELECT last_sequence FROM snapshots WHERE aggregate_type = 'Customer' AND aggregate_id = ?",
    )
    .bind(&customer.id)
    .fetch_optional(conn)
    .await?;
    Ok(sequence.map(usize::try_from).transpose()?)
}

async fn stream_length(conn: &mut SqliteConnection, customer: &Customer) -> anyhow::Result<usize> {
    let length: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events WHERE aggregate_type = 'Customer' AND aggregate_id = ?",
    )
    .bind(&customer.id)
    .fetch_one(conn)
    .await?;
    Ok(usize::try_from(length)?)
}

/// One profile update, answered in full; any failure fails the run (nothing may be lost).
async fn update(
    client: &reqwest::Client,
    base: &str,
    customer: &Customer,
    name: &str,
) -> anyhow::Result<Duration> {
    let sent = Instant::now();
    let response = client
        .patch(format!("{base}/api/auth/profile"))
        .bearer_auth(&customer.token)
        .json(&json!({ "name": name }))
        .send()
        .await?;
    let status = response.status();
    let body = response.bytes().await?;
    let elapsed = sent.elapsed();
    ensure!(
        status.is_success(),
        "a profile update failed: {status} {}",
        String::from_utf8_lossy(&body)
    );
    Ok(elapsed)
}
