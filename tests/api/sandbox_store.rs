//! The sandbox's transactions on the node's file: it writes on a SQLite connection of its own,
//! so a write it gives up must end its transaction, or every later write would wait for it.

use std::time::Duration;

use billstream::provider::sandbox::SandboxProvider;
use billstream::provider::{NewCustomer, PaymentProvider};
use uuid::Uuid;

use crate::helpers::open_pool;

fn new_customer() -> NewCustomer {
    NewCustomer {
        customer_id: Uuid::new_v4().to_string(),
        email: "store@example.com".into(),
        name: "Store Test".into(),
        phone: None,
    }
}

#[tokio::test]
async fn a_sandbox_write_abandoned_while_it_waits_for_the_write_lock_leaves_the_file_writable() {
    let dir = tempfile::tempdir().unwrap();
    let pool = open_pool(&dir.path().join("abandoned.db")).await;
    let provider = SandboxProvider::new(pool.clone());
    customer_created(&provider).await;

    // Given another connection holding SQLite's write lock, as another process might,
    let holder = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
    // when a sandbox write waits for it and its caller goes away (a client hanging up),
    let abandoned = tokio::time::timeout(
        Duration::from_millis(300),
        provider.create_customer(&new_customer(), "abandoned"),
    )
    .await;
    assert!(abandoned.is_err(), "the write waited for the lock");
    // and the lock is then released, so that the abandoned BEGIN goes through,
    holder.rollback().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    // then the sandbox writes again, and so does everyone else on the file.
    let created = tokio::time::timeout(Duration::from_secs(10), customer_created(&provider))
        .await
        .expect("the next sandbox write is not kept waiting");
    assert!(created.starts_with("cus_"), "{created}");
    tokio::time::timeout(
        Duration::from_secs(10),
        sqlx::query("CREATE TABLE written_after (id INTEGER)").execute(&pool),
    )
    .await
    .expect("the file's write lock is free")
    .expect("the pool writes");
}

async fn customer_created(provider: &SandboxProvider) -> String {
    provider
        .create_customer(&new_customer(), &Uuid::new_v4().to_string())
        .await
        .expect("customer created")
        .id
}
