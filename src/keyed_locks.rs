//! Serialises operations on the same key (a payment, a customer) within this process, in a
//! bounded amount of memory: keys hash onto a fixed set of stripes, so two keys may share a
//! stripe and merely wait for each other.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use tokio::sync::{Mutex, MutexGuard};

/// Striped async locks.
pub struct KeyedLocks {
    stripes: Vec<Mutex<()>>,
}

impl KeyedLocks {
    /// `stripes` locks (at least one).
    pub fn new(stripes: usize) -> Self {
        Self {
            stripes: (0..stripes.max(1)).map(|_| Mutex::new(())).collect(),
        }
    }

    /// Waits until no other holder of `key`'s stripe remains.
    pub async fn lock(&self, key: &str) -> MutexGuard<'_, ()> {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let stripe = (hasher.finish() % self.stripes.len() as u64) as usize;
        self.stripes[stripe].lock().await
    }
}
