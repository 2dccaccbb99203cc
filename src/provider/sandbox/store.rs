//! Where the sandbox keeps its "Stripe-side" state: the node's SQLite file, or, when the nodes
//! share a PostgreSQL log, PostgreSQL, so that every node sees one sandbox (a payment created
//! through one node is confirmed through another; one clock; one outbox).
//!
//! Both backends take the same SQL (`$n` placeholders, `ON CONFLICT`, `RETURNING`), run by
//! `sql`'s statements on whichever connection a [`SandboxConn`] holds. On the node's file the
//! sandbox has two SQLite connections of its own, one for its writes and one for its reads,
//! opened like the group-commit writer's and called directly: a statement runs on the calling
//! thread, where through sqlx each was a round trip to the connection's thread (seven of them
//! in a create-intent). Only `COMMIT`, which waits for the disk, runs on a blocking thread,
//! and `BEGIN IMMEDIATE` when another connection holds the write lock and it has to wait.
//!
//! Writes are serialized as SQLite serializes them: on the node's file by the service's write
//! gate and `BEGIN IMMEDIATE`, on PostgreSQL by one transaction-scoped advisory lock, so every
//! rule the sandbox checks inside its transaction (a refund within the charge, one answer per
//! idempotency key, each due renewal run once) holds across nodes too.
//!
//! The `SandboxProvider` is made here, over one store or the other.

use std::sync::Arc;

use projections::{WriteGate, WriteTurn};
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres, SqlitePool, Transaction};
use tokio::sync::{Mutex, Notify, OnceCell, OwnedMutexGuard};

use super::sql::Side;
use super::SandboxProvider;
use crate::provider::StorageError;

/// The advisory lock every shared sandbox write holds until its commit (an arbitrary constant,
/// "sandbox" in ASCII, distinct from sqlx's migration lock).
const SHARED_WRITE_LOCK: i64 = 0x73_61_6e_64_62_6f_78;

/// The sandbox's database.
#[derive(Clone)]
pub enum SandboxStore {
    /// The node's own SQLite file; writes take turns with the service's other writers.
    Node {
        files: Arc<NodeFile>,
        gate: WriteGate,
    },
    /// The PostgreSQL database the nodes share.
    Shared { pool: PgPool },
}

/// The node's file: the pool it was opened with, and the sandbox's two connections to it,
/// each opened on first use (the pool's settings are read asynchronously).
pub struct NodeFile {
    pool: SqlitePool,
    writer: OnceCell<Arc<Mutex<rusqlite::Connection>>>,
    reader: OnceCell<Arc<Mutex<rusqlite::Connection>>>,
}

type Held = OwnedMutexGuard<rusqlite::Connection>;

impl NodeFile {
    async fn connection(
        &self,
        cell: &OnceCell<Arc<Mutex<rusqlite::Connection>>>,
    ) -> Result<Held, StorageError> {
        let shared = cell
            .get_or_try_init(|| async {
                crate::store::open_writing_connection(&self.pool)
                    .await
                    .map(|db| Arc::new(Mutex::new(db)))
                    .map_err(|error| StorageError::Unavailable(error.to_string()))
            })
            .await?;
        Ok(shared.clone().lock_owned().await)
    }
}

/// A connection to the sandbox's database: a write transaction or a plain connection for reads.
pub enum SandboxConn {
    NodeWrite(NodeTransaction),
    NodeRead(Held),
    SharedWrite(Transaction<'static, Postgres>),
    SharedRead(PoolConnection<Postgres>),
}

/// A write transaction on the node's file, rolled back unless committed.
pub struct NodeTransaction {
    db: Option<Held>,
}

impl Drop for NodeTransaction {
    fn drop(&mut self) {
        if let Some(db) = self.db.take() {
            // Already out of its transaction (SQLite ended it after an error): nothing to undo.
            if db.is_autocommit() {
                return;
            }
            // A rollback writes nothing to the WAL: no wait for the disk.
            if let Err(error) = db.execute_batch("ROLLBACK") {
                tracing::error!(%error, "the sandbox's transaction did not roll back");
            }
        }
    }
}

/// Begins a write transaction on a blocking thread, where the busy handler may wait for
/// another connection's write lock. The transaction is made there, so that if the caller goes
/// away meanwhile (a client that hangs up), dropping the task's output rolls it back.
async fn begin_on_blocking_thread(db: Held) -> Result<NodeTransaction, StorageError> {
    tokio::task::spawn_blocking(move || {
        db.execute_batch("BEGIN IMMEDIATE")?;
        Ok(NodeTransaction { db: Some(db) })
    })
    .await
    .map_err(|error| StorageError::Unavailable(format!("the sandbox's BEGIN stopped: {error}")))?
}

/// Commits on a blocking thread, so that no async worker waits for the disk.
async fn commit_on_blocking_thread(db: Held) -> Result<(), StorageError> {
    tokio::task::spawn_blocking(move || {
        db.execute_batch("COMMIT").map_err(|error| {
            // A failed COMMIT may leave the transaction open: end it before the next writer.
            if !db.is_autocommit() {
                let _ = db.execute_batch("ROLLBACK");
            }
            StorageError::Sqlite(error)
        })
    })
    .await
    .map_err(|error| StorageError::Unavailable(format!("the sandbox's COMMIT stopped: {error}")))?
}

impl SandboxConn {
    /// The connection, for one statement.
    pub(super) fn side(&mut self) -> Result<Side<'_>, StorageError> {
        Ok(match self {
            SandboxConn::NodeWrite(tx) => match tx.db.as_deref_mut() {
                Some(db) => Side::Sqlite(db),
                None => return Err(StorageError::Unavailable("transaction ended".into())),
            },
            SandboxConn::NodeRead(db) => Side::Sqlite(db),
            SandboxConn::SharedWrite(tx) => Side::Postgres(tx),
            SandboxConn::SharedRead(conn) => Side::Postgres(conn),
        })
    }

    /// Whether this is the shared (PostgreSQL) sandbox, for the few statements that differ.
    pub fn is_shared(&self) -> bool {
        matches!(
            self,
            SandboxConn::SharedWrite(_) | SandboxConn::SharedRead(_)
        )
    }

    /// Commits a write transaction (a read connection has nothing to commit).
    pub async fn commit(self) -> Result<(), StorageError> {
        match self {
            SandboxConn::NodeWrite(mut tx) => match tx.db.take() {
                Some(db) => commit_on_blocking_thread(db).await,
                // Only `Drop` takes the connection out; never report a commit that did not run.
                None => Err(StorageError::Unavailable("transaction ended".into())),
            },
            SandboxConn::SharedWrite(tx) => Ok(tx.commit().await?),
            SandboxConn::NodeRead(_) | SandboxConn::SharedRead(_) => Ok(()),
        }
    }
}

impl SandboxStore {
    /// Waits for the sandbox's one writer turn, then begins a transaction holding it. On the
    /// node's file the turn is the write gate's (returned, to be held until the commit); on
    /// PostgreSQL it is the advisory lock, released by the commit or rollback.
    pub async fn begin_write(&self) -> Result<(Option<WriteTurn<'_>>, SandboxConn), StorageError> {
        match self {
            SandboxStore::Node { files, gate } => {
                let turn = gate.turn().await;
                let db = files.connection(&files.writer).await?;
                // The gate keeps the service's own writers away, so the lock is usually free.
                let tx = if crate::store::try_begin_immediate(&db)? {
                    NodeTransaction { db: Some(db) }
                } else {
                    begin_on_blocking_thread(db).await?
                };
                Ok((Some(turn), SandboxConn::NodeWrite(tx)))
            }
            SandboxStore::Shared { pool } => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(SHARED_WRITE_LOCK)
                    .execute(&mut *tx)
                    .await?;
                Ok((None, SandboxConn::SharedWrite(tx)))
            }
        }
    }

    /// A transaction for rows that one worker alone holds (the outbox's claimed events): on the
    /// node's file it takes the write gate's turn like any write; on PostgreSQL the rows' claim
    /// already keeps other nodes away, so it does without the sandbox's advisory lock.
    pub async fn begin_records(
        &self,
    ) -> Result<(Option<WriteTurn<'_>>, SandboxConn), StorageError> {
        match self {
            SandboxStore::Node { .. } => self.begin_write().await,
            SandboxStore::Shared { pool } => {
                Ok((None, SandboxConn::SharedWrite(pool.begin().await?)))
            }
        }
    }

    /// A connection for reads outside any write (on the node's file, its own: a read never
    /// waits for a write's transaction).
    pub async fn read(&self) -> Result<SandboxConn, StorageError> {
        Ok(match self {
            SandboxStore::Node { files, .. } => {
                SandboxConn::NodeRead(files.connection(&files.reader).await?)
            }
            SandboxStore::Shared { pool } => SandboxConn::SharedRead(pool.acquire().await?),
        })
    }
}

impl SandboxProvider {
    /// A sandbox in the node's database (its tables come with the migrations).
    pub fn new(pool: SqlitePool) -> Self {
        Self::over(SandboxStore::Node {
            files: Arc::new(NodeFile {
                pool,
                writer: OnceCell::new(),
                reader: OnceCell::new(),
            }),
            gate: WriteGate::new(),
        })
    }

    /// The sandbox the nodes share, in their PostgreSQL database.
    pub fn shared(pool: PgPool) -> Self {
        Self::over(SandboxStore::Shared { pool })
    }

    fn over(store: SandboxStore) -> Self {
        Self {
            store,
            outbox_wake: Arc::new(Notify::new()),
        }
    }

    /// Takes write turns from `gate`, shared with the service's other writers (the node's
    /// file only: the shared sandbox serializes its writes in PostgreSQL).
    pub fn with_write_gate(mut self, gate: WriteGate) -> Self {
        if let SandboxStore::Node { gate: own, .. } = &mut self.store {
            *own = gate;
        }
        self
    }

    /// Waits for the sandbox's writer turn, then begins a transaction holding it.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<(Option<WriteTurn<'_>>, SandboxConn), StorageError> {
        self.store.begin_write().await
    }

    /// The sandbox's database (for its webhook delivery worker).
    pub fn store(&self) -> &SandboxStore {
        &self.store
    }

    /// What the webhook delivery worker waits on.
    pub fn outbox_wake(&self) -> Arc<Notify> {
        self.outbox_wake.clone()
    }
}
