//! Every node's mailer queues every message the shared log calls for; each one goes out once,
//! by whichever node claims it first in the shared database, and the other nodes mark their
//! copy sent without sending it.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::open_pool;
use crate::mail::smtp_vars;
use crate::support::postgres::fresh_database;
use crate::support::smtp::SmtpSink;

use super::{register_on, serve_nodes};

#[tokio::test]
async fn two_nodes_send_each_message_once() {
    // Given two nodes on one shared log, mailing through one SMTP server,
    let url = fresh_database().await;
    let sink = SmtpSink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mail = smtp_vars(&sink);
    let mail: Vec<(&str, String)> = mail
        .iter()
        .map(|(name, value)| (name.as_str(), value.clone()))
        .collect();
    let nodes = serve_nodes(&url, dir.path(), &["mail-a", "mail-b"], &mail).await;
    let base = &nodes[0].0.base;

    // when a customer registers and pays on one of them,
    let token = register_on(&client, base, "once@example.com").await;
    let token = token.as_str();
    let created: Value = client
        .post(format!("{base}/api/payments/create-intent"))
        .bearer_auth(token)
        .json(&json!({"amount": 2500, "currency": "eur"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let confirmed = client
        .post(format!("{base}/api/payments/confirm"))
        .bearer_auth(token)
        .json(&json!({"payment_intent_id": created["payment_intent_id"], "payment_method": "pm_card_visa"}))
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);

    // then the receipt goes out, and once the nodes have settled no message went out twice
    let first = sink.wait_for(1, Duration::from_secs(20)).await;
    assert!(!first.is_empty(), "no message was sent");
    let mut settled = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut pending = 0;
        for (_, file) in &nodes {
            let pool = open_pool(file).await;
            let waiting: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox WHERE status <> 'sent'")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            pending += waiting;
            pool.close().await;
        }
        if pending == 0 {
            settled = true;
            break;
        }
    }
    assert!(settled, "the nodes' outboxes did not settle");
    let mut times_sent: HashMap<String, usize> = HashMap::new();
    for message in sink.messages() {
        *times_sent
            .entry(message.message_id.clone().unwrap_or_default())
            .or_default() += 1;
    }
    assert!(
        times_sent.values().all(|&times| times == 1),
        "{times_sent:?}"
    );
    // and both nodes had queued every one of them.
    for (_, file) in &nodes {
        let pool = open_pool(file).await;
        let queued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mail_outbox")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(queued as usize, times_sent.len(), "{}", file.display());
        pool.close().await;
    }
}
