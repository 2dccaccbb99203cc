//! Billing: subscriptions to the plans of the catalog and invoices, run by the payment provider
//! (Stripe Billing and Invoicing, or the sandbox) and mirrored in billstream's aggregates from
//! the provider's answers and webhooks.

pub mod invoices;
mod prices;
mod provider_state;
pub mod subscriptions;

pub use invoices::{InvoiceService, NewInvoiceRequest};
pub use prices::PriceBook;
pub use provider_state::{invoice_state, subscription_state};
pub use subscriptions::SubscriptionService;

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
