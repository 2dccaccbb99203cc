//! The payment-gateway port: the one interface through which billstream talks to its payment
//! provider. The offline sandbox implements it now; the Stripe adapter implements the same port.

mod error;
pub mod sandbox;

pub use error::GatewayError;

use async_trait::async_trait;

/// A customer to create at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomer {
    /// billstream's customer id, stored in the provider's metadata.
    pub customer_id: String,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
}

/// New contact details for a provider customer (full values, not a diff).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerDetails {
    pub name: String,
    pub phone: Option<String>,
}

/// What the provider says about a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderCustomer {
    /// The provider's id (`cus_…`).
    pub id: String,
}

/// Every operation billstream needs from a payment provider. Each mutating call carries an
/// idempotency key derived from billstream's own command id, so a retry never acts twice.
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// Creates the provider-side customer.
    async fn create_customer(
        &self,
        customer: &NewCustomer,
        idempotency_key: &str,
    ) -> Result<ProviderCustomer, GatewayError>;

    /// Pushes new contact details.
    async fn update_customer(
        &self,
        provider_customer_id: &str,
        details: &CustomerDetails,
        idempotency_key: &str,
    ) -> Result<(), GatewayError>;

    /// Deletes a provider customer (used to undo a registration that lost a race).
    async fn delete_customer(&self, provider_customer_id: &str) -> Result<(), GatewayError>;
}
