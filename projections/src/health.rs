//! How far behind the log each projection is, and how big it is: what an operator reads before
//! deciding to wait, rebuild, or look for a stuck projector.

use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use crate::event_log;
use crate::projector::Projection;

/// One table of a projection and its row count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRows {
    pub table: &'static str,
    pub rows: i64,
}

/// Where one projection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectionHealth {
    pub name: &'static str,
    /// The position of the last event it applied (0 before the first).
    pub checkpoint: i64,
    /// Events committed that it has not applied yet.
    pub lag_events: i64,
    /// Age of the oldest event it has not applied, whole seconds (0 when caught up).
    pub lag_seconds: i64,
    pub tables: Vec<TableRows>,
    /// When a full replay last rebuilt it (RFC 3339), if one is recorded.
    pub rebuilt_at: Option<String>,
}

/// The health of each of `projections`, as of `now`, read in one transaction so the head, the
/// checkpoints and the counts agree.
pub async fn health(
    conn: &mut SqliteConnection,
    projections: &[std::sync::Arc<dyn Projection>],
    now: DateTime<Utc>,
) -> Result<Vec<ProjectionHealth>, sqlx::Error> {
    let head = event_log::head_position(&mut *conn).await?;
    let mut report = Vec::with_capacity(projections.len());
    for projection in projections {
        let stored: Option<(i64, Option<String>)> = sqlx::query_as(
            "SELECT position, rebuilt_at FROM projection_checkpoints WHERE projection = ?",
        )
        .bind(projection.name())
        .fetch_optional(&mut *conn)
        .await?;
        let (checkpoint, rebuilt_at) = stored.unwrap_or((0, None));
        let oldest_unapplied: Option<String> =
            sqlx::query_scalar("SELECT recorded_at FROM events WHERE position = ?")
                .bind(checkpoint + 1)
                .fetch_optional(&mut *conn)
                .await?;
        let lag_seconds = oldest_unapplied
            .and_then(|at| DateTime::parse_from_rfc3339(&at).ok())
            .map_or(0, |at| (now - at.with_timezone(&Utc)).num_seconds().max(0));
        let mut tables = Vec::new();
        for table in projection.tables() {
            // Table names come from the projections' own constants, never from a request.
            let rows = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&mut *conn)
                .await?;
            tables.push(TableRows { table, rows });
        }
        report.push(ProjectionHealth {
            name: projection.name(),
            checkpoint,
            lag_events: (head - checkpoint).max(0),
            lag_seconds,
            tables,
            rebuilt_at,
        });
    }
    Ok(report)
}
