//! Group commit for the sandbox's writes on the node's file: writes that queue for the
//! sandbox's connection while another's `COMMIT` waits for the disk share the next
//! transaction, hence one fsync, as the service's own appends do in `store::group_commit`.
//!
//! A batch is one SQLite transaction, begun with `BEGIN IMMEDIATE` on the write gate's turn
//! and holding both until it ends. Each write in it runs alone on the connection (the mutex
//! around it), inside a `SAVEPOINT` of its own: it sees the writes before it, as it would have
//! after their commits, and one that fails or is abandoned rolls back to its savepoint and
//! leaves the rest. A write that finishes waits for the batch's `COMMIT`; the last one in
//! (no other write queued, or the batch full or old) commits it for everyone, on a blocking
//! thread that also hands every waiting write its outcome: nothing is acknowledged before it
//! is durable, and a failed `COMMIT` fails every write of the batch.
//!
//! Every rule the sandbox checks inside its transaction still holds: writes run one at a time,
//! each sees everything written before it, and other processes still meet SQLite's lock.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use projections::{OwnedWriteTurn, WriteGate};
use tokio::sync::{oneshot, OwnedMutexGuard};

use super::store::NodeFile;
use crate::provider::StorageError;

/// The most writes one batch holds, and how long it stays open for more: the service's other
/// writers wait for the gate while it is.
const MAX_WRITES: usize = 64;
const MAX_OPEN: Duration = Duration::from_millis(2);

/// The sandbox's write connection and the batch open on it, if any.
pub struct WriterSide {
    pub(super) db: rusqlite::Connection,
    batch: Option<Batch>,
    /// Batches committed, and the writes they held, since the connection opened.
    pub(super) stats: BatchStats,
}

/// What the sandbox's write connection has committed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchStats {
    pub commits: u64,
    pub writes: u64,
}

impl WriterSide {
    pub(super) fn new(db: rusqlite::Connection) -> Self {
        Self {
            db,
            batch: None,
            stats: BatchStats::default(),
        }
    }
}

/// One open transaction and the writes that wait for its commit.
struct Batch {
    /// The write gate's turn, held until the batch ends.
    _turn: OwnedWriteTurn,
    opened: Instant,
    writes: usize,
    waiting: Vec<oneshot::Sender<Result<(), String>>>,
}

type HeldWriter = OwnedMutexGuard<WriterSide>;

/// One write of a batch: the connection, held until the write commits (or is dropped, which
/// rolls it back to its savepoint).
pub struct NodeTransaction {
    held: Option<HeldWriter>,
    file: Arc<NodeFile>,
    in_savepoint: bool,
}

/// Counts a write queued for the connection until it holds it; one that gives up while queued
/// may have been the write a batch was left open for, so it sees the batch ended.
struct Queued(Option<Arc<NodeFile>>);

impl Queued {
    fn new(file: &Arc<NodeFile>) -> Self {
        file.queued.fetch_add(1, Ordering::SeqCst);
        Self(Some(file.clone()))
    }

    /// Holds the connection now (counted out while holding it, so no batch waits on it).
    fn holds(mut self) {
        if let Some(file) = self.0.take() {
            file.queued.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        let Some(file) = self.0.take() else { return };
        if file.queued.fetch_sub(1, Ordering::SeqCst) == 1 {
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(end_if_idle(file));
            }
        }
    }
}

/// Ends a batch that no write is in or queued for (its last queued write gave up).
async fn end_if_idle(file: Arc<NodeFile>) {
    let Ok(held) = file.writer().await else {
        return;
    };
    if held.batch.is_some() && file.queued.load(Ordering::SeqCst) == 0 {
        end_elsewhere(held);
    }
}

/// Joins the open batch, or opens one on the gate's turn; the write then runs in a savepoint.
pub(super) async fn join(
    file: &Arc<NodeFile>,
    gate: &WriteGate,
) -> Result<NodeTransaction, StorageError> {
    let queued = Queued::new(file);
    let held = file.writer().await?;
    queued.holds();
    let mut tx = NodeTransaction {
        held: Some(held),
        file: file.clone(),
        in_savepoint: false,
    };
    let side = tx.side();
    if side.batch.is_some() && side.db.is_autocommit() {
        // SQLite ended the batch's transaction after an error: its writes fail, this one goes on.
        end(side);
    }
    if side.batch.is_none() {
        let turn = gate.turn_owned().await;
        // The gate keeps the service's own writers away, so the lock is usually free.
        tx = if crate::store::try_begin_immediate(&tx.side().db)? {
            tx.side().batch = Some(Batch::new(turn));
            tx
        } else {
            begin_on_blocking_thread(tx, turn).await?
        };
    }
    tx.side().db.execute_batch("SAVEPOINT sandbox_write")?;
    tx.in_savepoint = true;
    if let Some(batch) = tx.side().batch.as_mut() {
        batch.writes += 1;
    }
    Ok(tx)
}

/// Begins the batch on a blocking thread, where the busy handler may wait for another
/// connection's write lock. Begun there, so that if the caller goes away meanwhile, dropping
/// the task's output ends it.
async fn begin_on_blocking_thread(
    mut tx: NodeTransaction,
    turn: OwnedWriteTurn,
) -> Result<NodeTransaction, StorageError> {
    tokio::task::spawn_blocking(move || {
        tx.side().db.execute_batch("BEGIN IMMEDIATE")?;
        tx.side().batch = Some(Batch::new(turn));
        Ok(tx)
    })
    .await
    .map_err(|error| StorageError::Unavailable(format!("the sandbox's BEGIN stopped: {error}")))?
}

impl Batch {
    fn new(turn: OwnedWriteTurn) -> Self {
        Self {
            _turn: turn,
            opened: Instant::now(),
            writes: 0,
            waiting: Vec::new(),
        }
    }
}

impl NodeTransaction {
    fn side(&mut self) -> &mut WriterSide {
        self.held.as_mut().expect("held until commit or drop")
    }

    /// The connection, for one statement (none once committed).
    pub(super) fn db(&mut self) -> Option<&mut rusqlite::Connection> {
        self.held.as_deref_mut().map(|side| &mut side.db)
    }

    /// Keeps this write and waits until its batch is durable.
    pub(super) async fn commit(mut self) -> Result<(), StorageError> {
        let Some(mut held) = self.held.take() else {
            // Only `Drop` takes the connection out; never report a commit that did not run.
            return Err(StorageError::Unavailable("transaction ended".into()));
        };
        if let Err(error) = held.db.execute_batch("RELEASE sandbox_write") {
            self.held = Some(held);
            return Err(error.into());
        }
        self.in_savepoint = false;
        let (sender, outcome) = oneshot::channel();
        let Some(batch) = held.batch.as_mut() else {
            return Err(StorageError::Unavailable("transaction ended".into()));
        };
        batch.waiting.push(sender);
        let last = self.file.queued.load(Ordering::SeqCst) == 0
            || batch.writes >= MAX_WRITES
            || batch.opened.elapsed() >= MAX_OPEN;
        if last {
            end_elsewhere(held);
        } else {
            // The connection goes to the next queued write, which joins this batch.
            drop(held);
        }
        match outcome.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(reason)) => Err(StorageError::Unavailable(format!(
                "the sandbox's commit failed: {reason}"
            ))),
            Err(_) => Err(StorageError::Unavailable(
                "the sandbox's commit stopped".into(),
            )),
        }
    }
}

impl Drop for NodeTransaction {
    fn drop(&mut self) {
        let Some(mut held) = self.held.take() else {
            return;
        };
        if self.in_savepoint && !held.db.is_autocommit() {
            // A rollback to a savepoint writes nothing to the WAL: no wait for the disk.
            if let Err(error) = held
                .db
                .execute_batch("ROLLBACK TO sandbox_write; RELEASE sandbox_write")
            {
                tracing::error!(%error, "the sandbox's write did not roll back");
            }
        }
        let Some(batch) = held.batch.as_ref() else {
            return;
        };
        if self.file.queued.load(Ordering::SeqCst) > 0 {
            return; // the next queued write joins the batch and ends it
        }
        if batch.waiting.is_empty() {
            end(&mut held); // nothing to keep: a rollback, which does not wait for the disk
        } else {
            end_elsewhere(held);
        }
    }
}

/// Ends the batch on a blocking thread (a `COMMIT` waits for the disk), which runs to the end
/// whether or not anyone still waits for it.
fn end_elsewhere(mut held: HeldWriter) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => drop(runtime.spawn_blocking(move || end(&mut held))),
        Err(_) => end(&mut held),
    }
}

/// Commits the batch if any write waits for it (rolls it back if none does), then hands each
/// waiting write the outcome and gives the gate's turn back.
fn end(side: &mut WriterSide) {
    let Some(batch) = side.batch.take() else {
        return;
    };
    if batch.waiting.is_empty() {
        if !side.db.is_autocommit() {
            if let Err(error) = side.db.execute_batch("ROLLBACK") {
                tracing::error!(%error, "the sandbox's transaction did not roll back");
            }
        }
        return;
    }
    side.stats.commits += 1;
    side.stats.writes += batch.waiting.len() as u64;
    let outcome = side.db.execute_batch("COMMIT").map_err(|error| {
        // A failed COMMIT may leave the transaction open: end it before the next batch.
        if !side.db.is_autocommit() {
            let _ = side.db.execute_batch("ROLLBACK");
        }
        error.to_string()
    });
    for write in batch.waiting {
        let _ = write.send(outcome.clone());
    }
}
