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
//! Writes that queue meanwhile share the next commit (`node_batch`).
//!
//! Writes are serialized as SQLite serializes them: on the node's file by the service's write
//! gate, `BEGIN IMMEDIATE` and the one write connection; on PostgreSQL by one
//! transaction-scoped advisory lock. So every rule the sandbox checks inside its transaction
//! (a refund within the charge, one answer per idempotency key, each due renewal run once)
//! holds across nodes too.
//!
//! The `SandboxProvider` is made here, over one store or the other.

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

use projections::{WriteGate, WriteTurn};
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres, SqlitePool, Transaction};
use tokio::sync::{Mutex, Notify, OnceCell, OwnedMutexGuard};

pub use super::node_batch::BatchStats;
use super::node_batch::{self, NodeTransaction, WriterSide};
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
    writer: OnceCell<Arc<Mutex<WriterSide>>>,
    reader: OnceCell<Arc<Mutex<rusqlite::Connection>>>,
    /// Writes waiting for the write connection (`node_batch`: a batch stays open for them).
    pub(super) queued: AtomicUsize,
}

type Held = OwnedMutexGuard<rusqlite::Connection>;

impl NodeFile {
    fn new(pool: SqlitePool) -> Self {
        Self {
            pool,
            writer: OnceCell::new(),
            reader: OnceCell::new(),
            queued: AtomicUsize::new(0),
        }
    }

    async fn open(&self) -> Result<rusqlite::Connection, StorageError> {
        crate::store::open_writing_connection(&self.pool)
            .await
            .map_err(|error| StorageError::Unavailable(error.to_string()))
    }

    /// The write connection, once no other write holds it.
    pub(super) async fn writer(&self) -> Result<OwnedMutexGuard<WriterSide>, StorageError> {
        let shared = self
            .writer
            .get_or_try_init(|| async {
                Ok::<_, StorageError>(Arc::new(Mutex::new(WriterSide::new(self.open().await?))))
            })
            .await?;
        Ok(shared.clone().lock_owned().await)
    }

    async fn reader(&self) -> Result<Held, StorageError> {
        let shared = self
            .reader
            .get_or_try_init(|| async {
                Ok::<_, StorageError>(Arc::new(Mutex::new(self.open().await?)))
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

impl SandboxConn {
    /// The connection, for one statement.
    pub(super) fn side(&mut self) -> Result<Side<'_>, StorageError> {
        Ok(match self {
            SandboxConn::NodeWrite(tx) => match tx.db() {
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
            SandboxConn::NodeWrite(tx) => tx.commit().await,
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
            // The turn is the batch's, held until it commits (`node_batch`).
            SandboxStore::Node { files, gate } => Ok((
                None,
                SandboxConn::NodeWrite(node_batch::join(files, gate).await?),
            )),
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
            SandboxStore::Node { files, .. } => SandboxConn::NodeRead(files.reader().await?),
            SandboxStore::Shared { pool } => SandboxConn::SharedRead(pool.acquire().await?),
        })
    }
}

impl SandboxProvider {
    /// A sandbox in the node's database (its tables come with the migrations).
    pub fn new(pool: SqlitePool) -> Self {
        Self::over(SandboxStore::Node {
            files: Arc::new(NodeFile::new(pool)),
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

    /// The commits the sandbox made on the node's file, and the writes they held (none on the
    /// shared sandbox, whose commits are PostgreSQL's).
    pub async fn node_commits(&self) -> Result<Option<BatchStats>, StorageError> {
        match &self.store {
            SandboxStore::Node { files, .. } => Ok(Some(files.writer().await?.stats)),
            SandboxStore::Shared { .. } => Ok(None),
        }
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
