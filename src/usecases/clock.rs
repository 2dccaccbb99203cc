//! Business time: what "now" and "today" are for due dates and overdue amounts. In sandbox
//! mode that is the sandbox's test clock (which operators and tests move forward); with a real
//! provider, the system clock.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

/// The clock business rules read.
#[async_trait]
pub trait Clock: Send + Sync {
    /// Now.
    async fn now(&self) -> DateTime<Utc>;

    /// Today's date (UTC).
    async fn today(&self) -> NaiveDate {
        self.now().await.date_naive()
    }
}

/// The system clock.
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    async fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
