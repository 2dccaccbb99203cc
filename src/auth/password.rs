//! Password rules and bcrypt hashing off the async runtime.

use std::sync::Arc;

use aggregates::customer::PasswordHash;
use aggregates::ValidationError;
use tokio::sync::{OnceCell, Semaphore};

/// A plaintext password that meets the rules. Never logged, never stored.
pub struct PlainPassword(String);

impl PlainPassword {
    /// Minimum length, in characters.
    pub const MIN_CHARS: usize = 8;
    /// bcrypt reads at most 72 bytes; longer passwords are refused rather than truncated.
    pub const MAX_BYTES: usize = 72;

    /// Checks the rules; `field` names the request field for the error.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        if raw.chars().count() < Self::MIN_CHARS {
            return Err(ValidationError::new(
                field,
                "must be at least 8 characters long",
            ));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(ValidationError::new(field, "must be at most 72 bytes long"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// A password as typed at login: no rules, so that old accounts can still log in.
    pub fn unchecked(raw: &str) -> Self {
        Self(raw.to_owned())
    }
}

impl std::fmt::Debug for PlainPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlainPassword(<redacted>)")
    }
}

/// Hashing failed (only on a bug or a runtime shutting down).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashingError(String);

/// bcrypt at the configured cost, run on `max(1, cores - 1)` dedicated threads of lowered
/// scheduling priority: a burst of logins queues here, and while it hashes, the requests that
/// do not hash (webhooks, payments) still get the CPU first.
pub struct PasswordHasher {
    cost: u32,
    permits: Arc<Semaphore>,
    jobs: std::sync::mpsc::SyncSender<HashJob>,
    /// A hash of nothing in particular, verified when an e-mail is unknown so that a missing
    /// account takes as long to refuse as a wrong password.
    decoy: OnceCell<String>,
}

impl PasswordHasher {
    /// A hasher using at most `max(1, cores - 1)` cores at a time.
    pub fn new(cost: u32) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let threads = cores.saturating_sub(1).max(1);
        Self {
            cost,
            permits: Arc::new(Semaphore::new(threads)),
            jobs: spawn_hashing_threads(threads),
            decoy: OnceCell::new(),
        }
    }

    /// Hashes a password.
    pub async fn hash(&self, password: &PlainPassword) -> Result<PasswordHash, HashingError> {
        let cost = self.cost;
        let password = password.0.clone();
        self.run(move || bcrypt::hash(password, cost))
            .await
            .map(PasswordHash::new)
    }

    /// True when `password` matches `hash`. A malformed stored hash never matches.
    pub async fn verify(&self, password: &PlainPassword, hash: &str) -> Result<bool, HashingError> {
        let password = password.0.clone();
        let hash = hash.to_owned();
        Ok(self
            .run(move || bcrypt::verify(password, &hash))
            .await
            .unwrap_or(false))
    }

    /// Computes the decoy hash in the background, so the first unknown-e-mail login costs what
    /// every later one does.
    pub fn warm_up(self: Arc<Self>) {
        tokio::spawn(async move {
            if let Err(error) = self.decoy_hash().await {
                tracing::warn!(%error, "could not prepare the login decoy hash");
            }
        });
    }

    async fn decoy_hash(&self) -> Result<String, HashingError> {
        let cost = self.cost;
        self.decoy
            .get_or_try_init(|| async move {
                self.run(move || bcrypt::hash("decoy password, never valid", cost))
                    .await
            })
            .await
            .cloned()
    }

    /// Spends the time of a real verification, for an account that does not exist.
    pub async fn verify_decoy(&self, password: &PlainPassword) -> Result<(), HashingError> {
        let decoy = self.decoy_hash().await?;
        self.verify(password, &decoy).await.map(|_| ())
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, bcrypt::BcryptError> + Send + 'static,
    ) -> Result<T, HashingError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|error| HashingError(error.to_string()))?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: HashJob = Box::new(move || {
            let _ = reply.send(work().map_err(|error| HashingError(error.to_string())));
        });
        self.jobs
            .send(job)
            .map_err(|_| HashingError("the hashing threads have stopped".to_owned()))?;
        answer
            .await
            .map_err(|_| HashingError("a hashing thread failed".to_owned()))?
    }
}

type HashJob = Box<dyn FnOnce() + Send>;

/// How much lower than the service's other threads the hashing threads run (`nice` steps: at
/// 10, Linux gives a busy request thread about ten times the CPU of a hashing thread).
const HASHING_NICENESS: libc::c_int = 10;

/// Starts the hashing threads; they end when the hasher is dropped.
fn spawn_hashing_threads(threads: usize) -> std::sync::mpsc::SyncSender<HashJob> {
    let (jobs, queue) = std::sync::mpsc::sync_channel::<HashJob>(threads);
    let queue = Arc::new(std::sync::Mutex::new(queue));
    for index in 0..threads {
        let queue = queue.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("bcrypt-{index}"))
            .spawn(move || {
                lower_this_threads_priority();
                loop {
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start a password hashing thread");
        }
    }
    jobs
}

/// Lowers the calling thread's priority (Linux schedules threads individually). Failure only
/// means hashing competes at normal priority.
fn lower_this_threads_priority() {
    // SAFETY: plain syscalls on the calling thread's own id; no memory is shared.
    let outcome = unsafe {
        let thread_id = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, thread_id, HASHING_NICENESS)
    };
    if outcome != 0 {
        tracing::debug!("could not lower the hashing thread's priority");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passwords_are_refused_naming_the_field() {
        let error = PlainPassword::parse("new_password", "short").unwrap_err();
        assert_eq!(error.field, "new_password");
    }

    #[test]
    fn passwords_longer_than_bcrypt_reads_are_refused() {
        assert!(PlainPassword::parse("password", &"x".repeat(73)).is_err());
        assert!(PlainPassword::parse("password", &"x".repeat(72)).is_ok());
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = PasswordHasher::new(4);
        let hash = hasher
            .hash(&PlainPassword::parse("password", "correct horse").unwrap())
            .await
            .unwrap();
        assert!(hasher
            .verify(&PlainPassword::unchecked("correct horse"), hash.as_str())
            .await
            .unwrap());
        assert!(!hasher
            .verify(&PlainPassword::unchecked("wrong horse"), hash.as_str())
            .await
            .unwrap());
        hasher
            .verify_decoy(&PlainPassword::unchecked("anything"))
            .await
            .unwrap();
    }
}
