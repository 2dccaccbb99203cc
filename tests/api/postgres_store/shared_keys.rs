//! What holds across the nodes of one shared log besides the log: a client's Idempotency-Key
//! (the retry of a request that reaches another node gets the first node's answer, and
//! another request under the same key is refused there too), and the delays after failed
//! logins (counted whichever node a guess reaches).

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{register_on, serve_nodes};
use crate::support::postgres::fresh_database;

#[tokio::test]
async fn a_retry_on_another_node_gets_the_first_answer_and_a_reused_key_is_refused() {
    let url = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let nodes = serve_nodes(&url, dir.path(), &["keys-a", "keys-b"], &[]).await;
    let token = register_on(&client, &nodes[0].0.base, "keys@example.com").await;
    let create = |node: usize, amount: i64| {
        client
            .post(format!("{}/api/payments/create-intent", nodes[node].0.base))
            .bearer_auth(&token)
            .header("Idempotency-Key", "order-2026-0042")
            .json(&json!({"amount": amount, "currency": "eur"}))
            .send()
    };

    // Given a payment created on node A under a key,
    let first = create(0, 4200).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();

    // when the client's retry reaches node B, it gets node A's answer;
    let retry = create(1, 4200).await.unwrap();
    assert_eq!(retry.status(), StatusCode::CREATED);
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry, first);

    // and another request under the same key is refused on node B as on node A.
    for node in [1, 0] {
        let other = create(node, 9900).await.unwrap();
        assert_eq!(other.status(), StatusCode::CONFLICT, "node {node}");
        let body: Value = other.json().await.unwrap();
        assert_eq!(body["error"]["code"], "idempotency_key_reused", "{body}");
    }
}

#[tokio::test]
async fn failed_logins_spread_over_two_nodes_count_together() {
    let url = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let slow = [("LOGIN_LOCKOUT_BASE_DELAY", "30".to_owned())];
    let nodes = serve_nodes(&url, dir.path(), &["guess-a", "guess-b"], &slow).await;
    register_on(&client, &nodes[0].0.base, "guessed@example.com").await;
    let login = |node: usize, password: &'static str| {
        client
            .post(format!("{}/api/auth/login", nodes[node].0.base))
            .json(&json!({"email": "guessed@example.com", "password": password}))
            .send()
    };

    // Given five wrong passwords, alternating between the nodes (three on A, two on B),
    for attempt in 0..5 {
        let refused = login(attempt % 2, "wrong horse battery").await.unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }

    // when the right one is tried on either node, both make it wait.
    for node in [1, 0] {
        let waited = login(node, "correct horse battery").await.unwrap();
        assert_eq!(
            waited.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "node {node}"
        );
        let body: Value = waited.json().await.unwrap();
        assert_eq!(body["error"]["code"], "too_many_failed_logins", "{body}");
    }
}
