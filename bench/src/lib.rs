//! Shared parts of billstream's benchmarks and reliability harness: the service under test as
//! a child process, closed-loop load, signed Stripe events, the machine's description, scratch
//! PostgreSQL databases for runs on the shared log.

pub mod api;
pub mod events;
pub mod load;
pub mod machine;
pub mod postgres;
pub mod profile;
pub mod replay_log;
pub mod service;
