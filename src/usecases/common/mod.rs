//! Lookups every use case needs.

use projections::CustomerProfiles;
use sqlx::SqlitePool;

use crate::error::AppError;

/// The provider's id for billstream customer `customer_id` (404 when unknown).
pub async fn provider_customer(pool: &SqlitePool, customer_id: &str) -> Result<String, AppError> {
    CustomerProfiles::find_by_id(pool, customer_id)
        .await?
        .map(|profile| profile.stripe_customer_id)
        .ok_or(AppError::NotFound)
}
