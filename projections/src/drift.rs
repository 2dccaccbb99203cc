//! `replay --verify`: a view rebuilt from the log, compared row by row with the live one at the
//! same position. Any difference is drift — a row changed by hand, a projection bug fixed since
//! the row was written — and is reported without touching the live view.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;
use sqlx::SqliteConnection;

/// One row that differs between the live view and its rebuild.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift {
    pub table: &'static str,
    /// The row's primary key, `column=value` pairs.
    pub key: String,
    pub kind: DriftKind,
}

/// How a row differs.
#[derive(Debug, Clone, PartialEq)]
pub enum DriftKind {
    /// In both, with these columns different: (column, live value, rebuilt value).
    Changed(Vec<(String, Value, Value)>),
    /// In the rebuild only: the live view lost it.
    MissingFromLive,
    /// In the live view only: the log does not account for it.
    OnlyInLive,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: ", self.table, self.key)?;
        match &self.kind {
            DriftKind::Changed(columns) => {
                let columns: Vec<String> = columns
                    .iter()
                    .map(|(column, live, rebuilt)| {
                        format!("{column} is {live} in the live view, {rebuilt} rebuilt")
                    })
                    .collect();
                f.write_str(&columns.join("; "))
            }
            DriftKind::MissingFromLive => f.write_str("missing from the live view"),
            DriftKind::OnlyInLive => f.write_str("in the live view only (not in the log)"),
        }
    }
}

/// The differences between `main.<table>` and `temp.<table>` (same columns, same order).
pub async fn compare(
    conn: &mut SqliteConnection,
    table: &'static str,
) -> Result<Vec<Drift>, sqlx::Error> {
    let columns: Vec<(String, i64)> =
        sqlx::query_as("SELECT name, pk FROM pragma_table_info(?, 'main') ORDER BY cid")
            .bind(table)
            .fetch_all(&mut *conn)
            .await?;
    let as_json = columns
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let only = |from: &str, other: &str| {
        format!(
            "SELECT json_array({as_json}) FROM
               (SELECT * FROM {from}.\"{table}\" EXCEPT SELECT * FROM {other}.\"{table}\")"
        )
    };
    let live: Vec<String> = sqlx::query_scalar(&only("main", "temp"))
        .fetch_all(&mut *conn)
        .await?;
    let rebuilt: Vec<String> = sqlx::query_scalar(&only("temp", "main"))
        .fetch_all(&mut *conn)
        .await?;
    let keyed = |rows: Vec<String>| -> BTreeMap<String, Vec<Value>> {
        rows.into_iter()
            .map(|row| {
                let values: Vec<Value> = serde_json::from_str(&row).unwrap_or_default();
                (key_of(&columns, &values), values)
            })
            .collect()
    };
    let (mut live, rebuilt) = (keyed(live), keyed(rebuilt));
    let mut drifts = Vec::new();
    for (key, rebuilt_row) in rebuilt {
        let kind = match live.remove(&key) {
            Some(live_row) => DriftKind::Changed(
                columns
                    .iter()
                    .zip(live_row.into_iter().zip(rebuilt_row))
                    .filter(|(_, (live, rebuilt))| live != rebuilt)
                    .map(|((name, _), (live, rebuilt))| (name.clone(), live, rebuilt))
                    .collect(),
            ),
            None => DriftKind::MissingFromLive,
        };
        drifts.push(Drift { table, key, kind });
    }
    drifts.extend(live.into_keys().map(|key| Drift {
        table,
        key,
        kind: DriftKind::OnlyInLive,
    }));
    drifts.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(drifts)
}

/// `column=value` for each primary-key column of a row.
fn key_of(columns: &[(String, i64)], values: &[Value]) -> String {
    columns
        .iter()
        .zip(values)
        .filter(|((_, pk), _)| *pk > 0)
        .map(|((name, _), value)| match value {
            Value::String(text) => format!("{name}={text}"),
            other => format!("{name}={other}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}
