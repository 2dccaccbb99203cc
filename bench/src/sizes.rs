//! How much each part of a run does: the full run's sizes and CI's short ones.

/// Sizes of one run.
pub struct Sizes {
    /// One-row transactions of the direct SQLite reference (its p99 is the command latency's
    /// reference, so it needs enough samples for a stable tail).
    pub direct_single: usize,
    /// 100-row transactions of the direct SQLite reference.
    pub direct_batches: usize,
    /// One-row transactions of the extra sqlx reference.
    pub sqlx_single: usize,
    /// 100-row transactions of the extra sqlx reference.
    pub sqlx_batches: usize,
    /// Requests to `GET /health` and to the hello world.
    pub http: usize,
    pub webhooks: usize,
    pub commands: usize,
    pub reads: usize,
    pub history_payments: usize,
    /// Events in the long customer stream of the stream-length check.
    pub long_stream: usize,
    /// Timed commands on each of the long and the short stream.
    pub stream_commands: usize,
    pub replay_events: u64,
    pub login_seconds: f64,
}

pub const FULL: Sizes = Sizes {
    direct_single: 2_000,
    direct_batches: 1_000,
    sqlx_single: 2_000,
    sqlx_batches: 300,
    http: 40_000,
    webhooks: 20_000,
    commands: 2_000,
    reads: 20_000,
    history_payments: 1_000,
    long_stream: 10_000,
    stream_commands: 41,
    replay_events: 1_000_000,
    login_seconds: 10.0,
};

pub const QUICK: Sizes = Sizes {
    direct_single: 200,
    direct_batches: 50,
    sqlx_single: 200,
    sqlx_batches: 20,
    http: 2_000,
    webhooks: 1_000,
    commands: 100,
    reads: 1_000,
    history_payments: 200,
    long_stream: 1_000,
    stream_commands: 11,
    replay_events: 20_000,
    login_seconds: 2.0,
};

/// Connections of the HTTP load (ingest, reads, `/health`, hello world).
pub const CONNECTIONS: usize = 64;
/// Connections of the command load.
pub const COMMAND_CONNECTIONS: usize = 16;
/// Events on the short stream the long one is compared with.
pub const SHORT_STREAM: usize = 10;
