//! A node's copy of the shared log: on PostgreSQL, every node keeps its views, inbox and other
//! node-local state in a SQLite file of its own (`NODE_DATABASE_URL`), and copies the log into
//! that file's `events` table in the log's order. The projector pulls before each catch-up
//! (`projections::Upstream`), so the views, replays and rebuilds of every node work on the
//! same events as on SQLite; and the claims the copied events make (e-mails, invoice numbers,
//! plans) land in the node's claim tables, which use cases read to explain a refused command.
//!
//! The copy holds the log's positions exactly: the node's triggers number each copied event
//! one after the last, and a page is copied only when it starts right after the copy's last
//! position. Each page is one job of the node's writer, so it commits with the views brought
//! up to it, or not at all; a copy interrupted anywhere resumes from its own last position.

use std::sync::Arc;

use async_trait::async_trait;
use projections::{Upstream, UpstreamError};
use rusqlite::OptionalExtension;
use sqlx::{PgPool, SqlitePool};
use tokio::sync::Mutex;

use super::log::{read_after, LoggedEvent};
use crate::store::group_commit::GroupCommit;

/// Events copied per job of the node's writer.
const PAGE: i64 = 1_000;

/// SQLite's log writes these columns; `position` is the node's trigger's.
const INSERT_COPY: &str = "INSERT INTO events
  (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, recorded_at)
  VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/// Copies the shared log into the node's file.
pub struct LogMirror {
    log: PgPool,
    writer: GroupCommit,
    /// The node's file, read for where its copy ends when the first pull starts.
    node: SqlitePool,
    /// Where the copy ends, as this process last saw it (`None` before the first pull). One
    /// pull at a time in this node: two would read the same page and the second would find it
    /// copied (harmless, but wasted). The job re-reads the end in its transaction anyway.
    copied_to: Mutex<Option<i64>>,
}

/// What one page's job found.
enum Copied {
    Events(u64),
    /// The node's copy does not end right before the page: it holds another log.
    Diverged {
        copy_ends_at: i64,
        page_starts_at: i64,
    },
}

impl LogMirror {
    /// Copies `log` (the shared database) through `writer` (the node's).
    pub fn new(log: PgPool, node: SqlitePool, writer: GroupCommit) -> Arc<Self> {
        Arc::new(Self {
            log,
            writer,
            node,
            copied_to: Mutex::new(None),
        })
    }

    /// Copies every event the shared log holds beyond the node's copy; returns how many.
    pub async fn pull_all(&self) -> Result<u64, UpstreamError> {
        let mut copied_to = self.copied_to.lock().await;
        let mut after = match *copied_to {
            Some(position) => position,
            None => self.copy_ends_at().await?,
        };
        let mut copied = 0;
        loop {
            let page = read_after(&self.log, after, PAGE).await.map_err(failed)?;
            let Some(last) = page.last().map(|event| event.position) else {
                *copied_to = Some(after);
                return Ok(copied);
            };
            let full = page.len() as i64 == PAGE;
            match self.copy(page).await? {
                Copied::Events(count) => copied += count,
                Copied::Diverged {
                    copy_ends_at,
                    page_starts_at,
                } => {
                    return Err(UpstreamError(format!(
                        "this node's file ends its log at position {copy_ends_at} and the shared log continues at {page_starts_at}: the file holds another log; give this node a new NODE_DATABASE_URL"
                    )))
                }
            }
            after = last;
            if !full {
                *copied_to = Some(after);
                return Ok(copied);
            }
        }
    }

    /// Checks that the node's copy is a beginning of the shared log: its last event is the
    /// shared log's event at that position. A file whose log went on without the shared one
    /// (a SQLite service that kept appending after `migrate-to`) or that holds another log is
    /// refused before anything is copied into it.
    pub async fn check_beginning(&self) -> Result<(), UpstreamError> {
        let last: Option<(i64, String, String, i64)> = sqlx::query_as(
            "SELECT position, aggregate_type, aggregate_id, sequence FROM events
              ORDER BY position DESC LIMIT 1",
        )
        .fetch_optional(&self.node)
        .await
        .map_err(failed)?;
        let Some((position, aggregate_type, aggregate_id, sequence)) = last else {
            return Ok(());
        };
        let shared: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT aggregate_type, aggregate_id, sequence FROM events WHERE position = $1",
        )
        .bind(position)
        .fetch_optional(&self.log)
        .await
        .map_err(failed)?;
        match shared {
            Some(event) if event == (aggregate_type, aggregate_id, sequence) => Ok(()),
            Some(_) => Err(UpstreamError(format!(
                "this node's file holds another log than the shared one (they differ at position {position}); give this node a new NODE_DATABASE_URL"
            ))),
            None => Err(UpstreamError(format!(
                "this node's file holds events up to position {position}, beyond the shared log: copy them first (billstream migrate-to) or give this node a new NODE_DATABASE_URL"
            ))),
        }
    }

    /// The last position in the node's copy.
    async fn copy_ends_at(&self) -> Result<i64, UpstreamError> {
        sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events")
            .fetch_one(&self.node)
            .await
            .map_err(failed)
    }

    /// Copies the events of `page` the node lacks, in one job of the node's writer.
    async fn copy(&self, page: Vec<LoggedEvent>) -> Result<Copied, UpstreamError> {
        self.writer
            .run(Box::new(move |db| {
                let ends_at = last_position(db)?;
                let mut fresh = page
                    .into_iter()
                    .skip_while(|event| event.position <= ends_at);
                let Some(first) = fresh.next() else {
                    return Ok(Copied::Events(0));
                };
                if first.position != ends_at + 1 {
                    return Ok(Copied::Diverged {
                        copy_ends_at: ends_at,
                        page_starts_at: first.position,
                    });
                }
                let mut insert = db.prepare_cached(INSERT_COPY)?;
                let mut count = 0;
                for event in std::iter::once(first).chain(fresh) {
                    insert.execute(rusqlite::params![
                        event.aggregate_type,
                        event.aggregate_id,
                        event.sequence,
                        event.event_type,
                        event.event_version,
                        event.payload.to_string(),
                        event.metadata.to_string(),
                        event.recorded_at,
                    ])?;
                    count += 1;
                }
                Ok(Copied::Events(count))
            }))
            .await
            .map_err(failed)
    }
}

/// The shared log or the node's file failed while copying.
fn failed(error: impl std::fmt::Display) -> UpstreamError {
    UpstreamError(format!("cannot copy the shared log: {error}"))
}

fn last_position(db: &rusqlite::Connection) -> Result<i64, rusqlite::Error> {
    Ok(db
        .query_row("SELECT MAX(position) FROM events", [], |row| {
            row.get::<_, Option<i64>>(0)
        })
        .optional()?
        .flatten()
        .unwrap_or(0))
}

#[async_trait]
impl Upstream for LogMirror {
    async fn pull(&self) -> Result<u64, UpstreamError> {
        self.pull_all().await
    }
}
