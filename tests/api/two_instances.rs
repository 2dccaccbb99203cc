//! Two `billstream serve` processes on one SQLite file, as during a rolling restart: the rules
//! that matter for money hold across them, because the aggregates and the event store enforce
//! them — not a lock inside one process.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{open_pool, TEST_JWT_SECRET};

/// A real `billstream serve` process.
pub(crate) struct Node {
    pub(crate) base: String,
    pub(crate) process: Child,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

async fn start_node(db_path: &Path, client: &reqwest::Client) -> Node {
    start_node_with(db_path, client, &[]).await
}

/// A node with more environment variables (`vars`), which win over the defaults.
pub(crate) async fn start_node_with(
    db_path: &Path,
    client: &reqwest::Client,
    vars: &[(&str, String)],
) -> Node {
    let port = free_port();
    let process = Command::new(env!("CARGO_BIN_EXE_billstream"))
        .arg("serve")
        .env("DATABASE_URL", format!("sqlite://{}", db_path.display()))
        // After the file: a node on PostgreSQL names its shared log here.
        .envs(vars.iter().map(|(name, value)| (name, value)))
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", TEST_JWT_SECRET)
        .env("BCRYPT_COST", "4")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("billstream starts");
    let node = Node {
        base: format!("http://127.0.0.1:{port}"),
        process,
    };
    for _ in 0..300 {
        if let Ok(response) = client.get(format!("{}/health", node.base)).send().await {
            if response.status().is_success() {
                return node;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("billstream on port {port} did not answer /health");
}

async fn post(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request is sent");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn two_nodes() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    reqwest::Client,
    [Node; 2],
) {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("shared.db");
    let client = reqwest::Client::new();
    let first = start_node(&db_path, &client).await;
    let second = start_node(&db_path, &client).await;
    (dir, db_path, client, [first, second])
}

async fn register(client: &reqwest::Client, node: &Node, email: &str) -> String {
    let response = client
        .post(format!("{}/api/auth/register", node.base))
        .json(&json!({"email": email, "password": "correct horse battery", "name": "Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn refunds_racing_on_two_nodes_never_exceed_the_charge() {
    let (_dir, db_path, client, nodes) = two_nodes().await;
    let token = register(&client, &nodes[0], "race-refunds@example.com").await;
    let (status, created) = post(
        &client,
        format!("{}/api/payments/create-intent", nodes[0].base),
        &token,
        json!({"amount": 2000, "currency": "eur"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let payment_id = created["payment_id"].as_str().unwrap().to_owned();
    let intent = created["payment_intent_id"].as_str().unwrap().to_owned();
    let (status, confirmed) = post(
        &client,
        format!("{}/api/payments/confirm", nodes[1].base),
        &token,
        json!({"payment_intent_id": intent, "payment_method": "pm_card_visa"}),
    )
    .await;
    assert_eq!(
        (status, confirmed["status"].as_str()),
        (StatusCode::OK, Some("succeeded"))
    );

    // When twelve refunds of 300 arrive at once, half of them on each node.
    let refunds = (0..12).map(|i| {
        let url = format!("{}/api/payments/{payment_id}/refund", nodes[i % 2].base);
        post(&client, url, &token, json!({"amount": 300}))
    });
    let outcomes = join_all(refunds).await;

    // Then six are made (1,800 of 2,000), the others are refused as the caller's mistake, and
    // the provider, the log and the read model agree.
    let made = outcomes
        .iter()
        .filter(|(status, _)| status.is_success())
        .count();
    assert_eq!(made, 6, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|(status, _)| status.is_success() || status.is_client_error()),
        "{outcomes:?}"
    );
    let pool = open_pool(&db_path).await;
    let provider_refunded: i64 = sqlx::query_scalar(
        "SELECT COALESCE(SUM(json_extract(object, '$.amount')), 0) FROM sandbox_refunds WHERE payment_intent = ?",
    )
    .bind(&intent)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(provider_refunded, 1_800);
    let (status, payment) = {
        let response = client
            .get(format!("{}/api/payments/{payment_id}", nodes[1].base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        (response.status(), response.json::<Value>().await.unwrap())
    };
    assert_eq!(status, StatusCode::OK);
    assert_eq!(payment["refunded_amount"], 1_800, "{payment}");
    assert_eq!(payment["status"], "partially_refunded");
}

#[tokio::test]
async fn subscriptions_racing_on_two_nodes_leave_one_live_subscription_per_plan() {
    let (_dir, db_path, client, nodes) = two_nodes().await;
    let token = register(&client, &nodes[0], "race-plans@example.com").await;

    // When eight subscriptions to one plan arrive at once, half of them on each node.
    let requests = (0..8).map(|i| {
        let url = format!("{}/api/subscriptions", nodes[i % 2].base);
        post(
            &client,
            url,
            &token,
            json!({"plan": "particulier", "payment_method": "pm_card_visa"}),
        )
    });
    let outcomes = join_all(requests).await;

    // Then exactly one is created and the others are told the customer already has it.
    let created = outcomes
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|(status, body)| *status == StatusCode::CREATED
                || body["error"]["code"] == "already_subscribed"),
        "{outcomes:?}"
    );
    let pool = open_pool(&db_path).await;
    let at_provider: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sandbox_subscriptions")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(at_provider, 1, "one subscription at the provider");
    let listed = client
        .get(format!("{}/api/subscriptions", nodes[1].base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(1), "{listed}");
}
