//! The sandbox's test clock, like Stripe's test clocks: sandbox time is wall-clock time plus a
//! stored offset. Moving it forward runs, in time order, everything that fell due on the way
//! (trial ends, renewals, payment retries), each step in a transaction of its own with the
//! webhooks it emits.

use super::cycle;
use super::ids::unix_now;
use super::store::SandboxConn;
use super::SandboxProvider;
use crate::provider::ProviderError;

/// Most steps one advance runs (a year of daily renewals for many subscriptions fits).
const MAX_STEPS: usize = 100_000;

/// Sandbox time now (Unix seconds).
pub async fn now(conn: &mut SandboxConn) -> Result<i64, ProviderError> {
    const SQL: &str = "SELECT offset_seconds FROM sandbox_clock WHERE id = 1";
    let offset: i64 = conn
        .value(SQL, &[])
        .await?
        .ok_or_else(|| ProviderError::Provider("the sandbox's clock is missing".into()))?;
    Ok(unix_now() + offset)
}

/// What an advance did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advanced {
    /// Sandbox time after the advance (Unix seconds).
    pub now: i64,
    /// Trial ends, renewals, cancellations and retries that ran.
    pub steps: usize,
}

impl SandboxProvider {
    /// Moves sandbox time forward by `seconds` and runs what fell due.
    pub async fn advance_clock(&self, seconds: i64) -> Result<Advanced, ProviderError> {
        // The turn ends with this block: `run_due` takes turns of its own.
        let now = {
            let (_turn, mut tx) = self.begin_write().await?;
            const SQL: &str =
                "UPDATE sandbox_clock SET offset_seconds = offset_seconds + $1 WHERE id = 1";
            tx.execute(SQL, &[seconds.into()]).await?;
            let now = now(&mut tx).await?;
            tx.commit().await?;
            now
        };
        let steps = self.run_due().await?;
        Ok(Advanced { now, steps })
    }

    /// Sandbox time now.
    pub async fn clock_now(&self) -> Result<i64, ProviderError> {
        let mut conn = self.store.read().await?;
        now(&mut conn).await
    }

    /// Runs every due step, earliest first, until nothing is due.
    pub async fn run_due(&self) -> Result<usize, ProviderError> {
        let mut steps = 0;
        while steps < MAX_STEPS {
            let (_turn, mut tx) = self.begin_write().await?;
            let now = now(&mut tx).await?;
            if !cycle::run_next_due(&mut tx, now).await? {
                break;
            }
            tx.commit().await?;
            self.outbox_wake.notify_one();
            steps += 1;
        }
        Ok(steps)
    }
}
