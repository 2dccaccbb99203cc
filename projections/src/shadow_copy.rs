//! Copying a rebuilt view from its TEMP shadow into `main.<table>__rebuild` (see `shadow`'s
//! header): in chunks, each a short write transaction taken in turn with the service's writes,
//! in the order of the table's id, and the table's other indexes built once its rows are in.
//!
//! Why that order: a view's indexes are on random keys (ids, customers). Kept during the copy,
//! each chunk of 2,000 rows landed all over every index, and each commit rewrote most of those
//! indexes' pages into the WAL; on a 1,000,000-event log, copying the payments view took 15.4 s
//! of a 51 s replay. Copied in id order the id's index only grows at its end, and an index
//! built from the finished table is one sorted pass: 8.9 s (BENCHMARKS.md, stop 31).

use sqlx::{Sqlite, SqliteConnection};

use crate::shadow_schema::{shadow_name, TableSchema};
use crate::WriteGate;

/// Rows copied into the main database per write transaction: a few milliseconds of lock.
pub(crate) const COPY_CHUNK: i64 = 2_000;

/// Copies a TEMP shadow into `main.<table>__rebuild`, a chunk per short write transaction, in
/// the order of the table's text key when it has one (the key's index then only grows at its
/// end), in rowid order otherwise.
pub(crate) async fn copy_to_main(
    conn: &mut SqliteConnection,
    gate: &WriteGate,
    schema: &TableSchema,
) -> Result<(), sqlx::Error> {
    match &schema.text_key {
        // '' and i64::MIN are the smallest of their kind: the first chunk starts at them.
        Some(key) => {
            copy_in_order(
                conn,
                gate,
                schema.table,
                &format!("\"{key}\""),
                String::new(),
            )
            .await
        }
        None => copy_in_order(conn, gate, schema.table, "rowid", i64::MIN).await,
    }
}

/// Copies the rows of `temp.<table>` in the order of `column`, `COPY_CHUNK` at a time, the
/// first chunk from `first` (included) on, each next one after the last value copied.
async fn copy_in_order<T>(
    conn: &mut SqliteConnection,
    gate: &WriteGate,
    table: &str,
    column: &str,
    first: T,
) -> Result<(), sqlx::Error>
where
    T: for<'q> sqlx::Encode<'q, Sqlite> + for<'r> sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
    T: Send + Sync + Unpin + 'static,
{
    let shadow = shadow_name(table);
    let mut from = first;
    let mut above = ">=";
    loop {
        let _turn = gate.turn().await;
        let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
        let last: Option<T> = sqlx::query_scalar(&format!(
            "SELECT MAX({column}) FROM (SELECT {column} FROM temp.\"{table}\"
              WHERE {column} {above} ?1 ORDER BY {column} LIMIT ?2)"
        ))
        .bind(&from)
        .bind(COPY_CHUNK)
        .fetch_one(&mut *tx)
        .await?;
        let Some(last) = last else {
            tx.commit().await?;
            return Ok(());
        };
        sqlx::query(&format!(
            "INSERT INTO main.\"{shadow}\" SELECT * FROM temp.\"{table}\"
              WHERE {column} {above} ?1 AND {column} <= ?2 ORDER BY {column}"
        ))
        .bind(&from)
        .bind(&last)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        from = last;
        above = ">";
    }
}

/// Creates the indexes of `main.<table>__rebuild` once its rows are in, each in a write
/// transaction of its own. Built from the finished table, an index is one sorted pass; kept
/// during the copy, an index on a random key (a customer, an id) had each chunk rewrite most of
/// its pages into the WAL, the copy's largest cost (BENCHMARKS.md).
pub(crate) async fn index_main_shadow(
    conn: &mut SqliteConnection,
    gate: &WriteGate,
    schema: &TableSchema,
) -> Result<(), sqlx::Error> {
    for statement in schema.create_shadow_indexes_in_main() {
        let _turn = gate.turn().await;
        let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
        sqlx::query(&statement).execute(&mut *tx).await?;
        tx.commit().await?;
    }
    Ok(())
}
