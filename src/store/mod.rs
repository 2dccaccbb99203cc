//! Persistence: the SQLite pool and migrations, the event repository (its reads on SQLite's
//! handle: `event_reads`), the group-commit writer (its errors: `group_commit_error`; its
//! connection, opened the same way for the sandbox's writes too: `writer_connection`), the
//! choice between the node's log and the shared one on PostgreSQL (`log_repository`),
//! the cqrs-es wiring (every `Cqrs` alias), the event store with its snapshots
//! (`snapshot_store`, `snapshots`), the servers' lock on the database file (`lock`)
//! and the operators' backups and restores (`backup`); WAL checkpoints off the commit path
//! (`checkpoints`); SQLite's process-wide settings (`sqlite_process`); the same event store
//! on PostgreSQL for several nodes on one database (`postgres`). Knows SQL and cqrs-es;
//! knows no HTTP, no provider and no use case.

pub mod backup;
pub mod checkpoints;
pub mod cqrs;
pub mod event_reads;
pub mod event_repository;
pub mod group_commit;
mod group_commit_error;
pub mod lock;
pub mod log_repository;
pub mod pool;
pub mod postgres;
pub mod snapshot_store;
pub mod snapshots;
pub mod sqlite_process;
mod writer_connection;

pub use cqrs::*;
pub use writer_connection::{open_writing_connection, try_begin_immediate};
