//! The references every ratio is taken against, measured in the same run on the same machine:
//! SQLite called directly (what storage alone costs), the service's own `GET /health` (what
//! HTTP alone costs), and extras kept to compare with earlier reports and to show what the
//! async hop through sqlx costs by itself.

pub mod direct;
pub mod http;
pub mod through_sqlx;

use std::time::Duration;

use serde_json::json;

/// A table shaped like billstream's event log (its columns and primary key; no position
/// trigger: the references bind the position themselves).
const EVENT_LOG_TABLE: &str = "CREATE TABLE events (aggregate_type text NOT NULL,
    aggregate_id text NOT NULL, sequence integer NOT NULL, event_type text NOT NULL,
    event_version text NOT NULL, payload text NOT NULL, metadata text NOT NULL,
    position integer,
    recorded_at text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)) STRICT";

/// One event-log row: aggregate id, payload and position are bound.
const INSERT_EVENT: &str = "INSERT INTO events (aggregate_type, aggregate_id, sequence,
    event_type, event_version, payload, metadata, position)
    VALUES ('Payment', ?1, 1, 'PaymentSucceeded', '1', ?2, '{}', ?3)";

/// The replay's read: every event in log order, the columns the replay decodes.
const SCAN_LOG: &str = "SELECT aggregate_type, aggregate_id, sequence, event_type,
    event_version, payload, metadata, position FROM events ORDER BY position";

/// A payload the size of a real `PaymentSucceeded`.
fn payload() -> String {
    json!({"PaymentSucceeded": {"amount": 1000, "currency": "eur",
        "payment_intent_id": "pi_3Q0000000000000000000000",
        "succeeded_at": "2026-11-24T10:00:00Z"}})
    .to_string()
}

/// The aggregate id of reference row `i` (distinct per row, as each payment is).
fn aggregate_id(i: usize) -> String {
    format!("{i:032x}")
}

/// What an insert reference measured.
pub struct InsertFigures {
    /// Rows per second at one row per durable transaction.
    pub single_rows_per_s: f64,
    /// p99 of one such transaction (BEGIN, INSERT, COMMIT with its fsync).
    pub single_p99: Duration,
    /// Rows per second at 100 rows per durable transaction.
    pub batched_rows_per_s: f64,
}
