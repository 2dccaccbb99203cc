//! Crash: `kill -9` at random moments under mixed load; after every restart each acknowledged
//! webhook and command is still there; at the end the projections equal a fresh replay.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use billstream_bench::events;
use billstream_bench::load;
use billstream_bench::service::{Service, ServiceSpec};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::client::{self, Customer};

const WEBHOOK_TASKS: usize = 12;
const COMMAND_TASKS: usize = 6;
/// The read models compared with a fresh replay.
const PROJECTION_TABLES: &[&str] = &["customer_profiles", "payments", "subscriptions", "invoices"];

#[derive(Default, Clone)]
struct Acknowledged {
    webhooks: Vec<String>,
    created: Vec<String>,
    confirmed: Vec<String>,
}

/// What the crash rounds found.
pub struct CrashReport {
    rounds: usize,
    webhooks: usize,
    created: usize,
    confirmed: usize,
    missing: Vec<String>,
    duplicated: i64,
    replay_differences: i64,
    pub losses: usize,
}

impl CrashReport {
    pub fn markdown(&self) -> String {
        format!(
            "## Crash\n\n{} rounds of `kill -9` at a random moment (0.2–1.5 s into each round) under {} concurrent webhook senders and {} concurrent command clients (create-intent + confirm), restart, check.\n\n\
             | Acknowledged before a kill, then checked | Count | Missing after restart |\n|---|---|---|\n\
             | webhook deliveries (stored in the inbox, then applied) | {} | {} |\n\
             | create-intent commands (payment recorded) | {} | |\n\
             | confirm commands answered `succeeded` (payment succeeded) | {} | |\n\n\
             - Missing acknowledged effects: {}\n- Payments charged or succeeded twice: {}\n- Projection rows differing from a fresh replay of the same log: {}\n",
            self.rounds,
            WEBHOOK_TASKS,
            COMMAND_TASKS,
            self.webhooks,
            self.missing.len(),
            self.created,
            self.confirmed,
            if self.missing.is_empty() { "0".to_owned() } else { self.missing.join(", ") },
            self.duplicated,
            self.replay_differences,
        )
    }
}

pub async fn run(spec: &ServiceSpec, rounds: usize, seed: u64) -> anyhow::Result<CrashReport> {
    let mut rng = StdRng::seed_from_u64(seed);
    let client = load::client(64);
    let mut service = Service::start(spec).await?;
    let mut customers = Vec::new();
    for i in 0..3 {
        customers.push(
            client::register(&client, &service.base, &format!("crash{i}@example.com")).await?,
        );
    }
    let customers = Arc::new(customers);
    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    let mut missing = Vec::new();
    for round in 0..rounds {
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for task in 0..WEBHOOK_TASKS {
            tasks.push(tokio::spawn(send_webhooks(
                client.clone(),
                service.base.clone(),
                customers.clone(),
                acked.clone(),
                stop.clone(),
                format!("r{round}t{task}"),
            )));
        }
        for task in 0..COMMAND_TASKS {
            tasks.push(tokio::spawn(run_commands(
                client.clone(),
                service.base.clone(),
                customers.clone(),
                acked.clone(),
                stop.clone(),
                task,
            )));
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(200..1500))).await;
        service.kill9()?;
        stop.store(true, Ordering::SeqCst);
        for task in tasks {
            task.await?;
        }
        service = Service::start(spec).await?;
        let so_far = acked.lock().expect("not poisoned").clone();
        missing.extend(check_acknowledged(spec, &so_far, false).await?);
        eprintln!(
            "  round {}: killed, restarted, {} missing so far",
            round + 1,
            missing.len()
        );
    }
    client::wait_until_settled(spec, Duration::from_secs(300)).await?;
    let acked = Arc::try_unwrap(acked)
        .map_err(|_| anyhow::anyhow!("tasks still hold the log"))?
        .into_inner()
        .expect("not poisoned");
    missing.extend(check_acknowledged(spec, &acked, true).await?);
    let duplicated = duplicated_effects(spec).await?;
    service.stop()?;
    let replay_differences = compare_with_replay(spec).await?;
    let losses = missing.len() + duplicated as usize + replay_differences as usize;
    Ok(CrashReport {
        rounds,
        webhooks: acked.webhooks.len(),
        created: acked.created.len(),
        confirmed: acked.confirmed.len(),
        missing,
        duplicated,
        replay_differences,
        losses,
    })
}

async fn send_webhooks(
    client: reqwest::Client,
    base: String,
    customers: Arc<Vec<Customer>>,
    acked: Arc<Mutex<Acknowledged>>,
    stop: Arc<AtomicBool>,
    prefix: String,
) {
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) && n < 100_000 {
        n += 1;
        let id = format!("evt_crash_{prefix}_{n}");
        let customer = &customers[n % customers.len()];
        let body = events::payment_succeeded(
            &id,
            &format!("pi_crash_{prefix}_{n}"),
            &customer.stripe_customer_id,
            1234,
            chrono::Utc::now().timestamp(),
        );
        if events::deliver(&client, &base, body).await {
            acked.lock().expect("not poisoned").webhooks.push(id);
        } else {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

async fn run_commands(
    client: reqwest::Client,
    base: String,
    customers: Arc<Vec<Customer>>,
    acked: Arc<Mutex<Acknowledged>>,
    stop: Arc<AtomicBool>,
    task: usize,
) {
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) && n < 100_000 {
        n += 1;
        let customer = &customers[(task + n) % customers.len()];
        let Some((payment_id, intent)) =
            client::create_intent(&client, &base, customer, 2500).await
        else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        acked
            .lock()
            .expect("not poisoned")
            .created
            .push(payment_id.clone());
        if let Some((200, status)) = client::confirm(&client, &base, customer, &intent).await {
            if status == "succeeded" {
                acked
                    .lock()
                    .expect("not poisoned")
                    .confirmed
                    .push(payment_id);
            }
        }
    }
}

/// Acknowledged things absent from the database. With `applied`, webhooks must also have
/// become succeeded payments in the read model.
async fn check_acknowledged(
    spec: &ServiceSpec,
    acked: &Acknowledged,
    applied: bool,
) -> anyhow::Result<Vec<String>> {
    let mut conn = client::open(&spec.database_url()).await?;
    let stored: HashSet<String> = client::inbox_ids(spec).await?.into_iter().collect();
    let created: HashSet<String> = sqlx::query_scalar("SELECT aggregate_id FROM events WHERE aggregate_type = 'Payment' AND event_type = 'PaymentCreated'").fetch_all(&mut conn).await?.into_iter().collect();
    let succeeded: HashSet<String> = sqlx::query_scalar("SELECT aggregate_id FROM events WHERE aggregate_type = 'Payment' AND event_type = 'PaymentSucceeded'").fetch_all(&mut conn).await?.into_iter().collect();
    let mut missing = Vec::new();
    missing.extend(
        acked
            .webhooks
            .iter()
            .filter(|id| !stored.contains(*id))
            .map(|id| format!("webhook {id}")),
    );
    missing.extend(
        acked
            .created
            .iter()
            .filter(|id| !created.contains(*id))
            .map(|id| format!("created payment {id}")),
    );
    missing.extend(
        acked
            .confirmed
            .iter()
            .filter(|id| !succeeded.contains(*id))
            .map(|id| format!("confirmed payment {id}")),
    );
    if applied {
        let intents: HashSet<String> =
            sqlx::query_scalar("SELECT payment_intent_id FROM payments WHERE status = 'succeeded'")
                .fetch_all(&mut conn)
                .await?
                .into_iter()
                .collect();
        missing.extend(
            acked
                .webhooks
                .iter()
                .filter(|id| !intents.contains(&id.replacen("evt_", "pi_", 1)))
                .map(|id| format!("webhook {id} not applied")),
        );
    }
    Ok(missing)
}

/// Payments that succeeded twice or were charged twice.
async fn duplicated_effects(spec: &ServiceSpec) -> anyhow::Result<i64> {
    let mut conn = client::open(&spec.database_url()).await?;
    let twice_succeeded = client::count(&mut conn, "SELECT COUNT(*) FROM (SELECT aggregate_id FROM events WHERE event_type = 'PaymentSucceeded' GROUP BY aggregate_id HAVING COUNT(*) > 1)").await?;
    let twice_charged = client::shared_count(spec, "SELECT COUNT(*) FROM (SELECT payment_intent FROM sandbox_charges GROUP BY payment_intent HAVING COUNT(*) > 1) AS twice").await?;
    let twice_stored = client::count(&mut conn, "SELECT COUNT(*) FROM (SELECT payment_intent_id FROM payments GROUP BY payment_intent_id HAVING COUNT(*) > 1)").await?;
    Ok(twice_succeeded + twice_charged + twice_stored)
}

/// Copies the stopped service's database, replays the copy from scratch and counts the rows
/// that differ between the live read models and the rebuilt ones.
async fn compare_with_replay(spec: &ServiceSpec) -> anyhow::Result<i64> {
    let copy_path = spec.database.with_extension("replayed.db");
    let _ = std::fs::remove_file(&copy_path);
    let mut conn = client::open(&spec.database_url()).await?;
    sqlx::query(&format!("VACUUM INTO '{}'", copy_path.display()))
        .execute(&mut conn)
        .await?;
    drop(conn);
    // The copy is a whole log in one file: replayed as a SQLite database of its own.
    let copy = ServiceSpec {
        database: copy_path.clone(),
        shared_log: None,
        ..spec.clone()
    };
    copy.cli(&["replay"])?;
    let mut conn = client::open(&copy.database_url()).await?;
    sqlx::query(&format!(
        "ATTACH DATABASE '{}' AS live",
        spec.database.display()
    ))
    .execute(&mut conn)
    .await?;
    let mut differences = 0;
    for table in PROJECTION_TABLES {
        differences += client::count(&mut conn, &format!("SELECT COUNT(*) FROM (SELECT * FROM main.{table} EXCEPT SELECT * FROM live.{table})")).await?;
        differences += client::count(&mut conn, &format!("SELECT COUNT(*) FROM (SELECT * FROM live.{table} EXCEPT SELECT * FROM main.{table})")).await?;
    }
    let rows = client::count(&mut conn, "SELECT COUNT(*) FROM main.payments").await?;
    anyhow::ensure!(rows > 0, "the replayed read model is empty");
    Ok(differences)
}
