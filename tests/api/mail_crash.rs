//! A true crash of the mailing process: the real `billstream` binary queues a message while its
//! SMTP server is unreachable, is killed with SIGKILL (no shutdown, no flush), and a fresh
//! process on the same database delivers that message once the server is up — exactly once,
//! under the Message-ID it was queued with.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::open_pool;
use crate::support::smtp::SmtpSink;
use crate::two_instances::{start_node_with, Node};

/// `billstream serve` on `db_path`, sending mail to the SMTP server on `smtp_port`.
async fn start(db_path: &Path, smtp_port: u16, client: &reqwest::Client) -> Node {
    let vars = [
        ("SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}")),
        ("MAIL_RETRY_BASE_MS", "200".to_owned()),
    ];
    start_node_with(db_path, client, &vars).await
}

/// SIGKILL: the process gets no chance to finish anything.
fn kill_9(node: &mut Node) {
    node.process.kill().expect("the process is killed");
    node.process.wait().expect("the killed process is reaped");
}

async fn post(client: &reqwest::Client, url: String, token: Option<&str>, body: Value) -> Value {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the request is sent");
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("a JSON answer")
}

/// Registers a customer and pays with the sandbox's card that succeeds: a receipt is queued.
async fn pay(client: &reqwest::Client, process: &Node) {
    let registered = post(
        client,
        format!("{}/api/auth/register", process.base),
        None,
        json!({"email": "crash@example.com", "password": "correct horse battery", "name": "Ada"}),
    )
    .await;
    let token = registered["token"].as_str().unwrap();
    let intent = post(
        client,
        format!("{}/api/payments/create-intent", process.base),
        Some(token),
        json!({"amount": 1234, "currency": "eur"}),
    )
    .await;
    let confirmed = post(
        client,
        format!("{}/api/payments/confirm", process.base),
        Some(token),
        json!({"payment_intent_id": intent["payment_intent_id"], "payment_method": "pm_card_visa"}),
    )
    .await;
    assert_eq!(confirmed["status"], "succeeded", "{confirmed}");
}

#[tokio::test]
async fn a_message_queued_before_a_kill_9_is_delivered_exactly_once_after_the_restart() {
    let mut sink = SmtpSink::start().await;
    // Nothing listens on the sink's port until it is restarted.
    sink.stop().await;
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("billstream.db");
    let client = reqwest::Client::new();

    let mut first = start(&db_path, sink.port(), &client).await;
    pay(&client, &first).await;
    let pool = open_pool(&db_path).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let queued: String = loop {
        // Queued and tried at least once: the delivery loop was running when the kill came.
        let row: Option<(String, String, i64)> =
            sqlx::query_as("SELECT message_id, status, attempts FROM mail_outbox")
                .fetch_optional(&pool)
                .await
                .unwrap();
        if let Some((message_id, status, attempts)) = row {
            assert_eq!(status, "pending");
            if attempts >= 1 {
                break message_id;
            }
        }
        assert!(Instant::now() < deadline, "no message was queued and tried");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    kill_9(&mut first);
    pool.close().await;

    sink.restart().await;
    let second = start(&db_path, sink.port(), &client).await;
    sink.wait_for(1, Duration::from_secs(30)).await;
    // Longer than a few delivery polls: a second copy would have come by then.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "one copy only");
    assert_eq!(messages[0].message_id.as_deref(), Some(queued.as_str()));
    assert_eq!(messages[0].to, ["crash@example.com"]);
    let pool = open_pool(&db_path).await;
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT message_id, status FROM mail_outbox")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(rows, [(queued, "sent".to_owned())]);
    drop(second);
}
