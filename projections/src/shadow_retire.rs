//! Freeing a view's old table after a rebuild's swap (see `shadow`'s header): the swap only
//! renamed it to `<table>__retired`, and its pages are freed here, in short write transactions
//! taken in turn with the service's writes, so no writer waits for a whole table's worth.
//!
//! First its own indexes go, one `DROP INDEX` each: an index is freed in one pass over its
//! pages (7-17 ms for the payments view's two on a 1,000,000-event log). Then its rows, a chunk
//! at a time: with the indexes gone, each chunk only touches the table and the indexes its
//! constraints imply. Deleting the rows with every index in place cost a random page of each
//! index per row: emptying the payments view took 7.1-8.2 s, against 6.0-6.8 s this way
//! (BENCHMARKS.md, stop 41). Dropping the whole table in one transaction would hold the write
//! lock for as long as reading every page of it takes (about half a second there).

use sqlx::SqliteConnection;

use crate::shadow_copy::COPY_CHUNK;
use crate::shadow_schema::TableSchema;
use crate::WriteGate;

/// The name a live table takes in the swap until it is emptied and dropped.
pub(crate) fn retired_name(table: &str) -> String {
    format!("{table}__retired")
}

/// Empties and drops each view's retired table, if any; see the module header.
pub(crate) async fn drop_retired(
    conn: &mut SqliteConnection,
    gate: &WriteGate,
    schemas: &[TableSchema],
) -> Result<(), sqlx::Error> {
    for schema in schemas {
        let retired = retired_name(schema.table);
        let exists: Option<String> = sqlx::query_scalar(
            "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name = ?1",
        )
        .bind(&retired)
        .fetch_optional(&mut *conn)
        .await?;
        if exists.is_none() {
            continue;
        }
        drop_indexes(conn, gate, &retired).await?;
        empty_and_drop(conn, gate, &retired).await?;
    }
    Ok(())
}

/// Drops the indexes created on `retired` (not those its constraints imply, which go with the
/// table), each in a write transaction of its own.
async fn drop_indexes(
    conn: &mut SqliteConnection,
    gate: &WriteGate,
    retired: &str,
) -> Result<(), sqlx::Error> {
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM main.sqlite_master
          WHERE type = 'index' AND tbl_name = ?1 AND sql IS NOT NULL",
    )
    .bind(retired)
    .fetch_all(&mut *conn)
    .await?;
    for index in indexes {
        let _turn = gate.turn().await;
        let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
        sqlx::query(&format!("DROP INDEX IF EXISTS main.\"{index}\""))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Deletes `retired`'s rows a chunk per write transaction, then drops it.
async fn empty_and_drop(
    conn: &mut SqliteConnection,
    gate: &WriteGate,
    retired: &str,
) -> Result<(), sqlx::Error> {
    loop {
        let _turn = gate.turn().await;
        let mut tx = sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?;
        let deleted = sqlx::query(&format!(
            "DELETE FROM main.\"{retired}\"
              WHERE rowid IN (SELECT rowid FROM main.\"{retired}\" LIMIT ?1)"
        ))
        .bind(COPY_CHUNK)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if deleted == 0 {
            sqlx::query(&format!("DROP TABLE main.\"{retired}\""))
                .execute(&mut *tx)
                .await?;
            return tx.commit().await;
        }
        tx.commit().await?;
    }
}
