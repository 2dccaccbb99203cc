//! Turns a typed provider event into a command on the aggregate it concerns, found through the
//! provider-id → aggregate lookups of the read models. Nothing here reads the provider's wire
//! format: `provider::stripe::events` has decoded the event.

use std::collections::HashMap;
use std::sync::Arc;

use aggregates::customer::{
    CustomerCommand, CustomerName, CustomerStripeFact, Phone, StripeCustomerChange,
};
use aggregates::money::{Amount, Currency};
use aggregates::payment::{
    ChargeFact, ChargeRefund as RefundFact, CreatePayment, PaymentCommand, PaymentStripeFact,
};
use aggregates::subscription::{SubscriptionCommand, SubscriptionStripeFact};
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::{Aggregate, AggregateError};
use projections::{CustomerProfile, PaymentRow, ProjectionError, Readers, Subscriptions};

use super::store::InboxStatus;
use crate::error::AppError;
use crate::provider::{
    ChargeRefund, EventEnvelope, IncomingEvent, IntentSnapshot, ProviderEvent, ProviderInvoice,
    ProviderSubscription,
};
use crate::store::{Cqrs, CustomerCqrs, SubscriptionCqrs};
use crate::usecases::common::idempotency::DerivedId;
use crate::usecases::common::{execute_with_retry, provider_event_metadata};
use crate::usecases::invoices::InvoiceService;
use crate::usecases::payments::PaymentCqrs;
use crate::usecases::plans::PriceBook;
use crate::usecases::provider_state::subscription_state;

/// Why an event could not be applied (it is retried, then parked).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("the event's object is not what its type promises: {0}")]
    Malformed(String),
    #[error("the object this event is about is not recorded yet")]
    NotYetRecorded,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database error: {0}")]
    Read(#[from] ProjectionError),
    #[error("the aggregate refused the event: {0}")]
    Aggregate(String),
    #[error("recording the event failed: {0}")]
    App(String),
}

impl From<AppError> for ApplyError {
    fn from(error: AppError) -> Self {
        Self::App(error.to_string())
    }
}

impl<E: std::error::Error> From<AggregateError<E>> for ApplyError {
    fn from(error: AggregateError<E>) -> Self {
        Self::Aggregate(error.to_string())
    }
}

/// Applies events to aggregates.
pub struct EventApplier {
    /// The lookups of each event, from the calling thread on the file's reader connections.
    readers: Readers,
    payments: Arc<PaymentCqrs>,
    customers: Arc<CustomerCqrs>,
    subscriptions: Arc<SubscriptionCqrs>,
    invoices: Arc<InvoiceService>,
    prices: Arc<PriceBook>,
}

/// The metadata of a command an event caused: the event's id.
fn caused_by(envelope: &EventEnvelope) -> HashMap<String, String> {
    provider_event_metadata(&envelope.id)
}

/// Runs the command an event caused on aggregate `id`.
async fn execute<A: Aggregate>(
    cqrs: &Cqrs<A>,
    id: &str,
    command: A::Command,
    envelope: &EventEnvelope,
) -> Result<(), ApplyError>
where
    A::Command: Clone,
{
    Ok(execute_with_retry(cqrs, id, command, caused_by(envelope)).await?)
}

fn provider_time(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).single().unwrap_or_default()
}

impl EventApplier {
    pub fn new(
        readers: Readers,
        payments: Arc<PaymentCqrs>,
        customers: Arc<CustomerCqrs>,
        subscriptions: Arc<SubscriptionCqrs>,
        invoices: Arc<InvoiceService>,
        prices: Arc<PriceBook>,
    ) -> Self {
        Self {
            readers,
            payments,
            customers,
            subscriptions,
            invoices,
            prices,
        }
    }

    /// Applies one event; the status says what became of it.
    pub async fn apply(&self, incoming: &IncomingEvent) -> Result<InboxStatus, ApplyError> {
        let envelope = &incoming.envelope;
        match &incoming.event {
            ProviderEvent::PaymentIntent(snapshot) => self.payment_intent(envelope, snapshot).await,
            ProviderEvent::ChargeRefunded(charge) => self.charge_refunded(envelope, charge).await,
            ProviderEvent::CustomerUpdated {
                stripe_customer_id,
                name,
                phone,
            } => {
                // A value that breaks our rules (edited in the provider's dashboard) keeps ours.
                let change = StripeCustomerChange::Updated {
                    name: name
                        .as_deref()
                        .and_then(|name| CustomerName::parse(name).ok()),
                    phone: phone.as_deref().and_then(|phone| Phone::parse(phone).ok()),
                };
                self.customer(envelope, stripe_customer_id.as_deref(), change)
                    .await
            }
            ProviderEvent::CustomerDeleted { stripe_customer_id } => {
                self.customer(
                    envelope,
                    stripe_customer_id.as_deref(),
                    StripeCustomerChange::Deleted,
                )
                .await
            }
            ProviderEvent::Subscription(subscription) => {
                self.subscription(envelope, subscription).await
            }
            ProviderEvent::Invoice(invoice) => self.invoice(envelope, invoice).await,
            ProviderEvent::Unreadable { reason } => Err(ApplyError::Malformed(reason.clone())),
            ProviderEvent::UnreadableOfCustomer { customer, reason } => {
                match self.customer_id_for(customer.as_deref()).await? {
                    None => Ok(InboxStatus::UnknownCustomer),
                    Some(_) => Err(ApplyError::Malformed(reason.clone())),
                }
            }
            ProviderEvent::Other => Ok(InboxStatus::Ignored),
        }
    }

    /// The payment of PaymentIntent `intent`, if billstream records it.
    async fn payment_by_intent(&self, intent: &str) -> Result<Option<PaymentRow>, ApplyError> {
        // Read on a reader's connection: every event looks up its object and its customer.
        Ok(self
            .readers
            .find::<PaymentRow>("payment_intent_id", intent)
            .await?)
    }

    /// billstream's customer for a provider customer id, if billstream knows it.
    async fn customer_id_for(
        &self,
        stripe_customer: Option<&str>,
    ) -> Result<Option<String>, ApplyError> {
        let Some(stripe_customer) = stripe_customer else {
            return Ok(None);
        };
        Ok(self
            .readers
            .find::<CustomerProfile>("stripe_customer_id", stripe_customer)
            .await?
            .map(|profile| profile.id))
    }

    async fn payment_intent(
        &self,
        envelope: &EventEnvelope,
        snapshot: &IntentSnapshot,
    ) -> Result<InboxStatus, ApplyError> {
        let fact = PaymentStripeFact {
            stripe_event_id: envelope.id.clone(),
            event_type: envelope.event_type.clone(),
            created: provider_time(envelope.created),
            outcome: snapshot.intent.outcome(),
            charge: None,
        };
        let payment_id = match self.payment_by_intent(&snapshot.intent.id).await? {
            Some(payment) => payment.payment_id,
            // An invoice's payment: the invoice's own events account for the money.
            None if snapshot.invoice.is_some() => return Ok(InboxStatus::Ignored),
            // Ours, but its creation is not committed yet: try again shortly.
            None if snapshot.billstream_payment_id.is_some() => {
                return Err(ApplyError::NotYetRecorded)
            }
            None => {
                let Some(customer_id) = self.customer_id_for(snapshot.customer.as_deref()).await?
                else {
                    return Ok(InboxStatus::UnknownCustomer);
                };
                self.adopt_intent(&customer_id, snapshot, fact, envelope)
                    .await?;
                return Ok(InboxStatus::Applied);
            }
        };
        let command = PaymentCommand::ApplyStripeEvent(fact);
        execute(&self.payments, &payment_id, command, envelope).await?;
        Ok(InboxStatus::Applied)
    }

    /// Records a PaymentIntent created at the provider (dashboard, another system) for a known
    /// customer, so it shows up in the customer's history — with what the event says about it,
    /// in the same commit.
    async fn adopt_intent(
        &self,
        customer_id: &str,
        snapshot: &IntentSnapshot,
        fact: PaymentStripeFact,
        envelope: &EventEnvelope,
    ) -> Result<(), ApplyError> {
        let malformed =
            |error: aggregates::ValidationError| ApplyError::Malformed(error.to_string());
        let intent = &snapshot.intent;
        let payment_id = DerivedId::PaymentBornAtProvider.of(&intent.id);
        let create = CreatePayment {
            customer_id: customer_id.to_owned(),
            payment_intent_id: intent.id.clone(),
            client_secret: intent.client_secret.clone(),
            amount: Amount::parse("amount", intent.amount).map_err(malformed)?,
            currency: Currency::parse("currency", &intent.currency).map_err(malformed)?,
            description: snapshot.description.clone(),
            metadata: snapshot.metadata.clone(),
            created_at: provider_time(snapshot.created),
        };
        let command = PaymentCommand::Adopt { create, fact };
        execute(&self.payments, &payment_id, command, envelope).await?;
        Ok(())
    }

    async fn charge_refunded(
        &self,
        envelope: &EventEnvelope,
        charge: &ChargeRefund,
    ) -> Result<InboxStatus, ApplyError> {
        let Some(payment) = self.payment_by_intent(&charge.payment_intent).await? else {
            // An invoice's charge refunded by a credit note: the note accounts for the money.
            if charge.invoice.is_some() {
                return Ok(InboxStatus::Ignored);
            }
            return match self.customer_id_for(charge.customer.as_deref()).await? {
                // The intent's own event will record the payment; come back after it.
                Some(_) => Err(ApplyError::NotYetRecorded),
                None => Ok(InboxStatus::UnknownCustomer),
            };
        };
        let command = PaymentCommand::ApplyStripeEvent(PaymentStripeFact {
            stripe_event_id: envelope.id.clone(),
            event_type: envelope.event_type.clone(),
            created: provider_time(envelope.created),
            outcome: None,
            charge: Some(ChargeFact {
                charge_id: charge.charge_id.clone(),
                amount_captured: charge.amount_captured,
                amount_refunded: charge.amount_refunded,
                refunds: charge
                    .standing_refunds()
                    .map(|refund| RefundFact {
                        refund_id: refund.id.clone(),
                        amount: refund.amount,
                        request_id: refund.billstream_refund_id.clone(),
                    })
                    .collect(),
            }),
        });
        execute(&self.payments, &payment.payment_id, command, envelope).await?;
        Ok(InboxStatus::Applied)
    }

    async fn customer(
        &self,
        envelope: &EventEnvelope,
        stripe_customer_id: Option<&str>,
        change: StripeCustomerChange,
    ) -> Result<InboxStatus, ApplyError> {
        let Some(customer_id) = self.customer_id_for(stripe_customer_id).await? else {
            return Ok(InboxStatus::UnknownCustomer);
        };
        let command = CustomerCommand::ApplyStripeEvent(CustomerStripeFact {
            stripe_event_id: envelope.id.clone(),
            event_type: envelope.event_type.clone(),
            created: provider_time(envelope.created),
            change,
        });
        execute(&self.customers, &customer_id, command, envelope).await?;
        Ok(InboxStatus::Applied)
    }

    async fn subscription(
        &self,
        envelope: &EventEnvelope,
        subscription: &ProviderSubscription,
    ) -> Result<InboxStatus, ApplyError> {
        let Some(customer_id) = self
            .customer_id_for(subscription.customer.as_deref())
            .await?
        else {
            return Ok(InboxStatus::UnknownCustomer);
        };
        let subscription_id = match &subscription.billstream_id {
            Some(ours) => ours.clone(),
            None => match Subscriptions::find_by_stripe_id(self.readers.pool(), &subscription.id)
                .await?
            {
                Some(row) => row.subscription_id,
                None => DerivedId::SubscriptionBornAtProvider.of(&subscription.id),
            },
        };
        let plan = match &subscription.price_id {
            Some(price) => self.prices.plan_for_price(price).await,
            None => None,
        };
        let command = SubscriptionCommand::ApplyStripeEvent(SubscriptionStripeFact {
            stripe_event_id: envelope.id.clone(),
            event_type: envelope.event_type.clone(),
            created: provider_time(envelope.created),
            customer_id,
            stripe_subscription_id: subscription.id.clone(),
            state: subscription_state(subscription, plan),
        });
        execute(&self.subscriptions, &subscription_id, command, envelope).await?;
        Ok(InboxStatus::Applied)
    }

    async fn invoice(
        &self,
        envelope: &EventEnvelope,
        invoice: &ProviderInvoice,
    ) -> Result<InboxStatus, ApplyError> {
        let Some(customer_id) = self.customer_id_for(invoice.customer.as_deref()).await? else {
            return Ok(InboxStatus::UnknownCustomer);
        };
        let Some(invoice_id) = self
            .invoices
            .adopt(&customer_id, invoice, caused_by(envelope))
            .await?
        else {
            // billstream created it and has not recorded it yet: come back shortly.
            return Err(ApplyError::NotYetRecorded);
        };
        self.invoices
            .apply_with_metadata(&invoice_id, invoice, caused_by(envelope))
            .await?;
        Ok(InboxStatus::Applied)
    }
}
