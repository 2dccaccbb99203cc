//! Persistence: the SQLite pool and migrations, the event repository, the group-commit writer
//! and the cqrs-es wiring (every `Cqrs` alias). Knows SQL and cqrs-es; knows no HTTP, no
//! provider and no use case.

pub mod cqrs;
pub mod event_repository;
pub mod group_commit;
pub mod pool;

pub use cqrs::*;
