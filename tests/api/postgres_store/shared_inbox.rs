//! The webhook inbox the nodes share on PostgreSQL: two nodes claiming at once never take the
//! same event and keep each object's events in Stripe's order; a claim left by a dead node is
//! taken over once it expires; and a node killed while it applies deliveries leaves them to
//! the other node, which applies each exactly once.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use billstream::inbox::{InboxStatus, SharedInbox};
use billstream::provider::read_envelope;
use billstream::provider::stripe::signature::signature_header;
use billstream::store::postgres::{connect, migrate, PgSettings};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;

use super::serve_nodes;
use crate::support::postgres::fresh_database;
use crate::webhooks::{event, intent, lifecycle, now, nowhere, shuffle, SECRET};

async fn shared_database() -> (String, PgPool) {
    let url = fresh_database().await;
    let pool = connect(&url, &PgSettings::default())
        .await
        .expect("connects");
    migrate(&pool).await.expect("migrates");
    (url, pool)
}

/// Stores the lifecycles of `objects` PaymentIntents (four events each), shuffled.
async fn store_lifecycles(inbox: &SharedInbox, objects: usize) -> usize {
    let mut events: Vec<Value> = (0..objects)
        // One object after another in Stripe's time, so that a claim in time order would
        // reach an object's later events while its first is still being applied.
        .flat_map(|n| lifecycle(n, "cus_shared", now() - 6_000 + 10 * n as i64))
        .collect();
    shuffle(&mut events, 7);
    for event in &events {
        store_event(inbox, event).await;
    }
    events.len()
}

/// Stores one event as the webhook endpoint would.
async fn store_event(inbox: &SharedInbox, event: &Value) {
    let body = event.to_string();
    let envelope = read_envelope(body.as_bytes()).expect("an event");
    inbox
        .store(&envelope, body.as_bytes())
        .await
        .expect("stored");
}

/// The object an event of `lifecycle` belongs to: `evt_{n}_{step}` → `n`.
fn object_of(event_id: &str) -> String {
    event_id.split('_').nth(1).expect("evt_n_step").to_owned()
}

#[tokio::test]
async fn two_nodes_claiming_at_once_take_each_event_once_and_each_objects_events_in_order() {
    let (_, pool) = shared_database().await;
    let nodes = [
        SharedInbox::new(pool.clone(), "node-a".into(), Duration::from_secs(30)),
        SharedInbox::new(pool.clone(), "node-b".into(), Duration::from_secs(30)),
    ];
    // Given 40 objects' events stored in a shuffled order,
    let stored = store_lifecycles(&nodes[0], 40).await;
    // when two nodes claim and record events at the same time,
    let applied = Arc::new(Mutex::new(Vec::<(String, i64, String)>::new()));
    let work = nodes.iter().map(|inbox| {
        let applied = applied.clone();
        async move {
            for _ in 0..2_000 {
                if applied.lock().unwrap().len() == stored {
                    return;
                }
                let claimed = inbox.due(8).await.expect("claims");
                let objects: HashSet<String> = claimed
                    .iter()
                    .map(|entry| object_of(&entry.event_id))
                    .collect();
                assert_eq!(
                    objects.len(),
                    claimed.len(),
                    "two events of one object claimed"
                );
                for entry in claimed {
                    applied.lock().unwrap().push((
                        entry.event_id.clone(),
                        entry.created,
                        inbox.node().to_owned(),
                    ));
                    // Applying takes a moment, so the other node claims meanwhile.
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    inbox
                        .finish_all(&[(entry.seq, InboxStatus::Applied)])
                        .await
                        .expect("recorded");
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    });
    futures::future::join_all(work).await;

    // then every event was taken exactly once,
    let applied = applied.lock().unwrap().clone();
    let ids: HashSet<&str> = applied.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(applied.len(), stored, "an event was taken twice or never");
    assert_eq!(ids.len(), stored);
    // by both nodes,
    let by_node: HashSet<&str> = applied.iter().map(|(_, _, node)| node.as_str()).collect();
    assert_eq!(by_node.len(), 2, "one node did all the work: {by_node:?}");
    // and each object's events in the order Stripe created them.
    let mut per_object: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (id, created, _) in &applied {
        per_object.entry(object_of(id)).or_default().push(*created);
    }
    for (object, times) in per_object {
        assert!(
            times.windows(2).all(|pair| pair[0] < pair[1]),
            "object {object}'s events were applied out of order: {times:?}"
        );
    }
}

#[tokio::test]
async fn a_claim_left_by_a_dead_node_is_taken_over_once_it_expires() {
    let (_, pool) = shared_database().await;
    let dead = SharedInbox::new(pool.clone(), "dead".into(), Duration::from_secs(1));
    let live = SharedInbox::new(pool.clone(), "live".into(), Duration::from_secs(30));
    store_lifecycles(&dead, 2).await;
    // Given a node that claimed the first event of each object and died,
    let held: Vec<i64> = dead.due(10).await.unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(held.len(), 2, "one event per object");
    // the other node takes nothing of those objects while the claims last,
    assert!(live.due(10).await.unwrap().is_empty());
    // and takes the same events once they expire.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let mut taken: Vec<i64> = live.due(10).await.unwrap().iter().map(|e| e.seq).collect();
    taken.sort_unstable();
    let mut held = held;
    held.sort_unstable();
    assert_eq!(taken, held);
    let holders: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT claimed_by FROM stripe_inbox WHERE claimed_by IS NOT NULL",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(holders, vec!["live".to_owned()]);
}

#[tokio::test]
async fn a_lane_crowding_the_oldest_events_does_not_hide_the_heads_of_the_others() {
    let (_, pool) = shared_database().await;
    let first = SharedInbox::new(pool.clone(), "node-a".into(), Duration::from_secs(30));
    let second = SharedInbox::new(pool.clone(), "node-b".into(), Duration::from_secs(30));
    // Given one PaymentIntent with 12 events, all older than the one event of another,
    let crowded = intent("pi_crowded", "cus_shared", "processing", now() - 600);
    for step in 0..12 {
        let kind = "payment_intent.processing";
        let id = format!("evt_crowded_{step}");
        store_event(
            &first,
            &event(&id, kind, now() - 600 + step, crowded.clone()),
        )
        .await;
    }
    let later = intent("pi_later", "cus_shared", "succeeded", now() - 60);
    let kind = "payment_intent.succeeded";
    store_event(&first, &event("evt_later_0", kind, now() - 60, later)).await;
    // and a node holding the crowded lane's head,
    assert_eq!(claim_ids(&first).await, vec!["evt_crowded_0".to_owned()]);
    // when the other node claims one event, whose nearest candidates (eight per event
    // claimed) are all of the held lane,
    let taken = claim_ids(&second).await;
    // then it looks further and takes the other lane's head.
    assert_eq!(taken, vec!["evt_later_0".to_owned()]);
}

/// The ids of the events `inbox` claims with a limit of one.
async fn claim_ids(inbox: &SharedInbox) -> Vec<String> {
    let claimed = inbox.due(1).await.expect("claims");
    claimed.into_iter().map(|entry| entry.event_id).collect()
}

/// Counts the shared inbox's events in each status.
async fn statuses(pool: &PgPool) -> BTreeMap<String, i64> {
    sqlx::query_as::<_, (String, i64)>("SELECT status, COUNT(*) FROM stripe_inbox GROUP BY 1")
        .fetch_all(pool)
        .await
        .unwrap()
        .into_iter()
        .collect()
}

/// Counts rows of the shared database.
async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn a_node_killed_while_applying_webhooks_leaves_them_to_the_other_node() {
    let (url, pool) = shared_database().await;
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let vars = [
        ("STRIPE_WEBHOOK_SECRET", SECRET.to_owned()),
        ("SANDBOX_WEBHOOK_URL", nowhere()),
        ("WEBHOOK_CLAIM_TIMEOUT", "2s".to_owned()),
        ("RATE_LIMITS", "off".to_owned()),
    ];
    let mut nodes = serve_nodes(&url, dir.path(), &["node-a", "node-b"], &vars).await;
    let (survivor, _) = nodes.pop().unwrap();
    let (mut doomed, _) = nodes.pop().unwrap();
    let session: Value = client
        .post(format!("{}/api/auth/register", doomed.base))
        .json(&serde_json::json!({"email": "inbox@example.com", "password": "correct horse battery", "name": "Ada"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().expect("a token").to_owned();
    let customer = session["customer"]["stripe_customer_id"]
        .as_str()
        .expect("a Stripe customer")
        .to_owned();

    // Given 400 payments made in Stripe, each told by one event, delivered to node A,
    let endpoint = format!("{}/api/webhooks/stripe", doomed.base);
    let deliveries = tokio::spawn({
        let client = client.clone();
        async move {
            futures::stream::iter(0..400)
                .map(|n| {
                    let pi = format!("pi_takeover{n:04}");
                    let body = event(
                        &format!("evt_takeover_{n}"),
                        "payment_intent.succeeded",
                        now() - 60,
                        intent(&pi, &customer, "succeeded", now() - 60),
                    )
                    .to_string();
                    let header = signature_header(SECRET, now(), body.as_bytes());
                    client
                        .post(&endpoint)
                        .header("Content-Type", "application/json")
                        .header("Stripe-Signature", header)
                        .body(body)
                        .send()
                })
                .buffer_unordered(16)
                .filter_map(|sent| async move { sent.ok().map(|response| response.status()) })
                .collect::<Vec<StatusCode>>()
                .await
        }
    });
    // when node A is killed (SIGKILL) while it holds claims on events it is applying,
    let held = "SELECT COUNT(*) FROM stripe_inbox WHERE claimed_by IS NOT NULL";
    for _ in 0..5_000 {
        if count(&pool, held).await > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    doomed.process.kill().expect("node A is killed");
    doomed.process.wait().expect("node A is gone");
    let held_by_the_dead = count(&pool, held).await;
    assert!(held_by_the_dead > 0, "node A held no claim when it died");
    let acknowledged = deliveries.await.unwrap();
    let acknowledged = acknowledged
        .iter()
        .filter(|status| **status == StatusCode::OK)
        .count() as i64;

    // then node B takes the dead node's events over once its claims expire and applies
    // every event node A stored (each acknowledged one among them),
    let pending = "SELECT COUNT(*) FROM stripe_inbox WHERE status <> 'applied'";
    for _ in 0..150 {
        if count(&pool, pending).await == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        count(&pool, pending).await,
        0,
        "{:?}",
        statuses(&pool).await
    );
    let stored = count(&pool, "SELECT COUNT(*) FROM stripe_inbox").await;
    assert!(
        stored >= acknowledged,
        "{stored} stored, {acknowledged} acknowledged"
    );
    assert_eq!(count(&pool, held).await, 0);
    // each exactly once: one payment per event, however many nodes tried it.
    let created = "SELECT COUNT(*) FROM events WHERE event_type = 'PaymentCreated'";
    assert_eq!(count(&pool, created).await, stored);
    let mut listed = 0;
    for _ in 0..50 {
        let history: Value = client
            .get(format!("{}/api/payments/history?limit=100", survivor.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let succeeded = history["data"].as_array().map_or(0, |data| {
            data.iter().filter(|p| p["status"] == "succeeded").count()
        });
        listed = succeeded as i64;
        if listed == stored.min(100) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(listed, stored.min(100), "node B lists the payments as paid");
}
