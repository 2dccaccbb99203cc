//! The sandbox's transactions on the node's file: it writes on a SQLite connection of its own,
//! so a write it gives up must end its transaction, or every later write would wait for it.

use std::time::Duration;

use billstream::provider::sandbox::SandboxProvider;
use billstream::provider::{NewCustomer, PaymentProvider, ProviderError};
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

#[tokio::test]
async fn sandbox_writes_queued_together_share_a_commit_and_a_refused_one_leaves_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let pool = open_pool(&dir.path().join("batched.db")).await;
    let provider = SandboxProvider::new(pool.clone());
    let used_key = Uuid::new_v4().to_string();
    provider
        .create_customer(&new_customer(), &used_key)
        .await
        .expect("customer created");
    let before = provider
        .node_commits()
        .await
        .unwrap()
        .expect("the node's file");

    // Given sixteen customers created at once, one under a key already used for another
    // customer,
    let writes = (0..16).map(|i| {
        let provider = &provider;
        let key = if i == 7 {
            used_key.clone()
        } else {
            Uuid::new_v4().to_string()
        };
        async move { provider.create_customer(&new_customer(), &key).await }
    });
    let outcomes = futures::future::join_all(writes).await;

    // then the reused key alone is refused,
    let refused = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Err(ProviderError::IdempotencyKeyReused)))
        .count();
    assert_eq!(refused, 1, "{outcomes:?}");
    assert_eq!(
        outcomes.iter().filter(|outcome| outcome.is_ok()).count(),
        15
    );
    // every other customer is on the file,
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM sandbox_customers")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(kept, 16, "the first customer and the fifteen accepted");
    // and the fifteen writes shared a few commits between them.
    let after = provider
        .node_commits()
        .await
        .unwrap()
        .expect("the node's file");
    assert_eq!(after.writes - before.writes, 15);
    let commits = after.commits - before.commits;
    assert!(commits <= 7, "{commits} commits for 15 writes");
}

async fn customer_created(provider: &SandboxProvider) -> String {
    provider
        .create_customer(&new_customer(), &Uuid::new_v4().to_string())
        .await
        .expect("customer created")
        .id
}
