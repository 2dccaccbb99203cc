//! The offline sandbox: behaves like Stripe's test mode. Its "Stripe-side" state lives in its own
//! tables of the node's SQLite file, or of the shared PostgreSQL database when the nodes share
//! one (so it survives restarts like an external system would, and every node sees it), its
//! ids look like Stripe's, it knows Stripe's test cards, and it reports every state change as a
//! signed Stripe-format event from a durable outbox.
//!
//! This file is the `SandboxProvider` and its port implementation, which only binds each call
//! to its idempotency key and hands it to the file of the object it concerns: `customers`,
//! `payments` (intents, confirmations, 3-D Secure), `refunds`, `subscriptions`, `invoices`,
//! `credit_notes`,
//! `collection` (charging an invoice), `prices`, `cycle` (what falls due) on the test `clock`;
//! `cards`, `documents` (the stored objects), `ids`, `idempotency` and `outbox` serve them all;
//! `store` is the database they are kept in (the node's file or the shared PostgreSQL), with
//! `node_batch` sharing the file's commits among concurrent writes, `sql`
//! runs one statement on either, and
//! `adopt` moves a node's sandbox into the shared one. Files here may import the
//! provider's neutral types, `stripe`'s wire decoding, metadata keys and signing (the sandbox
//! answers in Stripe's shapes), the write gate it shares with the service, the store's way
//! of opening a connection on the node's file, and `crate::config`.

pub mod adopt;
mod cards;
pub mod clock;
mod collection;
mod credit_notes;
mod customers;
mod cycle;
mod documents;
mod idempotency;
mod ids;
mod invoices;
mod node_batch;
pub mod outbox;
mod payments;
mod prices;
mod refunds;
mod sql;
pub mod store;
mod subscriptions;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;
use tokio::sync::Notify;

use super::stripe::{billing_decode, decode, metadata};
use super::{
    CustomerDetails, ListedEvent, NewCreditNote, NewCustomer, NewInvoice, NewPaymentIntent,
    NewRefund, NewSubscription, PaymentIntent, PaymentProvider, PlanPrice, ProviderCustomer,
    ProviderError, ProviderInvoice, ProviderSubscription, Refund,
};
pub use cards::test_payment_method;
use documents::{corrupt, load_document};
use idempotency::at_clock_time;
use invoices::InvoiceAction;
use store::SandboxStore;
use subscriptions::SubscriptionChange;

/// The sandbox provider (made in `store`, with the database it keeps its state in).
#[derive(Clone)]
pub struct SandboxProvider {
    store: SandboxStore,
    /// Wakes the webhook delivery worker when an event is queued.
    outbox_wake: Arc<Notify>,
}

#[async_trait]
impl PaymentProvider for SandboxProvider {
    async fn create_customer(
        &self,
        customer: &NewCustomer,
        idempotency_key: &str,
    ) -> Result<ProviderCustomer, ProviderError> {
        let request = json!({
            "op": "create_customer",
            "email": customer.email,
            "name": customer.name,
            "phone": customer.phone,
            "metadata": {metadata::CUSTOMER_ID: customer.customer_id},
        });
        let response = self
            .idempotent(idempotency_key, request.clone(), move |conn| {
                Box::pin(async move { customers::create(conn, &request).await })
            })
            .await?;
        Ok(ProviderCustomer {
            id: decode::object_id(&response)?,
        })
    }

    async fn update_customer(
        &self,
        stripe_customer_id: &str,
        details: &CustomerDetails,
        idempotency_key: &str,
    ) -> Result<(), ProviderError> {
        let request = json!({
            "op": "update_customer",
            "id": stripe_customer_id,
            "name": details.name,
            "phone": details.phone,
        });
        self.idempotent(idempotency_key, request.clone(), move |conn| {
            Box::pin(async move { customers::update(conn, &request).await })
        })
        .await?;
        Ok(())
    }

    async fn delete_customer(&self, stripe_customer_id: &str) -> Result<(), ProviderError> {
        let (_turn, mut tx) = self.begin_write().await?;
        customers::delete(&mut tx, stripe_customer_id).await?;
        tx.commit().await?;
        self.outbox_wake.notify_one();
        Ok(())
    }

    async fn create_payment_intent(
        &self,
        intent: &NewPaymentIntent,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, ProviderError> {
        let request = json!({
            "op": "create_payment_intent",
            "payment_id": intent.payment_id,
            "customer": intent.stripe_customer_id,
            "amount": intent.amount,
            "currency": intent.currency,
            "description": intent.description,
            "metadata": intent.metadata,
        });
        let intent = intent.clone();
        let response = self
            .idempotent(idempotency_key, request, move |conn| {
                Box::pin(async move { payments::create(conn, &intent).await })
            })
            .await?;
        decode::payment_intent(response)
    }

    async fn confirm_payment_intent(
        &self,
        payment_intent_id: &str,
        payment_method: &str,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, ProviderError> {
        let request = json!({
            "op": "confirm_payment_intent",
            "id": payment_intent_id,
            "payment_method": payment_method,
        });
        let (id, method, key) = (
            payment_intent_id.to_owned(),
            payment_method.to_owned(),
            idempotency_key.to_owned(),
        );
        let response = self
            .idempotent(idempotency_key, request, move |conn| {
                Box::pin(async move { payments::confirm(conn, &id, &method, &key).await })
            })
            .await?;
        decode::payment_intent(response)
    }

    async fn retrieve_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<PaymentIntent, ProviderError> {
        let mut conn = self.store.read().await?;
        decode::payment_intent(payments::load_intent(&mut conn, payment_intent_id).await?)
    }

    async fn create_refund(
        &self,
        new: &NewRefund,
        idempotency_key: &str,
    ) -> Result<Refund, ProviderError> {
        let request = json!({
            "op": "create_refund",
            "payment_intent": new.payment_intent_id,
            "amount": new.amount,
            "refund_id": new.refund_id,
        });
        let (new, key) = (new.clone(), idempotency_key.to_owned());
        let response = self
            .idempotent(idempotency_key, request, move |conn| {
                Box::pin(async move { refunds::create(conn, &new, &key).await })
            })
            .await?;
        decode::refund(&response)
    }

    async fn set_default_payment_method(
        &self,
        stripe_customer_id: &str,
        payment_method: &str,
        idempotency_key: &str,
    ) -> Result<(), ProviderError> {
        let request = json!({"op": "set_default_payment_method",
                             "customer": stripe_customer_id, "payment_method": payment_method});
        let (customer, method) = (stripe_customer_id.to_owned(), payment_method.to_owned());
        let set = at_clock_time(move |conn, _| {
            Box::pin(async move {
                customers::set_default_payment_method(conn, &customer, &method).await
            })
        });
        self.idempotent(idempotency_key, request, set).await?;
        Ok(())
    }

    async fn ensure_price(&self, price: &PlanPrice) -> Result<PlanPrice, ProviderError> {
        Ok(prices::ensure(price))
    }

    async fn create_subscription(
        &self,
        subscription: &NewSubscription,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        let request = json!({"op": "create_subscription",
            "subscription_id": subscription.subscription_id,
            "customer": subscription.stripe_customer_id,
            "price": subscription.price.price_id, "trial_days": subscription.trial_days});
        let new = subscription.clone();
        let create = at_clock_time(move |conn, now| {
            Box::pin(async move { subscriptions::create_subscription(conn, &new, now).await })
        });
        let object = self.idempotent(idempotency_key, request, create).await?;
        billing_decode::subscription(&object)
    }

    async fn cancel_subscription(
        &self,
        subscription_id: &str,
        at_period_end: bool,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        let change = SubscriptionChange::Cancel { at_period_end };
        billing_decode::subscription(
            &self
                .change(subscription_id, change, idempotency_key)
                .await?,
        )
    }

    async fn resume_subscription(
        &self,
        subscription_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        let change = SubscriptionChange::Resume;
        billing_decode::subscription(
            &self
                .change(subscription_id, change, idempotency_key)
                .await?,
        )
    }

    async fn change_subscription_price(
        &self,
        subscription_id: &str,
        price: &PlanPrice,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        let change = SubscriptionChange::ChangePrice(price.clone());
        billing_decode::subscription(
            &self
                .change(subscription_id, change, idempotency_key)
                .await?,
        )
    }

    async fn create_invoice(
        &self,
        invoice: &NewInvoice,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        let request = json!({"op": "create_invoice", "invoice_id": invoice.invoice_id,
            "customer": invoice.stripe_customer_id, "currency": invoice.currency,
            "lines": invoice.lines, "memo": invoice.memo, "due_days": invoice.due_days,
            "collection_method": invoice.collection_method});
        let new = invoice.clone();
        let create = at_clock_time(move |conn, now| {
            Box::pin(async move { invoices::create_invoice(conn, &new, now).await })
        });
        let object = self.idempotent(idempotency_key, request, create).await?;
        billing_decode::invoice(&object)
    }

    async fn finalize_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        let action = InvoiceAction::Finalize;
        billing_decode::invoice(&self.change(invoice_id, action, idempotency_key).await?)
    }

    async fn pay_invoice(
        &self,
        invoice_id: &str,
        payment_method: Option<&str>,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        let action = InvoiceAction::Pay {
            payment_method: payment_method.map(str::to_owned),
        };
        billing_decode::invoice(&self.change(invoice_id, action, idempotency_key).await?)
    }

    async fn void_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        let action = InvoiceAction::Void;
        billing_decode::invoice(&self.change(invoice_id, action, idempotency_key).await?)
    }

    async fn credit_invoice(
        &self,
        invoice_id: &str,
        credit: &NewCreditNote,
        idempotency_key: &str,
    ) -> Result<(), ProviderError> {
        let action = InvoiceAction::Credit(credit.clone());
        self.change(invoice_id, action, idempotency_key)
            .await
            .map(|_| ())
    }

    async fn send_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        let action = InvoiceAction::Send;
        billing_decode::invoice(&self.change(invoice_id, action, idempotency_key).await?)
    }

    async fn list_events(&self, since: i64) -> Result<Vec<ListedEvent>, ProviderError> {
        outbox::list_since(&self.store, since).await
    }

    async fn retrieve_subscription(
        &self,
        subscription_id: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        let mut conn = self.store.read().await?;
        billing_decode::subscription(
            &subscriptions::load(&mut conn, subscription_id)
                .await?
                .object,
        )
    }

    async fn retrieve_invoice(&self, invoice_id: &str) -> Result<ProviderInvoice, ProviderError> {
        let mut conn = self.store.read().await?;
        billing_decode::invoice(&invoices::load(&mut conn, invoice_id).await?)
    }
}
