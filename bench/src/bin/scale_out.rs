//! One node on SQLite, one node on PostgreSQL's shared log and two nodes on it, measured in
//! one run under the same load: the service's own `GET /health` (the HTTP limit of the
//! setup), create-intent + confirm pairs, the payment-history page, and durable webhook
//! ingest with the time until every node's views hold every event.
//!
//! `cargo run --release -p billstream-bench --bin scale_out -- --database postgres://…/bench`
//! (`BILLSTREAM_BINARY=target/release/billstream` to skip the build). Each PostgreSQL setup
//! drops and creates a database of its own, `<database>_scale_1` and `<database>_scale_2`, on
//! that server. Prints a Markdown table (and writes it to `--output` when given).
//!
//! Every node here runs the offline sandbox, whose payments live in the node that took them:
//! a customer is registered on one node and pays there; reads and webhooks are spread over
//! the nodes (the two events of one PaymentIntent go to the same node, as they are ordered).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use billstream_bench::api::{register, Customer};
use billstream_bench::load::{client, closed_loop, LoadReport};
use billstream_bench::service::{
    build_service_binary, free_port, workspace_root, Service, ServiceSpec,
};
use billstream_bench::{events, machine, postgres};
use clap::Parser;
use serde_json::{json, Value};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};

#[derive(Parser)]
#[command(about = "One SQLite node, one and two PostgreSQL nodes, under the same load")]
struct Args {
    /// A PostgreSQL server and database to name the scratch databases after.
    #[arg(long)]
    database: String,
    /// Smaller sizes (a check that every part runs).
    #[arg(long)]
    quick: bool,
    /// Also write the table here.
    #[arg(long)]
    output: Option<PathBuf>,
}

/// Connections of the health, reads and ingest phases; of the commands phase.
const CONNECTIONS: usize = 64;
const COMMAND_CONNECTIONS: usize = 16;

struct Sizes {
    health: usize,
    pairs: usize,
    reads: usize,
    webhooks: usize,
}

/// What one setup measured.
struct Figures {
    setup: &'static str,
    health: LoadReport,
    pairs: LoadReport,
    reads: LoadReport,
    ingest: LoadReport,
    last_ack_to_applied: Duration,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let sizes = if args.quick {
        Sizes {
            health: 5_000,
            pairs: 200,
            reads: 2_000,
            webhooks: 2_000,
        }
    } else {
        Sizes {
            health: 40_000,
            pairs: 2_000,
            reads: 20_000,
            webhooks: 20_000,
        }
    };
    let binary = build_service_binary()?;
    let work = tempfile::Builder::new()
        .prefix("scale-out-")
        .tempdir_in(workspace_root().join("target"))?;
    let mut rows = Vec::new();
    for (setup, nodes, shared) in [
        ("SQLite, one node", 1, false),
        ("PostgreSQL, one node", 1, true),
        ("PostgreSQL, two nodes", 2, true),
    ] {
        eprintln!("{setup}…");
        let shared_log = match shared {
            true => {
                Some(postgres::fresh_database(&args.database, &format!("scale_{nodes}")).await?)
            }
            false => None,
        };
        let specs = (0..nodes)
            .map(|n| {
                let name = format!("{}-{n}", setup.replace([',', ' '], ""));
                Ok(ServiceSpec {
                    binary: binary.clone(),
                    database: work.path().join(format!("{name}.db")),
                    shared_log: shared_log.clone(),
                    port: free_port()?,
                    bcrypt_cost: 4,
                    log_file: work.path().join(format!("{name}.log")),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut services = Vec::new();
        for spec in &specs {
            services.push(Service::start(spec).await?);
        }
        let figures = measure(setup, &services, &specs, shared_log.as_deref(), &sizes).await?;
        for service in services {
            service.stop()?;
        }
        rows.push(figures);
    }
    let table = markdown(&rows, &machine::describe(work.path()), args.quick);
    print!("{table}");
    if let Some(output) = &args.output {
        std::fs::write(output, &table)
            .with_context(|| format!("cannot write {}", output.display()))?;
    }
    Ok(())
}

async fn measure(
    setup: &'static str,
    services: &[Service],
    specs: &[ServiceSpec],
    shared_log: Option<&str>,
    sizes: &Sizes,
) -> anyhow::Result<Figures> {
    let http = client(CONNECTIONS);
    let bases: Vec<&str> = services
        .iter()
        .map(|service| service.base.as_str())
        .collect();
    let health = closed_loop(CONNECTIONS, sizes.health, |i| {
        let url = format!("{}/health", bases[i % bases.len()]);
        let http = &http;
        async move { matches!(http.get(url).send().await, Ok(r) if r.status().is_success()) }
    })
    .await;

    // Eight customers per node, each paying through the node that registered it.
    let mut customers: Vec<(usize, Customer)> = Vec::new();
    for (n, base) in bases.iter().enumerate() {
        for i in 0..8 {
            let email = format!("scale{n}-{i}@example.com");
            customers.push((n, register(&http, base, &email).await?));
        }
    }
    let pairs = closed_loop(COMMAND_CONNECTIONS, sizes.pairs, |i| {
        let (node, customer) = &customers[i % customers.len()];
        create_and_confirm(&http, bases[*node], customer)
    })
    .await;
    ensure!(
        pairs.failed == 0,
        "{}: {} pairs failed",
        setup,
        pairs.failed
    );

    let reads = closed_loop(CONNECTIONS, sizes.reads, |i| {
        let (_, customer) = &customers[i % customers.len()];
        let url = format!("{}/api/payments/history", bases[i % bases.len()]);
        let http = &http;
        async move {
            matches!(http.get(url).bearer_auth(&customer.token).send().await, Ok(r) if r.status().is_success())
        }
    })
    .await;
    ensure!(
        reads.failed == 0,
        "{}: {} reads failed",
        setup,
        reads.failed
    );

    let now = chrono::Utc::now().timestamp();
    let owner = &customers[0].1.stripe_customer_id;
    let bodies: Vec<String> = (0..sizes.webhooks)
        .map(|i| {
            let intent = format!("pi_scale{:07}", i / 2);
            let id = format!("evt_scale{i:08}");
            match i % 2 {
                0 => events::payment_succeeded(&id, &intent, owner, 1000, now),
                _ => events::charge_refunded(&id, &intent, owner, 1000, &[100], now + 1),
            }
        })
        .collect();
    let ingest = closed_loop(CONNECTIONS, sizes.webhooks, |i| {
        events::deliver(&http, bases[(i / 2) % bases.len()], bodies[i].clone())
    })
    .await;
    let last_ack = Instant::now();
    ensure!(
        ingest.failed == 0,
        "{}: {} webhooks refused",
        setup,
        ingest.failed
    );
    let mut applied = last_ack;
    for spec in specs {
        applied = applied.max(wait_until_applied(&spec.database, shared_log).await?);
    }
    Ok(Figures {
        setup,
        health,
        pairs,
        reads,
        ingest,
        last_ack_to_applied: applied.duration_since(last_ack),
    })
}

async fn create_and_confirm(http: &reqwest::Client, base: &str, customer: &Customer) -> bool {
    let Ok(created) = http
        .post(format!("{base}/api/payments/create-intent"))
        .bearer_auth(&customer.token)
        .json(&json!({"amount": 1999, "currency": "eur"}))
        .send()
        .await
    else {
        return false;
    };
    let Ok(created) = created.json::<Value>().await else {
        return false;
    };
    let Ok(confirmed) = http
        .post(format!("{base}/api/payments/confirm"))
        .bearer_auth(&customer.token)
        .json(&json!({"payment_intent_id": created["payment_intent_id"], "payment_method": "pm_card_visa"}))
        .send()
        .await
    else {
        return false;
    };
    confirmed
        .json::<Value>()
        .await
        .is_ok_and(|body| body["status"] == "succeeded")
}

/// When the inbox (the node's, or the shared one on PostgreSQL) had nothing pending and its views held the whole log — the shared
/// one's head too, on PostgreSQL (polled every 10 ms, up to 10 minutes).
async fn wait_until_applied(file: &Path, shared_log: Option<&str>) -> anyhow::Result<Instant> {
    let options: SqliteConnectOptions = format!("sqlite://{}", file.display()).parse()?;
    let mut node = options.connect().await?;
    let mut log = match shared_log {
        Some(url) => Some(PgConnection::connect(url).await?),
        None => None,
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        // On PostgreSQL the inbox is the nodes' shared one.
        let (head, shared_pending) = match log.as_mut() {
            Some(log) => {
                sqlx::query_as(
                    "SELECT last_position,
                            (SELECT COUNT(*) FROM stripe_inbox WHERE status = 'pending')
                       FROM event_log_head",
                )
                .fetch_one(log)
                .await?
            }
            None => (0_i64, 0_i64),
        };
        let (node_pending, behind): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM stripe_inbox WHERE status = 'pending'),
                    (SELECT COUNT(*) FROM projection_checkpoints
                      WHERE position < MAX(?1, (SELECT COALESCE(MAX(position), 0) FROM events)))",
        )
        .bind(head)
        .fetch_one(&mut node)
        .await?;
        let pending = node_pending + shared_pending;
        if pending == 0 && behind == 0 {
            return Ok(Instant::now());
        }
        if Instant::now() > deadline {
            bail!("{pending} events pending, {behind} views behind after 10 minutes");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn markdown(rows: &[Figures], machine: &str, quick: bool) -> String {
    let mut out = String::from("| setup | `/health`, 64 conns | create+confirm pairs, 16 conns | history page, 64 conns | webhook ingest, 64 conns | applied on every node after the last ack |\n|---|---|---|---|---|---|\n");
    for row in rows {
        let health = row.health.per_second();
        out.push_str(&format!(
            "| {} | {:.0} req/s | {:.0} pairs/s (p99 {:.1} ms) | {:.0} req/s ({:.3}×) | {:.0} events/s ({:.3}×) | {:.2} s |\n",
            row.setup,
            health,
            row.pairs.per_second(),
            row.pairs.quantile(0.99).as_secs_f64() * 1e3,
            row.reads.per_second(),
            row.reads.per_second() / health,
            row.ingest.per_second(),
            row.ingest.per_second() / health,
            row.last_ack_to_applied.as_secs_f64(),
        ));
    }
    out.push_str(&format!(
        "\n- Machine: {machine}; PostgreSQL on the same machine.{}\n",
        if quick { " Quick sizes." } else { "" }
    ));
    out
}
