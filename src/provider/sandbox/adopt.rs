//! Moving a node's sandbox into the shared one: what `migrate-to` copies with the log, and what
//! a node that ran its sandbox in its own file brings along when it starts on the shared
//! database. Without it, the payments, subscriptions and invoices billstream already recorded
//! would name sandbox objects no node can find.
//!
//! Rows are copied table by table in the node's order, each as the JSON of its columns (both
//! engines spell the tables alike), and never over a row the shared sandbox already has, so a
//! copy repeated or interrupted is harmless. The clock keeps the later of the two times: a
//! sandbox's time never goes back.

use sqlx::{PgPool, SqlitePool};

/// The tables copied, parents before children, and the column the shared side numbers itself
/// (the outbox's queue position), left out of the copy.
const TABLES: [(&str, Option<&str>); 8] = [
    ("sandbox_customers", None),
    ("sandbox_idempotency_keys", None),
    ("sandbox_payment_intents", None),
    ("sandbox_charges", None),
    ("sandbox_refunds", None),
    ("sandbox_subscriptions", None),
    ("sandbox_invoices", None),
    ("sandbox_webhook_outbox", Some("seq")),
];

/// Rows per copied page.
const PAGE: i64 = 500;

/// Copies every row of `from`'s sandbox the shared sandbox in `to` does not hold (by primary
/// key, or by event id in the outbox); returns how many rows were copied.
pub async fn adopt(from: &SqlitePool, to: &PgPool) -> Result<u64, sqlx::Error> {
    let mut copied = 0;
    for (table, numbered_there) in TABLES {
        copied += copy_table(from, to, table, numbered_there).await?;
    }
    let offset: Option<i64> =
        sqlx::query_scalar("SELECT offset_seconds FROM sandbox_clock WHERE id = 1")
            .fetch_optional(from)
            .await?;
    if let Some(offset) = offset {
        sqlx::query(
            "UPDATE sandbox_clock SET offset_seconds = GREATEST(offset_seconds, $1) WHERE id = 1",
        )
        .bind(offset)
        .execute(to)
        .await?;
    }
    Ok(copied)
}

/// Empties the node's sandbox once it has moved (its clock row stays, as its migration made
/// it): the node reads the shared one from now on.
pub async fn forget(node: &SqlitePool) -> Result<(), sqlx::Error> {
    let mut tx = node.begin().await?;
    for (table, _) in TABLES {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

async fn copy_table(
    from: &SqlitePool,
    to: &PgPool,
    table: &str,
    numbered_there: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let columns: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
            .bind(table)
            .fetch_all(from)
            .await?;
    let columns: Vec<String> = columns
        .into_iter()
        .filter(|column| Some(column.as_str()) != numbered_there)
        .collect();
    let as_json = columns
        .iter()
        .map(|column| format!("'{column}', \"{column}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let read = format!(
        "SELECT rowid, json_object({as_json}) FROM {table} WHERE rowid > $1 ORDER BY rowid LIMIT $2"
    );
    let listed = columns.join(", ");
    // Each row becomes a record of the shared table's own type, in the node's order.
    let write = format!(
        "INSERT INTO {table} ({listed})
         SELECT {listed} FROM unnest($1::text[]) WITH ORDINALITY AS page(doc, n),
                LATERAL json_populate_record(NULL::{table}, page.doc::json)
          ORDER BY n
         ON CONFLICT DO NOTHING"
    );
    let mut after = 0_i64;
    let mut copied = 0;
    loop {
        let rows: Vec<(i64, String)> = sqlx::query_as(&read)
            .bind(after)
            .bind(PAGE)
            .fetch_all(from)
            .await?;
        let Some((last, _)) = rows.last() else {
            return Ok(copied);
        };
        after = *last;
        let page: Vec<String> = rows.into_iter().map(|(_, row)| row).collect();
        copied += sqlx::query(&write)
            .bind(page)
            .execute(to)
            .await?
            .rows_affected();
    }
}
