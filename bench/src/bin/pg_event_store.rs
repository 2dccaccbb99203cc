//! billstream's event store on PostgreSQL, measured against PostgreSQL itself in the same run:
//! commands (a payment's creation: load, decide, append with its global position) by one
//! client and by many, on one node and on two nodes sharing the database, next to one-row and
//! hundred-row durable transactions through one connection (what `pgbench` would time).
//!
//! `cargo run --release -p billstream-bench --bin pg_event_store -- --database postgres://…`
//! on an empty scratch database (it refuses one that holds events). Prints a Markdown table.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aggregates::money::{Amount, Currency};
use aggregates::payment::{CreatePayment, Payment, PaymentCommand};
use anyhow::{ensure, Context};
use billstream::store::postgres::{connect, log, migrate, PgSettings};
use billstream::store::{pg_cqrs_for, PgCqrs};
use billstream_bench::load::quantile;
use clap::Parser;
use sqlx::PgPool;

#[derive(Parser)]
#[command(about = "Measures the PostgreSQL event store against PostgreSQL in the same run")]
struct Args {
    /// An empty scratch database: `postgres://user@127.0.0.1:5432/bench`.
    #[arg(long)]
    database: String,
    /// Concurrent clients in the many-clients phases.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Commands (or reference transactions) per phase.
    #[arg(long, default_value_t = 4_000)]
    commands: usize,
}

/// What a phase measured.
struct Figures {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

fn figures(mut latencies: Vec<Duration>, elapsed: Duration, units: usize) -> Figures {
    latencies.sort();
    Figures {
        per_second: units as f64 / elapsed.as_secs_f64(),
        p50: quantile(&latencies, 0.50),
        p99: quantile(&latencies, 0.99),
    }
}

const REFERENCE_TABLE: &str = "CREATE TABLE reference_rows (
    aggregate_type text NOT NULL, aggregate_id text NOT NULL, sequence bigint NOT NULL,
    event_type text NOT NULL, event_version text NOT NULL, payload jsonb NOT NULL,
    metadata jsonb NOT NULL, PRIMARY KEY (aggregate_type, aggregate_id, sequence))";

const REFERENCE_PAYLOAD: &str =
    r#"{"PaymentCreated":{"amount":2000,"currency":"eur","customer_id":"cust-1"}}"#;

/// One connection, one durable transaction of `rows` event-shaped rows at a time.
async fn reference(pool: &PgPool, transactions: usize, rows: usize) -> anyhow::Result<Figures> {
    let mut conn = pool.acquire().await?;
    let mut latencies = Vec::with_capacity(transactions);
    let started = Instant::now();
    for transaction in 0..transactions {
        let sent = Instant::now();
        let ids: Vec<String> = (0..rows)
            .map(|row| format!("ref-{rows}-{transaction}-{row}"))
            .collect();
        sqlx::query(
            "INSERT INTO reference_rows
             SELECT 'Payment', id, 1, 'PaymentCreated', '1.0', $2::jsonb, '{}'::jsonb
               FROM UNNEST($1::text[]) AS id",
        )
        .bind(&ids)
        .bind(REFERENCE_PAYLOAD)
        .execute(&mut *conn)
        .await?;
        latencies.push(sent.elapsed());
    }
    Ok(figures(latencies, started.elapsed(), transactions * rows))
}

fn create(id: &str) -> PaymentCommand {
    PaymentCommand::Create(CreatePayment {
        customer_id: "cust-1".into(),
        payment_intent_id: id.into(),
        client_secret: format!("{id}_secret"),
        amount: Amount::parse("amount", 2_000).expect("a valid amount"),
        currency: Currency::parse("currency", "eur").expect("a valid currency"),
        description: None,
        metadata: BTreeMap::new(),
        created_at: chrono::Utc::now(),
    })
}

/// `commands` payment creations by `clients` clients spread over `nodes`.
async fn commands(
    nodes: &[Arc<PgCqrs<Payment>>],
    phase: &str,
    clients: usize,
    commands: usize,
) -> anyhow::Result<Figures> {
    let per_client = commands / clients;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let cqrs = nodes[client % nodes.len()].clone();
        let phase = phase.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            for command in 0..per_client {
                let id = format!("pi_{phase}_{client}_{command}");
                let sent = Instant::now();
                cqrs.execute(&id, create(&id)).await?;
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::with_capacity(commands);
    for task in tasks {
        latencies.extend(task.await??);
    }
    Ok(figures(latencies, started.elapsed(), per_client * clients))
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    ensure!(args.clients >= 2, "--clients must be at least 2");
    let settings = PgSettings {
        max_connections: args.clients as u32,
        ..PgSettings::default()
    };
    let first = connect(&args.database, &settings)
        .await
        .context("cannot connect to --database")?;
    let second = connect(&args.database, &settings).await?;
    migrate(&first).await?;
    ensure!(
        log::head(&first).await? == 0,
        "the database holds events: give an empty scratch database"
    );
    sqlx::query("DROP TABLE IF EXISTS reference_rows")
        .execute(&first)
        .await?;
    sqlx::query(REFERENCE_TABLE).execute(&first).await?;
    let version: String = sqlx::query_scalar("SHOW server_version")
        .fetch_one(&first)
        .await?;
    let synchronous: String = sqlx::query_scalar("SHOW synchronous_commit")
        .fetch_one(&first)
        .await?;

    let single = reference(&first, args.commands, 1).await?;
    let hundred = reference(&first, (args.commands / 100).max(10), 100).await?;
    let one_node = [Arc::new(pg_cqrs_for::<Payment>(first.clone(), ()))];
    let two_nodes = [
        one_node[0].clone(),
        Arc::new(pg_cqrs_for::<Payment>(second.clone(), ())),
    ];
    let alone = commands(&one_node, "alone", 1, args.commands).await?;
    let many = commands(&one_node, "one", args.clients, args.commands).await?;
    let both = commands(&two_nodes, "two", args.clients, args.commands).await?;
    let positions = log::head(&first).await?;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&first)
        .await?;
    ensure!(
        positions == stored,
        "{stored} events at {positions} positions"
    );

    println!("PostgreSQL {version}, synchronous_commit={synchronous}; {positions} events appended, positions 1 to {positions} with no gap\n");
    println!("| measure | rate | p50 | p99 | ratio |");
    println!("|---|---|---|---|---|");
    let row = |name: &str, figures: &Figures, unit: &str, ratio: String| {
        println!(
            "| {name} | {:.0} {unit}/s | {} | {} | {ratio} |",
            figures.per_second,
            ms(figures.p50),
            ms(figures.p99)
        );
    };
    row(
        "reference: one-row transaction, one connection",
        &single,
        "rows",
        "—".into(),
    );
    row(
        "reference: 100-row transactions, one connection",
        &hundred,
        "rows",
        "—".into(),
    );
    let p99_ratio = alone.p99.as_secs_f64() / single.p99.as_secs_f64();
    row(
        "command alone (one node, one client)",
        &alone,
        "commands",
        format!("p99 {p99_ratio:.1}× the one-row transaction's"),
    );
    let ratio = |figures: &Figures| {
        format!(
            "{:.2}× the 100-row reference's rows/s",
            figures.per_second / hundred.per_second
        )
    };
    row(
        &format!("commands, one node, {} clients", args.clients),
        &many,
        "commands",
        ratio(&many),
    );
    row(
        &format!("commands, two nodes, {} clients", args.clients),
        &both,
        "commands",
        ratio(&both),
    );
    Ok(())
}
