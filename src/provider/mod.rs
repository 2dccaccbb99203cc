//! The payment-provider port: the one interface through which billstream talks to its payment
//! provider, and the provider-neutral shapes it speaks — requests and results (`types`,
//! `billing`), events (`events`), errors (`error`). The offline sandbox (`sandbox/`) and the
//! Stripe adapter (`stripe/`) implement it; nothing else in the service knows a provider's wire
//! format. The neutral files import only `aggregates` value types (and `sqlx`'s and `rusqlite`'s
//! errors, for the sandbox's storage failures); `stripe/` may import them
//! and `crate::config`; `sandbox/` may also import `stripe/`'s wire decoding and signing
//! (it answers in Stripe's shapes), the write gate it shares with the service and the store's
//! way of opening a writing connection on the node's file.

mod billing;
mod error;
mod events;
pub mod sandbox;
pub mod stripe;
mod types;

pub use billing::*;
pub use error::{ProviderError, StorageError};
pub use events::*;
/// Webhooks arrive in Stripe's format whichever provider runs (the sandbox sends the same), so
/// the inbox reads them with the Stripe adapter's decoder.
pub use stripe::events::{decode_event, read_envelope};
/// Whether a metadata key is one billstream writes on provider objects (a client's own
/// metadata may not use it).
pub use stripe::metadata::is_reserved as is_reserved_metadata_key;
pub use types::*;

use async_trait::async_trait;

/// Every operation billstream needs from a payment provider. Each mutating call carries an
/// idempotency key derived from billstream's own ids, so a retry never acts twice.
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Creates the provider-side customer.
    async fn create_customer(
        &self,
        customer: &NewCustomer,
        idempotency_key: &str,
    ) -> Result<ProviderCustomer, ProviderError>;

    /// Pushes new contact details.
    async fn update_customer(
        &self,
        stripe_customer_id: &str,
        details: &CustomerDetails,
        idempotency_key: &str,
    ) -> Result<(), ProviderError>;

    /// Deletes a provider customer (used to undo a registration that lost a race).
    async fn delete_customer(&self, stripe_customer_id: &str) -> Result<(), ProviderError>;

    /// Creates a PaymentIntent awaiting its payment method.
    async fn create_payment_intent(
        &self,
        intent: &NewPaymentIntent,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, ProviderError>;

    /// Attaches a payment method and confirms. A card decline is not an error: it comes back as
    /// an intent with `last_error` set.
    async fn confirm_payment_intent(
        &self,
        payment_intent_id: &str,
        payment_method: &str,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, ProviderError>;

    /// The intent as the provider sees it now.
    async fn retrieve_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<PaymentIntent, ProviderError>;

    /// Refunds `amount` minor units of a succeeded intent.
    async fn create_refund(
        &self,
        refund: &NewRefund,
        idempotency_key: &str,
    ) -> Result<Refund, ProviderError>;

    /// Makes `payment_method` the card the customer's invoices and subscriptions are charged to.
    async fn set_default_payment_method(
        &self,
        stripe_customer_id: &str,
        payment_method: &str,
        idempotency_key: &str,
    ) -> Result<(), ProviderError>;

    /// The provider's recurring price for a plan: the configured one, or one found (or
    /// created once) by the plan's lookup key.
    async fn ensure_price(&self, price: &PlanPrice) -> Result<PlanPrice, ProviderError>;

    /// Subscribes a customer to a price; with no trial the first invoice is charged at once
    /// to the customer's default payment method.
    async fn create_subscription(
        &self,
        subscription: &NewSubscription,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError>;

    /// Cancels now, or at the end of the current period.
    async fn cancel_subscription(
        &self,
        subscription_id: &str,
        at_period_end: bool,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError>;

    /// Undoes a cancellation at period end.
    async fn resume_subscription(
        &self,
        subscription_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError>;

    /// Moves the subscription to another price, with prorations as the provider makes them.
    async fn change_subscription_price(
        &self,
        subscription_id: &str,
        price: &PlanPrice,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError>;

    /// Creates a draft invoice with its lines.
    async fn create_invoice(
        &self,
        invoice: &NewInvoice,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError>;

    /// Finalizes a draft (the provider numbers it if it numbers invoices).
    async fn finalize_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError>;

    /// Collects an open invoice now, from `payment_method` or the customer's default. A
    /// decline leaves it open with the failure recorded; it is not an error.
    async fn pay_invoice(
        &self,
        invoice_id: &str,
        payment_method: Option<&str>,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError>;

    /// Voids an open invoice.
    async fn void_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError>;

    /// Records a credit note on a finalized invoice (Stripe's `POST /v1/credit_notes`): the
    /// amount due falls, or the paid amount is refunded.
    async fn credit_invoice(
        &self,
        invoice_id: &str,
        credit: &NewCreditNote,
        idempotency_key: &str,
    ) -> Result<(), ProviderError>;

    /// Sends an open invoice to the customer.
    async fn send_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError>;

    /// Every event the provider created at or after `since` (Unix seconds) that it still
    /// keeps (Stripe: 30 days), oldest first: what reconciliation compares with the inbox.
    async fn list_events(&self, since: i64) -> Result<Vec<ListedEvent>, ProviderError>;

    /// The subscription as the provider sees it now: what reconciliation compares with
    /// billstream's when no event told of a change.
    async fn retrieve_subscription(
        &self,
        subscription_id: &str,
    ) -> Result<ProviderSubscription, ProviderError>;

    /// The invoice as the provider sees it now (reconciliation's object pass).
    async fn retrieve_invoice(&self, invoice_id: &str) -> Result<ProviderInvoice, ProviderError>;
}
