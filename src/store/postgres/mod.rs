//! The event store on PostgreSQL, for several billstream nodes on one database: the pool and
//! its migrations (`pool`, `migrations/postgres/`); the event repository (`event_repository`),
//! whose appends are group-committed (`group_commit`) and take gap-free global positions in
//! commit order; snapshots (`snapshots`); the reader of the whole log in that order (`log`);
//! each node's copy of the log in its own SQLite file (`mirror`);
//! and the copy of another log into it (`import`, for `billstream migrate-to`).
//!
//! Every invariant is the database's, not a process's: the aggregate's optimistic concurrency
//! (its next sequence is a primary key) and the claims the appending transaction makes
//! (`events_claim()` in the migration), so they hold across any number of nodes.
//!
//! May import sqlx, cqrs-es, `projections`' event-log rows and `crate::store`'s
//! backend-neutral parts (`snapshot_store`, `snapshots`); knows no HTTP, no provider and no
//! use case.

pub mod event_repository;
pub mod group_commit;
pub mod import;
pub mod log;
pub mod mirror;
pub mod pool;
pub mod snapshots;

pub use event_repository::PgEventRepository;
pub use pool::{connect, migrate, PgSettings};
