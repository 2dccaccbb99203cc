//! The process's turn at SQLite's single write lock.
//!
//! SQLite admits one writer at a time. Writers that meet a held lock wait in SQLite's busy
//! handler, which sleeps and polls: under a steady stream of group commits a waiting projector
//! could sleep through many batches. Writers of one process instead queue here, first come
//! first served, and only then begin their transaction. The busy handler still protects
//! against other processes (the CLI, an operator's `sqlite3`).

use std::sync::Arc;

use tokio::sync::{Mutex, MutexGuard, OwnedMutexGuard};

/// A fair, shared queue for write transactions. Cloning shares the queue.
#[derive(Clone, Default)]
pub struct WriteGate(Arc<Mutex<()>>);

/// Held while a write transaction runs; the next writer goes when it drops.
pub type WriteTurn<'a> = MutexGuard<'a, ()>;

/// A [`WriteTurn`] that owns its place in the queue, for a transaction that outlives the
/// scope that began it (the sandbox's batches, committed by whichever write ends them).
pub type OwnedWriteTurn = OwnedMutexGuard<()>;

impl WriteGate {
    /// A new, empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits for this writer's turn.
    pub async fn turn(&self) -> WriteTurn<'_> {
        self.0.lock().await
    }

    /// Waits for this writer's turn, held until the returned guard drops wherever it goes.
    pub async fn turn_owned(&self) -> OwnedWriteTurn {
        self.0.clone().lock_owned().await
    }

    /// Waits for this writer's turn on a thread of its own (the group-commit writer's). Never
    /// from async code: it blocks the thread.
    pub fn turn_blocking(&self) -> WriteTurn<'_> {
        self.0.blocking_lock()
    }
}
