//! Reading the event log in commit order, by global position.

use aggregates::versions;
use sqlx::{FromRow, SqliteConnection};

/// One committed event, as stored.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct StoredEvent {
    /// Global, gap-free position in commit order.
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// Position within its aggregate's stream, from 1.
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// The event as JSON text.
    pub payload: String,
    /// Request metadata (request id…) as JSON text.
    pub metadata: String,
    /// When the event was committed (RFC 3339, UTC).
    pub recorded_at: String,
}

impl StoredEvent {
    /// Decodes the payload into an aggregate's event type, upcast first when it was stored by
    /// an older version of the event (`aggregates::versions`), as the event store does.
    pub fn decode<E: serde::de::DeserializeOwned>(&self) -> Result<E, crate::ProjectionError> {
        let error = |source| crate::ProjectionError::Decode {
            position: self.position,
            event_type: self.event_type.clone(),
            source,
        };
        if !versions::needs_upcast(&self.aggregate_type, &self.event_type, &self.event_version) {
            return serde_json::from_str(&self.payload).map_err(error);
        }
        let stored = serde_json::from_str(&self.payload).map_err(error)?;
        let (payload, _) = versions::upcast(
            &self.aggregate_type,
            &self.event_type,
            &self.event_version,
            stored,
        );
        serde_json::from_value(payload).map_err(error)
    }
}

pub(crate) const COLUMNS: &str = "position, aggregate_type, aggregate_id, sequence, event_type, \
                       event_version, payload, metadata, recorded_at";

/// Up to `limit` events after `position`, in commit order.
pub async fn read_after(
    conn: &mut SqliteConnection,
    position: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    read(conn, &EventFilter::default(), position, limit).await
}

/// The position of the last committed event (0 for an empty log).
pub async fn head_position(conn: &mut SqliteConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events")
        .fetch_one(conn)
        .await
}

/// Narrows a read of the log to one aggregate type and/or id, one event type, and a span of
/// commit times (`recorded_at` as stored, `YYYY-MM-DDTHH:MM:SS.sssZ`: text order is time order).
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub aggregate_type: Option<String>,
    pub aggregate_id: Option<String>,
    pub event_type: Option<String>,
    /// Committed at or after this time.
    pub recorded_from: Option<String>,
    /// Committed before this time.
    pub recorded_until: Option<String>,
}

/// Up to `limit` events after `position` that match `filter`, in commit order.
pub async fn read(
    conn: &mut SqliteConnection,
    filter: &EventFilter,
    position: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM events
          WHERE position > ?1
            AND (?2 IS NULL OR aggregate_type = ?2)
            AND (?3 IS NULL OR aggregate_id = ?3)
            AND (?5 IS NULL OR event_type = ?5)
            AND (?6 IS NULL OR recorded_at >= ?6)
            AND (?7 IS NULL OR recorded_at < ?7)
          ORDER BY position
          LIMIT ?4"
    ))
    .bind(position)
    .bind(filter.aggregate_type.as_deref())
    .bind(filter.aggregate_id.as_deref())
    .bind(limit)
    .bind(filter.event_type.as_deref())
    .bind(filter.recorded_from.as_deref())
    .bind(filter.recorded_until.as_deref())
    .fetch_all(conn)
    .await
}
