//! The payment-gateway port: the one interface through which billstream talks to its payment
//! provider. The offline sandbox and the Stripe adapter implement it; nothing else in the
//! service knows a provider's wire format.

pub mod decode;
mod error;
pub mod sandbox;
pub mod stripe;
mod types;

pub use error::GatewayError;
pub use types::*;

use async_trait::async_trait;

/// Every operation billstream needs from a payment provider. Each mutating call carries an
/// idempotency key derived from billstream's own ids, so a retry never acts twice.
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

    /// Creates a PaymentIntent awaiting its payment method.
    async fn create_payment_intent(
        &self,
        intent: &NewPaymentIntent,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, GatewayError>;

    /// Attaches a payment method and confirms. A card decline is not an error: it comes back as
    /// an intent with `last_error` set.
    async fn confirm_payment_intent(
        &self,
        payment_intent_id: &str,
        payment_method: &str,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, GatewayError>;

    /// The intent as the provider sees it now.
    async fn retrieve_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<PaymentIntent, GatewayError>;

    /// Refunds `amount` minor units of a succeeded intent.
    async fn create_refund(
        &self,
        payment_intent_id: &str,
        amount: i64,
        idempotency_key: &str,
    ) -> Result<Refund, GatewayError>;
}
