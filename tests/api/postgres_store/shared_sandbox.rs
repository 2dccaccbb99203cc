//! The offline sandbox the nodes share: on PostgreSQL it honours the gateway contract as the
//! node's file does; a payment created through one node is confirmed and refunded through
//! another, refunds raced through both never exceed the charge, one clock moved from both runs
//! each due step once, and every event of its outbox reaches the shared inbox, those a killed
//! node was delivering too. A node's own sandbox moves into the shared one when it starts.

use std::time::Duration;

use billstream::provider::sandbox::SandboxProvider;
use billstream::provider::{NewCustomer, PaymentProvider};
use billstream::store::postgres::{connect, migrate, PgSettings};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::{register_on, serve_nodes};
use crate::helpers::open_pool;
use crate::provider_contract::{honours_the_contract, Sandbox};
use crate::support::postgres::fresh_database;
use crate::two_instances::Node;

const SECRET: &str = "whsec_shared_sandbox_tests";
const DAY: i64 = 86_400;

async fn shared_pool(url: &str) -> PgPool {
    let pool = connect(url, &PgSettings::default())
        .await
        .expect("connects");
    migrate(&pool).await.expect("migrates");
    pool
}

async fn post(base: &str, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let client = reqwest::Client::new();
    let mut request = client.post(format!("{base}{path}")).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the node answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get(base: &str, path: &str, token: &str) -> Value {
    let response = reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("the node answers");
    response.json().await.unwrap_or(Value::Null)
}

/// Polls `path` on `base` until `done` holds.
async fn until(base: &str, path: &str, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..150 {
        last = get(base, path, token).await;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base}{path} never reached the expected state; last: {last}");
}

/// Waits until every event the shared outbox holds was delivered; how many it holds.
async fn outbox_drained(shared: &PgPool) -> i64 {
    for _ in 0..150 {
        let (all, pending): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE delivered_at IS NULL)
               FROM sandbox_webhook_outbox",
        )
        .fetch_one(shared)
        .await
        .unwrap();
        if pending == 0 {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the shared outbox never drained");
}

/// Two sandbox nodes on a fresh shared database (stopped when dropped).
struct TwoNodes {
    a: String,
    b: String,
    shared: PgPool,
    _nodes: Vec<(Node, std::path::PathBuf)>,
    _dir: tempfile::TempDir,
}

impl TwoNodes {
    async fn start() -> Self {
        let url = fresh_database().await;
        let dir = tempfile::tempdir().unwrap();
        let vars = [
            ("STRIPE_WEBHOOK_SECRET", SECRET.to_owned()),
            ("RATE_LIMITS", "off".to_owned()),
        ];
        let nodes = serve_nodes(&url, dir.path(), &["node-a", "node-b"], &vars).await;
        Self {
            a: nodes[0].0.base.clone(),
            b: nodes[1].0.base.clone(),
            shared: shared_pool(&url).await,
            _nodes: nodes,
            _dir: dir,
        }
    }
}

#[tokio::test]
async fn the_shared_sandbox_honours_the_gateway_contract() {
    let url = fresh_database().await;
    let backend = Sandbox {
        provider: SandboxProvider::shared(shared_pool(&url).await),
        _dir: tempfile::tempdir().unwrap(),
    };
    honours_the_contract(&backend).await;
}

#[tokio::test]
async fn a_payment_made_through_one_node_is_confirmed_and_refunded_through_the_other() {
    let two = TwoNodes::start().await;
    let (a, b, shared) = (&two.a, &two.b, &two.shared);

    // Given a payment of 20.00 created through node A,
    let token = register_on(&reqwest::Client::new(), a, "shared@example.com").await;
    let (status, created) = post(
        a,
        "/api/payments/create-intent",
        Some(&token),
        json!({"amount": 2_000, "currency": "eur"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let payment_id = created["payment_id"].as_str().unwrap().to_owned();
    let intent = created["payment_intent_id"].as_str().unwrap().to_owned();

    // when it is confirmed through node B (once B's views hold it: read-your-writes holds on
    // the node that took the command),
    let path = format!("/api/payments/{payment_id}");
    until(b, &path, &token, |p| p["payment_id"] == json!(payment_id)).await;
    let (status, confirmed) = post(
        b,
        "/api/payments/confirm",
        Some(&token),
        json!({"payment_intent_id": intent, "payment_method": "pm_card_visa"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");

    // then both nodes show it paid,
    for base in [a, b] {
        until(base, &path, &token, |p| p["status"] == "succeeded").await;
    }

    // and ten refunds of 3.00 raced through both nodes take at most the 20.00 captured, the
    // sandbox's charge agreeing with billstream to the cent.
    let refund = format!("/api/payments/{payment_id}/refund");
    let races = (0..10).map(|i| {
        let (base, refund, token) = (if i % 2 == 0 { a } else { b }, &refund, &token);
        async move { post(base, refund, Some(token), json!({"amount": 300})).await }
    });
    let answers = futures::future::join_all(races).await;
    let accepted = answers
        .iter()
        .filter(|(status, _)| status.is_success())
        .count() as i64;
    assert!((1..=6).contains(&accepted), "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(status, _)| status.is_success() || status.is_client_error()),
        "{answers:?}"
    );
    let view = until(a, &path, &token, |p| {
        p["refunded_amount"] == json!(300 * accepted)
    })
    .await;
    assert_eq!(view["refunded_amount"], json!(300 * accepted));
    let charge: String =
        sqlx::query_scalar("SELECT object FROM sandbox_charges WHERE payment_intent = $1")
            .bind(&intent)
            .fetch_one(shared)
            .await
            .expect("one charge in the shared sandbox");
    let charge: Value = serde_json::from_str(&charge).unwrap();
    assert_eq!(charge["amount_refunded"], json!(300 * accepted));

    // Every event the sandbox sent reached the shared inbox, once.
    let sent = outbox_drained(shared).await;
    let stored: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM stripe_inbox i JOIN sandbox_webhook_outbox o ON o.id = i.event_id",
    )
    .fetch_one(shared)
    .await
    .unwrap();
    assert_eq!(stored, sent);
}

#[tokio::test]
async fn one_clock_moved_from_both_nodes_ends_a_trial_once() {
    let two = TwoNodes::start().await;
    let (a, b, shared) = (&two.a, &two.b, &two.shared);

    // Given a trial subscribed through node A,
    let token = register_on(&reqwest::Client::new(), a, "trial@example.com").await;
    let (status, created) = post(
        a,
        "/api/subscriptions",
        Some(&token),
        json!({"plan": "particulier", "payment_method": "pm_card_visa"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "trialing");
    let path = format!(
        "/api/subscriptions/{}",
        created["subscription_id"].as_str().unwrap()
    );

    // when both nodes move the one clock a week at the same moment,
    let (before, _) = post(a, "/sandbox/clock/advance", None, json!({"seconds": 1})).await;
    assert_eq!(before, StatusCode::OK);
    let week = json!({"seconds": 7 * DAY + 1_800});
    let (from_a, from_b) = tokio::join!(
        post(a, "/sandbox/clock/advance", None, week.clone()),
        post(b, "/sandbox/clock/advance", None, week),
    );
    assert_eq!((from_a.0, from_b.0), (StatusCode::OK, StatusCode::OK));

    // then both read the same time, two weeks on: the trial ended once, its first period was
    // invoiced and paid once, and both nodes show the subscription active.
    let (now_a, now_b) = (
        get(a, "/sandbox/clock", &token).await,
        get(b, "/sandbox/clock", &token).await,
    );
    let (now_a, now_b) = (
        now_a["now"].as_i64().unwrap(),
        now_b["now"].as_i64().unwrap(),
    );
    assert!((now_a - now_b).abs() <= 2, "{now_a} vs {now_b}");
    assert!(
        now_a >= chrono::Utc::now().timestamp() + 14 * DAY,
        "{now_a}"
    );
    for base in [a, b] {
        until(base, &path, &token, |s| s["status"] == "active").await;
    }
    let invoices: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sandbox_invoices")
        .fetch_one(shared)
        .await
        .unwrap();
    assert_eq!(invoices, 1);
    let listed = until(b, "/api/invoices/list", &token, |l| {
        l["data"][0]["status"] == "paid"
    })
    .await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1, "{listed}");
}

#[tokio::test]
async fn a_nodes_own_sandbox_moves_into_the_shared_one_when_it_starts() {
    // Given a node's file whose own sandbox holds a customer and a moved clock (a node that
    // ran before the sandbox was shared),
    let url = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("node-a.db");
    let own = open_pool(&file).await;
    let local = SandboxProvider::new(own.clone());
    let customer = NewCustomer {
        customer_id: "c-own".into(),
        email: "own@example.com".into(),
        name: "Own".into(),
        phone: None,
    };
    let made = local.create_customer(&customer, "own-key").await.unwrap();
    let moved = local.advance_clock(3 * DAY).await.unwrap();
    own.close().await;

    // when the node starts on the shared database,
    let _nodes = serve_nodes(&url, dir.path(), &["node-a"], &[]).await;

    // then the shared sandbox holds the customer, its event and the later clock (the same
    // key answers the same customer there), and the node's own sandbox is empty.
    let shared = SandboxProvider::shared(shared_pool(&url).await);
    let again = shared.create_customer(&customer, "own-key").await.unwrap();
    assert_eq!(again, made);
    assert!(shared.clock_now().await.unwrap() >= moved.now);
    let listed = shared.list_events(0).await.unwrap();
    assert!(
        listed
            .iter()
            .any(|event| event.envelope.event_type == "customer.created"),
        "{listed:?}"
    );
    let own = open_pool(&file).await;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sandbox_customers")
        .fetch_one(&own)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn the_events_a_killed_node_was_delivering_are_delivered_by_another() {
    let url = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let shared = shared_pool(&url).await;
    // An endpoint that takes every connection and never answers.
    let hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hole_url = format!("http://{}/api/webhooks/stripe", hole.local_addr().unwrap());
    let posts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = posts.clone();
    let _hole = tokio::spawn(async move {
        let mut kept = Vec::new();
        while let Ok((socket, _)) = hole.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            kept.push(socket);
        }
    });
    let vars = |webhooks: Option<&str>| {
        let mut vars = vec![
            ("STRIPE_WEBHOOK_SECRET", SECRET.to_owned()),
            ("WEBHOOK_CLAIM_TIMEOUT", "2s".to_owned()),
        ];
        vars.extend(webhooks.map(|url| ("SANDBOX_WEBHOOK_URL", url.to_owned())));
        vars
    };

    // Given node A posting the sandbox's events of a new customer to an endpoint that hangs,
    let mut a = serve_nodes(&url, dir.path(), &["node-a"], &vars(Some(&hole_url))).await;
    register_on(&reqwest::Client::new(), &a[0].0.base, "held@example.com").await;
    for _ in 0..100 {
        if posts.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        posts.load(std::sync::atomic::Ordering::SeqCst) > 0,
        "node A never posted"
    );
    let held: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sandbox_webhook_outbox WHERE delivered_at IS NULL",
    )
    .fetch_one(&shared)
    .await
    .unwrap();
    assert!(held > 0);

    // when node A is killed mid-post and node B runs,
    a[0].0.process.kill().expect("node A is killed");
    a[0].0.process.wait().expect("node A is gone");
    let _b = serve_nodes(&url, dir.path(), &["node-b"], &vars(None)).await;

    // then, once A's claims run out, node B delivers every event, each stored in the inbox.
    let sent = outbox_drained(&shared).await;
    let stored: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM stripe_inbox i JOIN sandbox_webhook_outbox o ON o.id = i.event_id",
    )
    .fetch_one(&shared)
    .await
    .unwrap();
    assert_eq!(stored, sent);
    assert!(sent >= held);
}
