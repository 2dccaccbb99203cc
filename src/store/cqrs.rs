//! The write side: cqrs-es frameworks over the event repository (sqlite-es reads,
//! group-committed appends and snapshots), or over PostgreSQL's (`pg_cqrs_for`).

use std::sync::Arc;

use aggregates::customer::Customer;
use aggregates::invoice::Invoice;
use aggregates::subscription::Subscription;
use aggregates::versions::Upcaster;
use async_trait::async_trait;
use cqrs_es::{Aggregate, CqrsFramework, EventEnvelope, Query};
use projections::Projector;
use sqlx::SqlitePool;

use crate::store::event_repository::GroupCommitEventRepository;
use crate::store::group_commit::GroupCommit;
use crate::store::log_repository::LogRepository;
use crate::store::postgres::PgEventRepository;
use crate::store::snapshot_store::SnapshotStore;

/// The event store of aggregate `A`.
pub type EventStore<A> = SnapshotStore<A>;

/// The command framework of aggregate `A`.
pub type Cqrs<A> = CqrsFramework<A, EventStore<A>>;

/// The event store of aggregate `A` on PostgreSQL.
pub type PgEventStore<A> = SnapshotStore<A, PgEventRepository>;

/// The command framework of aggregate `A` on PostgreSQL.
pub type PgCqrs<A> = CqrsFramework<A, PgEventStore<A>>;

/// Commands on invoices.
pub type InvoiceCqrs = Cqrs<Invoice>;

/// Commands on subscriptions.
pub type SubscriptionCqrs = Cqrs<Subscription>;

/// Commands on customers.
pub type CustomerCqrs = Cqrs<Customer>;

/// After every commit, brings the read models up to date before the command returns, so a
/// client reads its own writes. A failure here loses nothing: the events are committed and the
/// projector's next run (or the next start) applies them from its checkpoint.
pub struct CatchUpProjections(pub Arc<Projector>);

#[async_trait]
impl<A: Aggregate> Query<A> for CatchUpProjections {
    async fn dispatch(&self, aggregate_id: &str, _events: &[EventEnvelope<A>]) {
        if let Err(error) = self.0.catch_up().await {
            tracing::error!(%error, aggregate_type = A::TYPE, aggregate_id, "projector catch-up failed; will retry");
        }
    }
}

/// The event store of aggregate `A` over `pool`, appending through `writer` (or to the shared
/// log on PostgreSQL when the node's writer has one, `GroupCommit::with_shared_log`); payloads of older
/// event versions are upcast as they load (`aggregates::versions`). Aggregates whose streams
/// grow without bound load from a snapshot and the events after it (`snapshot_store`): a
/// snapshot holds state, taken from upcast events, so old versions need no care there.
pub fn event_store<A: Aggregate>(pool: SqlitePool, writer: &GroupCommit) -> EventStore<A> {
    let repository = match writer.shared_log() {
        Some(shared) => LogRepository::Shared(shared.clone()),
        None => LogRepository::Node(GroupCommitEventRepository::new(pool, writer.clone())),
    };
    SnapshotStore::new(repository, vec![Box::new(Upcaster)])
}

/// A framework for aggregate `A` on PostgreSQL, with the same upcasters and snapshots as on
/// SQLite and no read models yet: nodes on PostgreSQL share the write side.
pub fn pg_cqrs_for<A: Aggregate + 'static>(pool: sqlx::PgPool, services: A::Services) -> PgCqrs<A> {
    let store = SnapshotStore::new(PgEventRepository::new(pool), vec![Box::new(Upcaster)]);
    CqrsFramework::new(store, vec![], services)
}

/// A framework for aggregate `A`, appending through `writer`, whose commits are followed by a
/// projector catch-up.
pub fn cqrs_for<A: Aggregate + 'static>(
    pool: SqlitePool,
    writer: &GroupCommit,
    projector: Option<Arc<Projector>>,
    services: A::Services,
) -> Cqrs<A> {
    let store = event_store(pool, writer);
    let queries: Vec<Box<dyn Query<A>>> = projector
        .map(|projector| Box::new(CatchUpProjections(projector)) as Box<dyn Query<A>>)
        .into_iter()
        .collect();
    CqrsFramework::new(store, queries, services)
}
