//! Event versions: a payload stored by an older version of an event still loads — through the
//! real event store (the aggregate's side) and through the projector (the views' side) — in
//! the current shape (`aggregates::versions`).

use std::time::Duration;

use aggregates::subscription::{Subscription, SubscriptionEvent};
use cqrs_es::EventStore;
use serde_json::Value;

use crate::helpers::{nowhere_url, open_pool, spawn_app_on_with, writer};

const OPERATOR: &str = "operator-token-for-event-versions";

/// A `SubscriptionRecorded` as billstream stored it at event version 1.0, before a state
/// carried `interval_count`.
const RECORDED_1_0: &str = r#"{"SubscriptionRecorded":{"customer_id":"cust-old","stripe_subscription_id":"sub_old","state":{"status":"active","price":"price_particulier","current_period_start":1780000000,"current_period_end":1782592000,"trial_end":null,"cancel_at_period_end":false,"plan":"particulier","amount":990,"currency":"eur","interval":"month","canceled_at":null,"ended_at":null},"at":"2026-05-28T20:26:40Z"}}"#;

#[tokio::test]
async fn a_subscription_stored_as_version_1_0_loads_through_the_store_and_the_views() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("billstream.db");
    let pool = open_pool(&db_path).await;
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata)
         VALUES ('Subscription', 'sub-old', 1, 'SubscriptionRecorded', '1.0', ?, '{}')",
    )
    .bind(RECORDED_1_0)
    .execute(&pool)
    .await
    .unwrap();

    // The aggregate's side: the event store upcasts as it loads.
    let store = billstream::store::event_store::<Subscription>(pool.clone(), &writer(&pool).await);
    let events = store
        .load_events("sub-old")
        .await
        .expect("the old event loads");
    let SubscriptionEvent::SubscriptionRecorded { state, .. } = &events[0].payload else {
        panic!("not a SubscriptionRecorded: {:?}", events[0].payload);
    };
    assert_eq!(state.interval_count, 1);
    assert_eq!(state.amount, Some(990));
    store
        .load_aggregate("sub-old")
        .await
        .expect("the aggregate loads");

    // The views' side: a server on this log builds its subscription view from it.
    let app = spawn_app_on_with(
        &db_path,
        &[
            ("OPERATOR_TOKEN", OPERATOR),
            ("SANDBOX_WEBHOOK_URL", &nowhere_url()),
        ],
    )
    .await;
    let mut stats = Value::Null;
    for _ in 0..50 {
        stats = app.get_json("/api/admin/stats", Some(OPERATOR)).await;
        if stats["currencies"][0]["mrr"] == 990 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stats["currencies"][0]["currency"], "eur", "{stats}");
    assert_eq!(stats["currencies"][0]["mrr"], 990, "{stats}");
    let interval_count: i64 = sqlx::query_scalar(
        "SELECT interval_count FROM subscriptions WHERE stripe_subscription_id = 'sub_old'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(interval_count, 1);
}

/// A reconciliation run as billstream stored it at event version 1.0, before the object pass,
/// with the lost event it fed.
const RUN_1_0: &str = r#"{"ReconciliationRun":{"since":"2026-11-01T00:00:00Z","until":"2026-12-01T00:00:00Z","listed":12,"missing":1,"repaired":1}}"#;
const DRIFT_1_0: &str =
    r#"{"DriftRepaired":{"stripe_event_id":"evt_old","event_type":"invoice.paid"}}"#;

#[tokio::test]
async fn a_reconciliation_run_stored_as_version_1_0_lists_as_one_that_compared_no_objects() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("billstream.db");
    let pool = open_pool(&db_path).await;
    for (sequence, event_type, payload) in [
        (1, "ReconciliationRun", RUN_1_0),
        (2, "DriftRepaired", DRIFT_1_0),
    ] {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                 event_version, payload, metadata)
             VALUES ('Reconciliation', 'run-old', ?, ?, '1.0', ?, '{}')",
        )
        .bind(sequence)
        .bind(event_type)
        .bind(payload)
        .execute(&pool)
        .await
        .unwrap();
    }
    let app = spawn_app_on_with(
        &db_path,
        &[
            ("OPERATOR_TOKEN", OPERATOR),
            ("SANDBOX_WEBHOOK_URL", &nowhere_url()),
        ],
    )
    .await;
    let runs = app
        .get_json("/api/admin/reconciliations", Some(OPERATOR))
        .await;
    let run = &runs["data"][0];
    assert_eq!(run["run_id"], "run-old", "{runs}");
    assert_eq!(run["listed"], 12);
    assert_eq!(run["repaired"][0]["stripe_event_id"], "evt_old");
    assert_eq!(run["objects_checked"], 0);
    assert_eq!(run["objects_differing"], 0);
    assert_eq!(run["objects_repaired"], serde_json::json!([]));
}
