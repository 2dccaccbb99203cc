//! A node on PostgreSQL: opens the shared log, copies it into the node's file before the
//! node serves (`postgres::mirror`), and follows it — every commit on the shared log notifies
//! the nodes (`billstream_log`), and each then copies what it lacks into its views.

use std::sync::{Arc, Weak};
use std::time::Duration;

use projections::{Projector, Upstream};
use sqlx::postgres::PgListener;
use sqlx::{PgPool, SqlitePool};
use tokio::task::JoinHandle;

use super::StartupError;
use crate::config::{Config, SharedLogSettings};
use crate::inbox::{Inbox, NodeInbox, SharedInbox};
use crate::provider::sandbox;
use crate::store::group_commit::GroupCommit;
use crate::store::log_repository::SharedLog;
use crate::store::postgres::mirror::LogMirror;
use crate::store::postgres::{self, PgEventRepository, PgSettings};

/// The channel every commit on the shared log notifies (`migrations/postgres/`).
const CHANNEL: &str = "billstream_log";

/// How long a node waits for a notification before it looks anyway (a lost connection).
const FOLLOW_POLL: Duration = Duration::from_secs(1);

/// Connects to the shared log, migrates it, brings the node's copy and views up to it, and
/// moves the node's sandbox into the shared one.
pub(super) async fn open(
    settings: &SharedLogSettings,
    node: &SqlitePool,
    writer: &GroupCommit,
    projector: &Arc<Projector>,
) -> Result<SharedLog, StartupError> {
    let pg_settings = PgSettings {
        max_connections: settings.max_connections,
        statement_timeout: settings.statement_timeout,
        ..PgSettings::default()
    };
    let log = postgres::connect(settings.url.expose(), &pg_settings)
        .await
        .map_err(|error| StartupError::SharedLog(error.to_string()))?;
    postgres::migrate(&log)
        .await
        .map_err(|error| StartupError::SharedLog(error.to_string()))?;
    let mirror = LogMirror::new(log.clone(), node.clone(), writer.clone());
    mirror
        .check_beginning()
        .await
        .map_err(|error| StartupError::SharedLog(error.to_string()))?;
    let upstream: Arc<dyn Upstream> = mirror.clone();
    projector.set_upstream(Arc::downgrade(&upstream) as Weak<dyn Upstream>);
    let copied = mirror
        .pull_all()
        .await
        .map_err(|error| StartupError::SharedLog(error.to_string()))?;
    projector
        .catch_up()
        .await
        .map_err(|error| StartupError::SharedLog(error.to_string()))?;
    tracing::info!(copied, "the node's copy of the shared log is up to date");
    hand_over_sandbox(&log, node).await?;
    Ok(SharedLog {
        repository: PgEventRepository::new(log.clone()),
        pool: log,
        mirror,
    })
}

/// The webhook inbox: the shared one on PostgreSQL (with the node's own moved into it), else
/// the node's file's.
pub(super) async fn open_inbox(
    shared_log: &Option<SharedLog>,
    config: &Config,
    node: String,
    pool: &SqlitePool,
    writer: &GroupCommit,
) -> Result<Inbox, StartupError> {
    let (Some(shared), Some(settings)) = (shared_log, &config.shared_log) else {
        return Ok(Inbox::Node(NodeInbox::new(pool.clone(), writer.clone())));
    };
    let inbox = SharedInbox::new(shared.pool.clone(), node, settings.inbox_claim);
    hand_over_inbox(&inbox, pool).await?;
    Ok(Inbox::Shared(inbox))
}

/// Moves the events of the node's own inbox (a node that ran before the inbox was shared, or
/// the file `migrate-to` copied) into the shared one, where any node applies those still
/// pending, then empties the node's: it is not read again.
async fn hand_over_inbox(inbox: &SharedInbox, node: &SqlitePool) -> Result<(), StartupError> {
    let failed = |error: String| StartupError::SharedLog(format!("moving the inbox: {error}"));
    let copied = inbox
        .adopt(node)
        .await
        .map_err(|error| failed(error.to_string()))?;
    sqlx::query("DELETE FROM stripe_inbox")
        .execute(node)
        .await
        .map_err(|error| failed(error.to_string()))?;
    if copied > 0 {
        tracing::info!(
            copied,
            "moved this node's webhook inbox into the shared database"
        );
    }
    Ok(())
}

/// Moves the node's own sandbox (a node that ran before the sandbox was shared, or the file
/// `migrate-to` copied) into the shared one, then empties the node's.
async fn hand_over_sandbox(shared: &PgPool, node: &SqlitePool) -> Result<(), StartupError> {
    let failed =
        |error: sqlx::Error| StartupError::SharedLog(format!("moving the sandbox: {error}"));
    let copied = sandbox::adopt::adopt(node, shared).await.map_err(failed)?;
    sandbox::adopt::forget(node).await.map_err(failed)?;
    if copied > 0 {
        tracing::info!(copied, "moved this node's sandbox into the shared database");
    }
    Ok(())
}

/// Catches the node's views up whenever the shared log moves (and every second regardless).
pub(super) fn spawn_follow_loop(projector: Arc<Projector>, log: PgPool) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut listener = None;
        loop {
            if listener.is_none() {
                listener = listen(&log).await;
            }
            let lost = match listener.as_mut() {
                Some(listening) => {
                    match tokio::time::timeout(FOLLOW_POLL, listening.recv()).await {
                        Ok(Err(error)) => {
                            tracing::warn!(%error, "lost the shared log's notifications; listening again");
                            true
                        }
                        // A notification, or a second without one.
                        _ => false,
                    }
                }
                None => {
                    tokio::time::sleep(FOLLOW_POLL).await;
                    false
                }
            };
            if lost {
                listener = None;
            }
            if let Err(error) = projector.catch_up().await {
                tracing::error!(%error, "following the shared log failed; will retry");
            }
        }
    })
}

async fn listen(log: &PgPool) -> Option<PgListener> {
    let mut listener = match PgListener::connect_with(log).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::warn!(%error, "cannot listen to the shared log; polling it instead");
            return None;
        }
    };
    match listener.listen(CHANNEL).await {
        Ok(()) => Some(listener),
        Err(error) => {
            tracing::warn!(%error, "cannot listen to the shared log; polling it instead");
            None
        }
    }
}
