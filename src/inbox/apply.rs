//! Turns a stored Stripe event into a command on the aggregate it concerns, found through the
//! stripe-id → aggregate lookups of the read models.

use std::collections::BTreeMap;
use std::sync::Arc;

use aggregates::customer::{
    CustomerCommand, CustomerName, CustomerStripeFact, Phone, StripeCustomerChange,
};
use aggregates::money::{Amount, Currency};
use aggregates::payment::{
    ChargeFact, ChargeRefund, CreatePayment, PaymentCommand, PaymentStripeFact,
};
use aggregates::subscription::{SubscriptionCommand, SubscriptionStripeFact};
use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::AggregateError;
use projections::{CustomerProfiles, Payments, Subscriptions};
use serde_json::Value;
use sqlx::SqlitePool;
use uuid::Uuid;

use super::store::InboxStatus;
use super::StripeEvent;
use crate::error::AppError;
use crate::provider::stripe::billing_decode::{self, id_of};
use crate::provider::stripe::decode;
use crate::store::{CustomerCqrs, SubscriptionCqrs};
use crate::usecases::common::execute_with_retry;
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

/// The Stripe event types billstream acts on now.
const PAYMENT_INTENT_EVENTS: &[&str] = &[
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.requires_action",
    "payment_intent.processing",
    "payment_intent.canceled",
];

/// Invoice events: each brings the invoice forward to the state its object shows.
const INVOICE_EVENTS: &[&str] = &[
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "invoice.updated",
];

const SUBSCRIPTION_EVENTS: &[&str] = &[
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.trial_will_end",
    "customer.subscription.paused",
    "customer.subscription.resumed",
];

/// Namespace of subscription ids for subscriptions first seen in a Stripe event.
const SUBSCRIPTIONS_FROM_STRIPE: Uuid = Uuid::from_u128(0x9d1e_4b7a_0c3f_4a28_b6e5_7f10_2a9c_d4e3);

/// Namespace of payment ids for PaymentIntents born in Stripe.
const BORN_IN_STRIPE: Uuid = Uuid::from_u128(0x2f4c_83a1_77b0_4e55_a1d6_0c9e_5b3f_d801);

/// Applies events to aggregates.
pub struct EventApplier {
    pool: SqlitePool,
    payments: Arc<PaymentCqrs>,
    customers: Arc<CustomerCqrs>,
    subscriptions: Arc<SubscriptionCqrs>,
    invoices: Arc<InvoiceService>,
    prices: Arc<PriceBook>,
}

fn stripe_time(seconds: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(seconds, 0).single().unwrap_or_default()
}

fn metadata(event: &StripeEvent) -> std::collections::HashMap<String, String> {
    std::collections::HashMap::from([("stripe_event_id".to_owned(), event.id.clone())])
}

impl EventApplier {
    pub fn new(
        pool: SqlitePool,
        payments: Arc<PaymentCqrs>,
        customers: Arc<CustomerCqrs>,
        subscriptions: Arc<SubscriptionCqrs>,
        invoices: Arc<InvoiceService>,
        prices: Arc<PriceBook>,
    ) -> Self {
        Self {
            pool,
            payments,
            customers,
            subscriptions,
            invoices,
            prices,
        }
    }

    /// Applies one event; the status says what became of it.
    pub async fn apply(&self, event: &StripeEvent) -> Result<InboxStatus, ApplyError> {
        let kind = event.kind.as_str();
        if PAYMENT_INTENT_EVENTS.contains(&kind) {
            self.payment_intent(event).await
        } else if kind == "charge.refunded" {
            self.charge_refunded(event).await
        } else if kind == "customer.updated" || kind == "customer.deleted" {
            self.customer(event).await
        } else if SUBSCRIPTION_EVENTS.contains(&kind) {
            self.subscription(event).await
        } else if INVOICE_EVENTS.contains(&kind) {
            self.invoice(event).await
        } else {
            Ok(InboxStatus::Ignored)
        }
    }

    async fn customer_id_for(
        &self,
        stripe_customer: Option<&str>,
    ) -> Result<Option<String>, ApplyError> {
        let Some(stripe_customer) = stripe_customer else {
            return Ok(None);
        };
        Ok(
            CustomerProfiles::find_by_stripe_id(&self.pool, stripe_customer)
                .await?
                .map(|profile| profile.id),
        )
    }

    async fn payment_intent(&self, event: &StripeEvent) -> Result<InboxStatus, ApplyError> {
        let object = &event.data.object;
        let intent = decode::payment_intent(object.clone())
            .map_err(|error| ApplyError::Malformed(error.to_string()))?;
        let payment_id = match Payments::find_by_intent(&self.pool, &intent.id).await? {
            Some(payment) => payment.payment_id,
            // An invoice's payment: the invoice's own events account for the money.
            None if id_of(&object["invoice"]).is_some() => return Ok(InboxStatus::Ignored),
            None => {
                // Ours, but its creation is not committed yet: try again shortly.
                if object["metadata"]["billstream_payment_id"].is_string() {
                    return Err(ApplyError::NotYetRecorded);
                }
                let Some(customer_id) = self.customer_id_for(id_of(&object["customer"])).await?
                else {
                    return Ok(InboxStatus::UnknownCustomer);
                };
                self.adopt_intent(&customer_id, object, event).await?
            }
        };
        let command = PaymentCommand::ApplyStripeEvent(PaymentStripeFact {
            stripe_event_id: event.id.clone(),
            event_type: event.kind.clone(),
            created: stripe_time(event.created),
            outcome: intent.outcome(),
            charge: None,
        });
        execute_with_retry(&self.payments, &payment_id, command, metadata(event)).await?;
        Ok(InboxStatus::Applied)
    }

    /// Records a PaymentIntent created in Stripe (dashboard, another system) for a known
    /// customer, so it shows up in the customer's history.
    async fn adopt_intent(
        &self,
        customer_id: &str,
        object: &Value,
        event: &StripeEvent,
    ) -> Result<String, ApplyError> {
        let malformed =
            |error: aggregates::ValidationError| ApplyError::Malformed(error.to_string());
        let intent_id = object["id"].as_str().unwrap_or_default();
        let payment_id = Uuid::new_v5(&BORN_IN_STRIPE, intent_id.as_bytes()).to_string();
        let metadata: BTreeMap<String, String> = object["metadata"]
            .as_object()
            .map(|map| {
                map.iter()
                    .filter(|(key, _)| !key.starts_with("billstream_"))
                    .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let command = PaymentCommand::Create(CreatePayment {
            customer_id: customer_id.to_owned(),
            payment_intent_id: intent_id.to_owned(),
            client_secret: object["client_secret"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            amount: Amount::parse("amount", object["amount"].as_i64().unwrap_or(0))
                .map_err(malformed)?,
            currency: Currency::parse("currency", object["currency"].as_str().unwrap_or_default())
                .map_err(malformed)?,
            description: object["description"].as_str().map(str::to_owned),
            metadata,
            created_at: stripe_time(object["created"].as_i64().unwrap_or(event.created)),
        });
        execute_with_retry(&self.payments, &payment_id, command, self::metadata(event)).await?;
        Ok(payment_id)
    }

    async fn charge_refunded(&self, event: &StripeEvent) -> Result<InboxStatus, ApplyError> {
        let charge = &event.data.object;
        let intent_id = id_of(&charge["payment_intent"])
            .ok_or_else(|| ApplyError::Malformed("a charge without a payment_intent".into()))?;
        let Some(payment) = Payments::find_by_intent(&self.pool, intent_id).await? else {
            return match self.customer_id_for(id_of(&charge["customer"])).await? {
                // The intent's own event will record the payment; come back after it.
                Some(_) => Err(ApplyError::NotYetRecorded),
                None => Ok(InboxStatus::UnknownCustomer),
            };
        };
        let amount = charge["amount"].as_i64().unwrap_or(0);
        let captured = charge["amount_captured"].as_i64().unwrap_or(
            if charge["captured"].as_bool() == Some(true) {
                amount
            } else {
                0
            },
        );
        let refunds = charge["refunds"]["data"]
            .as_array()
            .map(|refunds| {
                refunds
                    .iter()
                    .filter(|refund| {
                        !matches!(refund["status"].as_str(), Some("failed" | "canceled"))
                    })
                    .filter_map(|refund| {
                        Some(ChargeRefund {
                            refund_id: refund["id"].as_str()?.to_owned(),
                            amount: refund["amount"].as_i64()?,
                            request_id: refund["metadata"]["billstream_refund_id"]
                                .as_str()
                                .map(str::to_owned),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let command = PaymentCommand::ApplyStripeEvent(PaymentStripeFact {
            stripe_event_id: event.id.clone(),
            event_type: event.kind.clone(),
            created: stripe_time(event.created),
            outcome: None,
            charge: Some(ChargeFact {
                charge_id: charge["id"].as_str().unwrap_or_default().to_owned(),
                amount_captured: captured,
                amount_refunded: charge["amount_refunded"].as_i64().unwrap_or(0),
                refunds,
            }),
        });
        execute_with_retry(
            &self.payments,
            &payment.payment_id,
            command,
            metadata(event),
        )
        .await?;
        Ok(InboxStatus::Applied)
    }

    async fn customer(&self, event: &StripeEvent) -> Result<InboxStatus, ApplyError> {
        let object = &event.data.object;
        let Some(customer_id) = self.customer_id_for(object["id"].as_str()).await? else {
            return Ok(InboxStatus::UnknownCustomer);
        };
        let change = if event.kind == "customer.deleted" {
            StripeCustomerChange::Deleted
        } else {
            // A value that breaks our rules (edited in Stripe's dashboard) keeps ours.
            StripeCustomerChange::Updated {
                name: object["name"]
                    .as_str()
                    .and_then(|name| CustomerName::parse(name).ok()),
                phone: object["phone"]
                    .as_str()
                    .and_then(|phone| Phone::parse(phone).ok()),
            }
        };
        let command = CustomerCommand::ApplyStripeEvent(CustomerStripeFact {
            stripe_event_id: event.id.clone(),
            event_type: event.kind.clone(),
            created: stripe_time(event.created),
            change,
        });
        execute_with_retry(&self.customers, &customer_id, command, metadata(event)).await?;
        Ok(InboxStatus::Applied)
    }

    async fn subscription(&self, event: &StripeEvent) -> Result<InboxStatus, ApplyError> {
        let object = &event.data.object;
        let Some(customer_id) = self.customer_id_for(id_of(&object["customer"])).await? else {
            return Ok(InboxStatus::UnknownCustomer);
        };
        let subscription = billing_decode::subscription(object)
            .map_err(|error| ApplyError::Malformed(error.to_string()))?;
        let subscription_id = match &subscription.billstream_id {
            Some(ours) => ours.clone(),
            None => match Subscriptions::find_by_stripe_id(&self.pool, &subscription.id).await? {
                Some(row) => row.subscription_id,
                None => {
                    Uuid::new_v5(&SUBSCRIPTIONS_FROM_STRIPE, subscription.id.as_bytes()).to_string()
                }
            },
        };
        let plan = match &subscription.price_id {
            Some(price) => self.prices.plan_for_price(price).await,
            None => None,
        };
        let command = SubscriptionCommand::ApplyStripeEvent(SubscriptionStripeFact {
            stripe_event_id: event.id.clone(),
            event_type: event.kind.clone(),
            created: stripe_time(event.created),
            customer_id,
            stripe_subscription_id: subscription.id.clone(),
            state: subscription_state(&subscription, plan),
        });
        execute_with_retry(
            &self.subscriptions,
            &subscription_id,
            command,
            metadata(event),
        )
        .await?;
        Ok(InboxStatus::Applied)
    }

    async fn invoice(&self, event: &StripeEvent) -> Result<InboxStatus, ApplyError> {
        let object = &event.data.object;
        let Some(customer_id) = self.customer_id_for(id_of(&object["customer"])).await? else {
            return Ok(InboxStatus::UnknownCustomer);
        };
        let invoice = billing_decode::invoice(object)
            .map_err(|error| ApplyError::Malformed(error.to_string()))?;
        let Some(invoice_id) = self
            .invoices
            .adopt(&customer_id, &invoice, metadata(event))
            .await?
        else {
            // billstream created it and has not recorded it yet: come back shortly.
            return Err(ApplyError::NotYetRecorded);
        };
        self.invoices
            .apply_with_metadata(&invoice_id, &invoice, metadata(event))
            .await?;
        Ok(InboxStatus::Applied)
    }
}
