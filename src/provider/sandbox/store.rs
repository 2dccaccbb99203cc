//! Where the sandbox keeps its "Stripe-side" state: the node's SQLite file, or, when the nodes
//! share a PostgreSQL log, PostgreSQL, so that every node sees one sandbox (a payment created
//! through one node is confirmed through another; one clock; one outbox).
//!
//! Both backends take the same SQL (`$n` placeholders, `ON CONFLICT`, `RETURNING`); the
//! [`on_conn!`] macro runs one statement on whichever connection a [`SandboxConn`] holds.
//! Writes are serialized as SQLite serializes them: on the node's file by the service's write
//! gate and `BEGIN IMMEDIATE`, on PostgreSQL by one transaction-scoped advisory lock, so every
//! rule the sandbox checks inside its transaction (a refund within the charge, one answer per
//! idempotency key, each due renewal run once) holds across nodes too.
//!
//! The `SandboxProvider` is made here, over one store or the other.

use std::sync::Arc;

use projections::{WriteGate, WriteTurn};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};
use tokio::sync::Notify;

use super::SandboxProvider;

/// The advisory lock every shared sandbox write holds until its commit (an arbitrary constant,
/// "sandbox" in ASCII, distinct from sqlx's migration lock).
const SHARED_WRITE_LOCK: i64 = 0x73_61_6e_64_62_6f_78;

/// The sandbox's database.
#[derive(Clone)]
pub enum SandboxStore {
    /// The node's own SQLite file; writes take turns with the service's other writers.
    Node { pool: SqlitePool, gate: WriteGate },
    /// The PostgreSQL database the nodes share.
    Shared { pool: PgPool },
}

/// A connection to the sandbox's database: a write transaction or a plain connection for reads.
pub enum SandboxConn {
    NodeWrite(Transaction<'static, Sqlite>),
    NodeRead(PoolConnection<Sqlite>),
    SharedWrite(Transaction<'static, Postgres>),
    SharedRead(PoolConnection<Postgres>),
}

/// The connection under a [`SandboxConn`], for one statement.
pub enum Side<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// Runs `$body` with `$c` bound to the SQLite or the PostgreSQL connection under `$conn`. The
/// body is compiled once per backend, so it may bind and decode only types both know, and
/// must turn a backend's own result type (e.g. `rows_affected()`) into a common one.
macro_rules! on_conn {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn.side() {
            $crate::provider::sandbox::store::Side::Sqlite($c) => $body,
            $crate::provider::sandbox::store::Side::Postgres($c) => $body,
        }
    };
}
pub(crate) use on_conn;

impl SandboxConn {
    /// The connection, for one statement.
    pub fn side(&mut self) -> Side<'_> {
        match self {
            SandboxConn::NodeWrite(tx) => Side::Sqlite(tx),
            SandboxConn::NodeRead(conn) => Side::Sqlite(conn),
            SandboxConn::SharedWrite(tx) => Side::Postgres(tx),
            SandboxConn::SharedRead(conn) => Side::Postgres(conn),
        }
    }

    /// Whether this is the shared (PostgreSQL) sandbox, for the few statements that differ.
    pub fn is_shared(&self) -> bool {
        matches!(
            self,
            SandboxConn::SharedWrite(_) | SandboxConn::SharedRead(_)
        )
    }

    /// Commits a write transaction (a read connection has nothing to commit).
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            SandboxConn::NodeWrite(tx) => tx.commit().await,
            SandboxConn::SharedWrite(tx) => tx.commit().await,
            SandboxConn::NodeRead(_) | SandboxConn::SharedRead(_) => Ok(()),
        }
    }
}

impl SandboxStore {
    /// Waits for the sandbox's one writer turn, then begins a transaction holding it. On the
    /// node's file the turn is the write gate's (returned, to be held until the commit); on
    /// PostgreSQL it is the advisory lock, released by the commit or rollback.
    pub async fn begin_write(&self) -> Result<(Option<WriteTurn<'_>>, SandboxConn), sqlx::Error> {
        match self {
            SandboxStore::Node { pool, gate } => {
                let turn = gate.turn().await;
                let tx = pool.begin_with("BEGIN IMMEDIATE").await?;
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
    pub async fn begin_records(&self) -> Result<(Option<WriteTurn<'_>>, SandboxConn), sqlx::Error> {
        match self {
            SandboxStore::Node { .. } => self.begin_write().await,
            SandboxStore::Shared { pool } => {
                Ok((None, SandboxConn::SharedWrite(pool.begin().await?)))
            }
        }
    }

    /// A connection for reads outside any write.
    pub async fn read(&self) -> Result<SandboxConn, sqlx::Error> {
        Ok(match self {
            SandboxStore::Node { pool, .. } => SandboxConn::NodeRead(pool.acquire().await?),
            SandboxStore::Shared { pool } => SandboxConn::SharedRead(pool.acquire().await?),
        })
    }
}

impl SandboxProvider {
    /// A sandbox in the node's database (its tables come with the migrations).
    pub fn new(pool: SqlitePool) -> Self {
        Self::over(SandboxStore::Node {
            pool,
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
    ) -> Result<(Option<WriteTurn<'_>>, SandboxConn), sqlx::Error> {
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
