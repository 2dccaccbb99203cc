//! The views as they stood at a past position of the log, written into a separate SQLite file:
//! the books as of any date. The file's connection attaches the live database read-only in
//! spirit (only the log is read from it): the projections read the unqualified `events`, which
//! the new file lacks, so SQLite finds the attached log, and they write the view tables the new
//! file holds — the live views are never touched.

use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection, SqlitePool};

use crate::event_log;
use crate::shadow::Progress;
use crate::shadow_schema::TableSchema;
use crate::{ProjectionError, Projector};

/// A moment of the log: a position, or a time (the last event committed at or before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    Position(i64),
    Time(DateTime<Utc>),
}

impl FromStr for AsOf {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Ok(position) = text.parse::<i64>() {
            return if position >= 0 {
                Ok(Self::Position(position))
            } else {
                Err("a position is 0 or more".into())
            };
        }
        DateTime::parse_from_rfc3339(text)
            .map(|time| Self::Time(time.with_timezone(&Utc)))
            .map_err(|_| {
                "must be a log position (0, 1, …) or an RFC 3339 time such as \
                 2026-11-30T12:00:00Z"
                    .into()
            })
    }
}

/// The log position `as_of` names: a time maps to the last event committed at or before it (0
/// before the first), a position past the head to the head.
pub async fn resolve(conn: &mut SqliteConnection, as_of: AsOf) -> Result<i64, sqlx::Error> {
    let head = event_log::head_position(&mut *conn).await?;
    match as_of {
        AsOf::Position(position) => Ok(position.min(head)),
        AsOf::Time(time) => {
            // `recorded_at` is stored as `%Y-%m-%dT%H:%M:%fZ`: text order is time order.
            let at = time.to_rfc3339_opts(SecondsFormat::Millis, true);
            sqlx::query_scalar(
                "SELECT COALESCE(MAX(position), 0) FROM events WHERE recorded_at <= ?",
            )
            .bind(at)
            .fetch_one(conn)
            .await
        }
    }
}

impl Projector {
    /// Writes every view, as it stood once the events up to `position` were applied, into the
    /// new SQLite file `out` (which must not exist). Returns the events applied.
    pub async fn write_views_as_of(
        &self,
        out: &Path,
        position: i64,
        on_progress: Progress<'_>,
    ) -> Result<u64, ProjectionError> {
        let mut live = self.pool.acquire().await?;
        let live_file: String =
            sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(&mut *live)
                .await?;
        let views = self.select(&[])?;
        let mut schemas = Vec::new();
        for view in &views {
            for table in view.tables() {
                schemas.push(TableSchema::read(&mut live, table).await?);
            }
        }
        drop(live);
        let mut conn = SqliteConnectOptions::new()
            .filename(out)
            .create_if_missing(true)
            .connect()
            .await?;
        sqlx::query("ATTACH DATABASE ? AS live")
            .bind(&live_file)
            .execute(&mut conn)
            .await?;
        for schema in &schemas {
            for statement in schema.create_in("main") {
                sqlx::query(&statement).execute(&mut conn).await?;
            }
        }
        let mut applied = 0;
        let mut reached = 0;
        while reached < position {
            let mut tx = conn.begin().await?;
            let limit = self.batch_size.min(position - reached);
            let events = event_log::read_after(&mut tx, reached, limit).await?;
            let Some(last) = events.last().map(|event| event.position) else {
                tx.commit().await?;
                break;
            };
            for event in &events {
                for view in &views {
                    view.apply(&mut tx, event).await?;
                }
            }
            tx.commit().await?;
            applied += events.len() as u64;
            reached = last;
            on_progress(reached, position);
        }
        record_position(&mut conn, reached).await?;
        sqlx::query("DETACH DATABASE live")
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(applied)
    }
}

/// Notes in the file which position (and commit time) its views stand at.
async fn record_position(conn: &mut SqliteConnection, position: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "CREATE TABLE main.snapshot (position integer NOT NULL, recorded_at text, taken_at text NOT NULL) STRICT",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO main.snapshot (position, recorded_at, taken_at)
         VALUES (?1, (SELECT recorded_at FROM live.events WHERE position = ?1), ?2)",
    )
    .bind(position)
    .bind(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true))
    .execute(conn)
    .await?;
    Ok(())
}

/// The pool's helper for one-off reads of the log head and positions.
pub async fn resolve_in(pool: &SqlitePool, as_of: AsOf) -> Result<i64, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    resolve(&mut conn, as_of).await
}
