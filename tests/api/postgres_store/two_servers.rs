//! Two `billstream serve` processes on one PostgreSQL database, with localstripe as Stripe
//! and every webhook delivered to both: registrations, confirmations, refunds and
//! subscriptions race across the nodes, and every rule holds — then both nodes' views are
//! equal, row for row.

use std::path::Path;
use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::open_pool;
use crate::support::localstripe::{LocalStripe, LOCALSTRIPE_KEY};
use crate::support::postgres::fresh_database;
use crate::two_instances::{start_node_with, Node};

const SECRET: &str = "whsec_two_servers";

const EVENTS: &[&str] = &[
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "customer.updated",
    "customer.subscription.created",
    "customer.subscription.updated",
    "invoice.created",
    "invoice.payment_succeeded",
];

/// A node on the shared log at `url`, with its own file in `dir`.
async fn node_on(url: &str, dir: &Path, name: &str, stripe: &LocalStripe) -> Node {
    let client = reqwest::Client::new();
    start_node_with(
        &dir.join(format!("{name}.db")),
        &client,
        &[
            ("DATABASE_URL", url.to_owned()),
            (
                "NODE_DATABASE_URL",
                format!("sqlite://{}", dir.join(format!("{name}.db")).display()),
            ),
            ("STRIPE_SECRET_KEY", LOCALSTRIPE_KEY.to_owned()),
            ("STRIPE_API_BASE", stripe.url.clone()),
            ("STRIPE_WEBHOOK_SECRET", SECRET.to_owned()),
        ],
    )
    .await
}

async fn send(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the node answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Every row of the node's views (and where each stands), in a stable order, as text.
async fn views(file: &Path) -> Vec<String> {
    let pool = open_pool(file).await;
    let mut tables = Vec::new();
    for table in [
        "customer_profiles",
        "payments",
        "subscriptions",
        "invoices",
        "projection_checkpoints",
    ] {
        let columns: Vec<String> =
            sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .fetch_all(&pool)
                .await
                .expect("the view's columns");
        let row = columns
            .iter()
            .map(|column| format!("quote({column})"))
            .collect::<Vec<_>>()
            .join(" || ',' || ");
        let lines: Vec<String> =
            sqlx::query_scalar(&format!("SELECT {row} FROM {table} ORDER BY 1"))
                .fetch_all(&pool)
                .await
                .expect("the view's rows");
        tables.push(format!("{table}\n{}", lines.join("\n")));
    }
    pool.close().await;
    tables
}

#[tokio::test]
async fn two_servers_on_postgres_hold_every_rule_and_end_with_equal_views() {
    let url = fresh_database().await;
    let stripe = LocalStripe::start().await;
    let dir = tempfile::tempdir().unwrap();
    let nodes = [
        node_on(&url, dir.path(), "node-a", &stripe).await,
        node_on(&url, dir.path(), "node-b", &stripe).await,
    ];
    for (i, node) in nodes.iter().enumerate() {
        let sink = format!("{}/api/webhooks/stripe", node.base);
        stripe
            .register_webhook(&format!("node{i}"), &sink, SECRET, EVENTS)
            .await;
    }
    let client = reqwest::Client::new();

    // When eight registrations of one address arrive at once, half on each node,
    let registrations = (0..8).map(|i| {
        send(
            &client,
            format!("{}/api/auth/register", nodes[i % 2].base),
            None,
            json!({"email": "racer@example.com", "password": "correct horse battery", "name": "Ada"}),
        )
    });
    let outcomes = join_all(registrations).await;
    // then one account is made and the others are told the address is taken.
    let made: Vec<&Value> = outcomes
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(made.len(), 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|(status, body)| *status == StatusCode::CREATED
                || body["error"]["code"] == "email_taken"),
        "{outcomes:?}"
    );
    let token = made[0]["token"].as_str().unwrap().to_owned();

    // When a session signed in on node B logs out on node A, node B refuses its token too.
    let (status, session) = send(
        &client,
        format!("{}/api/auth/login", nodes[1].base),
        None,
        json!({"email": "racer@example.com", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let second = session["token"].as_str().unwrap().to_owned();
    let profile_on_b = || {
        client
            .get(format!("{}/api/auth/profile", nodes[1].base))
            .bearer_auth(&second)
            .send()
    };
    assert_eq!(profile_on_b().await.unwrap().status(), StatusCode::OK);
    let (status, _) = send(
        &client,
        format!("{}/api/auth/logout", nodes[0].base),
        Some(&second),
        json!({}),
    )
    .await;
    assert!(status.is_success(), "logout: {status}");
    let mut refused = StatusCode::OK;
    for _ in 0..50 {
        refused = profile_on_b().await.unwrap().status();
        if refused == StatusCode::UNAUTHORIZED {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        refused,
        StatusCode::UNAUTHORIZED,
        "node B still takes the token"
    );

    // When a payment of 20.00 is confirmed six times at once across the nodes,
    let (status, created) = send(
        &client,
        format!("{}/api/payments/create-intent", nodes[0].base),
        Some(&token),
        json!({"amount": 2000, "currency": "eur"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let payment_id = created["payment_id"].as_str().unwrap().to_owned();
    let intent = created["payment_intent_id"].as_str().unwrap().to_owned();
    let card = stripe.card_payment_method("4242424242424242").await;
    let confirmations = (0..6).map(|i| {
        send(
            &client,
            format!("{}/api/payments/confirm", nodes[i % 2].base),
            Some(&token),
            json!({"payment_intent_id": intent, "payment_method": card}),
        )
    });
    let outcomes = join_all(confirmations).await;
    // then one succeeds and the others are refused (Stripe says payment_intent_unexpected_state,
    // a 409 here; localstripe refuses without that code, so its refusals come back as the
    // provider's error), and Stripe holds one charge (below).
    assert!(
        outcomes.iter().any(|(status, _)| status.is_success()),
        "{outcomes:?}"
    );
    assert!(
        outcomes.iter().all(|(status, body)| status.is_success()
            || status.is_client_error()
            || body["error"]["code"] == "payment_provider_error"),
        "{outcomes:?}"
    );

    // When twelve refunds of 3.00 arrive at once, half on each node,
    let refunds = (0..12).map(|i| {
        send(
            &client,
            format!("{}/api/payments/{payment_id}/refund", nodes[i % 2].base),
            Some(&token),
            json!({"amount": 300}),
        )
    });
    let outcomes = join_all(refunds).await;
    // then six are made (18.00 of 20.00) and the others are refused as the caller's mistake.
    let refunded = outcomes
        .iter()
        .filter(|(status, _)| status.is_success())
        .count();
    assert_eq!(refunded, 6, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|(status, _)| status.is_success() || status.is_client_error()),
        "{outcomes:?}"
    );
    let (_, at_stripe) = stripe.get(&format!("/v1/payment_intents/{intent}")).await;
    let charges = at_stripe["charges"]["data"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(charges.len(), 1, "one charge at Stripe: {at_stripe}");
    assert_eq!(charges[0]["amount_refunded"], 1_800, "{at_stripe}");

    // When eight subscriptions to one plan arrive at once, half on each node,
    let subscriptions = (0..8).map(|i| {
        send(
            &client,
            format!("{}/api/subscriptions", nodes[i % 2].base),
            Some(&token),
            json!({"plan": "professionnel", "payment_method": card, "trial_days": 0}),
        )
    });
    let outcomes = join_all(subscriptions).await;
    // then exactly one is made and the others are told the customer has it already.
    let subscribed = outcomes
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .count();
    assert_eq!(subscribed, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|(status, body)| *status == StatusCode::CREATED
                || body["error"]["code"] == "already_subscribed"),
        "{outcomes:?}"
    );

    // Both nodes read the same payment, whichever took the commands.
    for node in &nodes {
        let payment: Value = client
            .get(format!("{}/api/payments/{payment_id}", node.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(payment["refunded_amount"], 1_800, "{payment}");
        assert_eq!(payment["status"], "partially_refunded", "{payment}");
    }

    // And once the duplicated webhooks have landed, both nodes' views are equal, row for row.
    let files = [dir.path().join("node-a.db"), dir.path().join("node-b.db")];
    let mut last = (Vec::new(), Vec::new());
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = (views(&files[0]).await, views(&files[1]).await);
        if now.0 == now.1 && now == last {
            break;
        }
        last = now;
    }
    assert_eq!(last.0, last.1, "the two nodes' views differ");
    assert!(last.0[1].contains(&payment_id), "{:?}", last.0[1]);
}

#[tokio::test]
async fn a_node_killed_under_load_loses_nothing_it_acknowledged() {
    let url = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let sandbox_node = |name: &str| {
        let file = dir.path().join(format!("{name}.db"));
        let vars = vec![
            ("DATABASE_URL", url.clone()),
            ("NODE_DATABASE_URL", format!("sqlite://{}", file.display())),
            // The load is one customer's: no rate limit may stop it before the kill.
            ("RATE_LIMITS", "off".to_owned()),
        ];
        (file, vars)
    };
    let (file_a, vars_a) = sandbox_node("node-a");
    let (file_b, vars_b) = sandbox_node("node-b");
    let mut doomed = start_node_with(&file_a, &client, &vars_a).await;
    let survivor = start_node_with(&file_b, &client, &vars_b).await;
    // This customer pays through node A, the node to be killed.
    let (status, registered) = send(
        &client,
        format!("{}/api/auth/register", doomed.base),
        None,
        json!({"email": "doomed@example.com", "password": "correct horse battery", "name": "Ada"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let token = registered["token"].as_str().unwrap().to_owned();

    // Given eight clients creating payments on node A as fast as it answers,
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (client, token, acknowledged) =
                (client.clone(), token.clone(), acknowledged.clone());
            let url = format!("{}/api/payments/create-intent", doomed.base);
            tokio::spawn(async move {
                for _ in 0..500 {
                    let sent = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({"amount": 1234, "currency": "eur"}))
                        .send()
                        .await;
                    let Ok(response) = sent else { return };
                    if response.status() != StatusCode::CREATED {
                        return;
                    }
                    let Ok(body) = response.json::<Value>().await else {
                        return;
                    };
                    let id = body["payment_id"].as_str().unwrap().to_owned();
                    acknowledged.lock().unwrap().push(id);
                }
            })
        })
        .collect();
    // when node A is killed (SIGKILL) once it has acknowledged some,
    for _ in 0..200 {
        if acknowledged.lock().unwrap().len() >= 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    doomed.process.kill().expect("node A is killed");
    doomed.process.wait().expect("node A is gone");
    for worker in workers {
        worker.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 40,
        "only {} acknowledged",
        acknowledged.len()
    );

    // then node B shows every payment node A acknowledged.
    for id in &acknowledged {
        let mut found = StatusCode::NOT_FOUND;
        for _ in 0..50 {
            found = client
                .get(format!("{}/api/payments/{id}", survivor.base))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status();
            if found == StatusCode::OK {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            found,
            StatusCode::OK,
            "payment {id}, acknowledged by A, is not on B"
        );
    }
}
