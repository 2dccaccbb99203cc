//! The log on PostgreSQL refuses every rewrite, and a long stream loads from its snapshot, on
//! any node, the same as from all of its events.

use aggregates::customer::{
    Customer, CustomerCommand, CustomerName, Email, FieldUpdate, PasswordHash, RegisterCustomer,
    UpdateProfile,
};
use aggregates::versions::Upcaster;
use billstream::store::postgres::PgEventRepository;
use billstream::store::{pg_cqrs_for, PgEventStore};
use chrono::Utc;
use cqrs_es::{Aggregate, EventStore};

use super::two_nodes;

pub fn register(email: &str) -> CustomerCommand {
    CustomerCommand::Register(RegisterCustomer {
        email: Email::parse(email).expect("an address"),
        name: CustomerName::parse("Ada Lovelace").expect("a name"),
        phone: None,
        password_hash: PasswordHash::new("$2b$04$not-a-real-hash".into()),
        stripe_customer_id: "cus_test".into(),
        registered_at: Utc::now(),
    })
}

fn rename(name: &str) -> CustomerCommand {
    CustomerCommand::UpdateProfile(UpdateProfile {
        name: Some(CustomerName::parse(name).expect("a name")),
        phone: FieldUpdate::Keep,
        updated_at: Utc::now(),
    })
}

#[tokio::test]
async fn the_log_on_postgres_refuses_updates_deletes_and_truncation() {
    // Given one registered customer
    let (pool, _) = two_nodes().await;
    pg_cqrs_for::<Customer>(pool.clone(), ())
        .execute("cust-1", register("ada@example.com"))
        .await
        .expect("registered");
    // When anyone tries to rewrite, remove or truncate the log
    for statement in [
        "UPDATE events SET payload = '{}'::jsonb",
        "UPDATE events SET position = 7",
        "DELETE FROM events",
        "TRUNCATE events",
    ] {
        let refused = sqlx::query(statement).execute(&pool).await;
        // Then PostgreSQL refuses it, saying why
        let error = refused.expect_err(statement).to_string();
        assert!(error.contains("append-only"), "{statement}: {error}");
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(&pool)
        .await
        .expect("a count");
    assert_eq!(count, 1);
}

#[tokio::test]
async fn a_long_stream_written_on_one_node_loads_from_its_snapshot_on_another_as_from_its_events() {
    // Given a customer renamed 250 times on node 1 (a snapshot every 100 events)
    let (first, second) = two_nodes().await;
    let one = pg_cqrs_for::<Customer>(first.clone(), ());
    one.execute("cust-1", register("ada@example.com"))
        .await
        .expect("registered");
    for round in 0..250 {
        one.execute("cust-1", rename(&format!("Ada {round}")))
            .await
            .expect("renamed");
    }
    let snapshot: i64 = sqlx::query_scalar(
        "SELECT last_sequence FROM snapshots WHERE aggregate_type = 'Customer' AND aggregate_id = 'cust-1'",
    )
    .fetch_one(&second)
    .await
    .expect("a snapshot row");
    assert_eq!(snapshot, 200, "snapshots at 100 and 200 events");
    // When node 2 loads it (snapshot + 51 events) and replays it from every event
    let store: PgEventStore<Customer> = PgEventStore::new(
        PgEventRepository::new(second.clone()),
        vec![Box::new(Upcaster)],
    );
    let loaded = store.load_aggregate("cust-1").await.expect("loaded");
    let mut replayed = Customer::default();
    for envelope in store.load_events("cust-1").await.expect("events") {
        replayed.apply(envelope.payload);
    }
    // Then both are the same customer, at the same sequence, and node 2 can go on
    assert_eq!(loaded.current_sequence, 251);
    assert_eq!(loaded.aggregate, replayed);
    pg_cqrs_for::<Customer>(second.clone(), ())
        .execute("cust-1", rename("Ada, Countess of Lovelace"))
        .await
        .expect("renamed on node 2");
}
