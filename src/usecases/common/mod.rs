//! Mechanisms every use case shares, each in one place: command execution (retry on conflict
//! and read-your-writes), idempotency (client keys, derived ids, provider keys), pagination,
//! and the ownership check that makes another customer's object look like nothing at all.

pub mod execute;
pub mod idempotency;
pub mod pagination;

pub use execute::{
    command_metadata, execute_with_retry, provider_event_metadata, CommandMetadata, Commands,
};
pub use pagination::{Page, PageRequest, PageRows};

use projections::{CustomerProfiles, InvoiceRow, PaymentRow, SubscriptionRow};
use sqlx::SqlitePool;

use crate::error::AppError;

/// The provider's id for billstream customer `customer_id` (404 when unknown).
pub async fn stripe_customer_id(pool: &SqlitePool, customer_id: &str) -> Result<String, AppError> {
    CustomerProfiles::find_by_id(pool, customer_id)
        .await?
        .map(|profile| profile.stripe_customer_id)
        .ok_or(AppError::NotFound)
}

/// A read-model row that belongs to one customer.
pub trait Owned {
    /// billstream's id of the customer it belongs to.
    fn owner(&self) -> &str;
}

impl Owned for PaymentRow {
    fn owner(&self) -> &str {
        &self.customer_id
    }
}

impl Owned for InvoiceRow {
    fn owner(&self) -> &str {
        &self.customer_id
    }
}

impl Owned for SubscriptionRow {
    fn owner(&self) -> &str {
        &self.customer_id
    }
}

/// `row` if it exists and belongs to `customer_id`; otherwise 404, so nobody can tell another
/// customer's object from one that does not exist.
pub fn owned_by<T: Owned>(row: Option<T>, customer_id: &str) -> Result<T, AppError> {
    row.filter(|row| row.owner() == customer_id)
        .ok_or(AppError::NotFound)
}
