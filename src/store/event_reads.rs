//! An aggregate's events read from the calling thread on one of the file's reader connections
//! (`projections::Readers`, a pooled connection's handle when they are all busy): the rows
//! sqlite-es reads, with its statement, prepared once per connection, and no message to sqlx's
//! connection thread, per row or per load. Every command loads its aggregate this way.

use cqrs_es::persist::{PersistenceError, SerializedEvent};
use projections::Readers;
use rusqlite::types::Type;
use serde_json::Value;

/// sqlite-es's select, with the optional lower bound of `get_last_events`.
const SELECT_EVENTS: &str = "SELECT aggregate_type, aggregate_id, sequence, event_type,
        event_version, payload, metadata
   FROM events
  WHERE aggregate_type = ?1 AND aggregate_id = ?2 AND sequence > ?3
  ORDER BY sequence";

/// The events of aggregate `(aggregate_type, aggregate_id)` after sequence `after` (`None`: all
/// of them), in order.
pub async fn select_events(
    readers: &Readers,
    aggregate_type: &'static str,
    aggregate_id: &str,
    after: Option<usize>,
) -> Result<Vec<SerializedEvent>, PersistenceError> {
    let aggregate_id = aggregate_id.to_owned();
    let after = match after {
        Some(sequence) => i64::try_from(sequence)
            .map_err(|error| PersistenceError::UnknownError(Box::new(error)))?,
        None => -1,
    };
    readers
        .read(move |db| {
            let mut statement = db.prepare_cached(SELECT_EVENTS)?;
            let rows = statement.query_map(
                rusqlite::params![aggregate_type, aggregate_id, after],
                |row| {
                    let sequence: i64 = row.get(2)?;
                    Ok(SerializedEvent::new(
                        row.get(1)?,
                        usize::try_from(sequence).map_err(|error| {
                            rusqlite::Error::FromSqlConversionFailure(
                                2,
                                Type::Integer,
                                Box::new(error),
                            )
                        })?,
                        row.get(0)?,
                        row.get(3)?,
                        row.get(4)?,
                        json(row, 5)?,
                        json(row, 6)?,
                    ))
                },
            )?;
            rows.collect()
        })
        .await
        .map_err(|error| PersistenceError::ConnectionError(Box::new(error)))
}

/// Column `index`, JSON text, as a value.
fn json(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Value> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(index, Type::Text, Box::new(error))
    })
}
