//! The Stripe adapter (async-stripe `=1.0.0-rc.10`). Requests go through async-stripe's
//! builders; responses are taken as raw JSON (`customize::<miniserde::json::Value>()`) and
//! decoded leniently by `decode`, because the typed responses reject older shapes (localstripe).
//! Every mutating call carries billstream's own idempotency key on every attempt, and transient
//! failures (connection, timeout, 409 lock, 429, 5xx) are retried with jittered backoff.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use miniserde::json::Value as MiniValue;
use rand::Rng;
use serde_json::Value;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::customer::{CreateCustomer, DeleteCustomer, UpdateCustomer};
use stripe_core::payment_intent::{
    ConfirmPaymentIntent, CreatePaymentIntent, RetrievePaymentIntent, UpdatePaymentIntent,
};
use stripe_core::refund::CreateRefund;
use stripe_types::Currency;

use super::decode;
use super::metadata;
use crate::config::Secret;
use crate::provider::{
    ChargeError, CustomerDetails, NewCustomer, NewInvoice, NewPaymentIntent, NewRefund,
    NewSubscription, PaymentIntent, PaymentProvider, PlanPrice, ProviderCustomer, ProviderError,
    ProviderInvoice, ProviderSubscription, Refund,
};

/// Attempts per request, including the first.
const MAX_ATTEMPTS: u32 = 3;
/// Time allowed for one attempt.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);

/// Talks to Stripe (or anything speaking its API at `STRIPE_API_BASE`).
pub struct StripeProvider {
    client: Client,
}

/// What a failed call means for billstream.
pub(super) enum Failure {
    /// Worth another attempt with the same idempotency key.
    Transient(String),
    /// Final.
    Final(ProviderError),
    /// A card error (402): the intent now carries the decline.
    CardError {
        code: String,
        decline_code: Option<String>,
        message: String,
    },
}

impl StripeProvider {
    /// A client for `api_base` authenticated with `secret_key`.
    pub fn new(secret_key: &Secret, api_base: &str) -> Result<Self, ProviderError> {
        let client = ClientBuilder::new(secret_key.expose())
            .url(api_base)
            .timeout(ATTEMPT_TIMEOUT)
            .app_info("billstream", Some(env!("CARGO_PKG_VERSION").into()), None)
            .build()
            .map_err(|error| {
                ProviderError::Provider(format!("cannot build the Stripe client: {error}"))
            })?;
        Ok(Self { client })
    }

    /// Sends `request`, retrying transient failures; the same key goes with every attempt.
    pub(super) async fn send<R: StripeRequest>(
        &self,
        request: &R,
        idempotency_key: Option<&str>,
    ) -> Result<Value, Failure> {
        let strategy = match idempotency_key {
            Some(key) => {
                RequestStrategy::Idempotent(IdempotencyKey::new(key).map_err(|error| {
                    Failure::Final(ProviderError::Provider(format!(
                        "invalid idempotency key: {error}"
                    )))
                })?)
            }
            None => RequestStrategy::Once,
        };
        let mut attempt = 1;
        loop {
            let outcome: Result<MiniValue, StripeError> = request
                .build()
                .customize::<MiniValue>()
                .request_strategy(strategy.clone())
                .send(&self.client)
                .await;
            let failure = match outcome {
                Ok(value) => return to_json(&value).map_err(Failure::Final),
                Err(error) => classify(error),
            };
            match failure {
                Failure::Transient(reason) if attempt < MAX_ATTEMPTS => {
                    let wait = backoff(attempt);
                    tracing::warn!(%reason, attempt, retry_in_ms = wait.as_millis() as u64, "Stripe request failed; retrying");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Failure::Transient(reason) => {
                    return Err(Failure::Final(ProviderError::Provider(reason)))
                }
                other => return Err(other),
            }
        }
    }

    /// Like `send`, for calls where a card error cannot happen.
    pub(super) async fn call<R: StripeRequest>(
        &self,
        request: &R,
        idempotency_key: Option<&str>,
    ) -> Result<Value, ProviderError> {
        self.send(request, idempotency_key)
            .await
            .map_err(Failure::into_error)
    }
}

impl Failure {
    /// The failure as a final error (a card error here is the payment method's fault).
    pub(super) fn into_error(self) -> ProviderError {
        match self {
            Failure::Final(error) => error,
            Failure::Transient(reason) => ProviderError::Provider(reason),
            Failure::CardError { message, .. } => ProviderError::InvalidPaymentMethod(message),
        }
    }
}

/// 250 ms, 500 ms, 1 s … with ±25 % jitter.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(250 * (1 << attempt.saturating_sub(1).min(6)));
    base.mul_f64(rand::rng().random_range(0.75..1.25))
}

fn to_json(value: &MiniValue) -> Result<Value, ProviderError> {
    serde_json::from_str(&miniserde::json::to_string(value))
        .map_err(|error| ProviderError::Provider(format!("unreadable Stripe response: {error}")))
}

/// Maps async-stripe's error to what it means here. Messages from Stripe are safe to log; our
/// key never appears in them.
fn classify(error: StripeError) -> Failure {
    match error {
        StripeError::Stripe(api, status) => {
            let code = api.code.as_ref().map(|code| code.as_str().to_owned());
            let message = api
                .message
                .clone()
                .unwrap_or_else(|| "Stripe refused the request".into());
            let kind = api.type_.as_str().to_owned();
            match (status, code.as_deref()) {
                (402, _) => Failure::CardError {
                    code: code.unwrap_or_else(|| "card_declined".into()),
                    decline_code: api.decline_code.clone(),
                    message,
                },
                (401 | 403, _) => Failure::Final(ProviderError::Provider(format!(
                    "Stripe refused our credentials ({status})"
                ))),
                (409, _) | (429, _) | (500..=599, _) => {
                    Failure::Transient(format!("Stripe answered {status}: {message}"))
                }
                (
                    _,
                    Some(
                        "payment_intent_unexpected_state"
                        | "charge_already_refunded"
                        | "amount_too_large",
                    ),
                ) => Failure::Final(ProviderError::UnexpectedState(message)),
                (_, Some("resource_missing")) if api.param.as_deref() == Some("payment_method") => {
                    Failure::Final(ProviderError::InvalidPaymentMethod(message))
                }
                (404, _) | (_, Some("resource_missing")) => {
                    Failure::Final(ProviderError::NoSuchPaymentIntent)
                }
                _ if kind == "idempotency_error" => {
                    Failure::Final(ProviderError::IdempotencyKeyReused)
                }
                _ => Failure::Final(ProviderError::Provider(format!(
                    "Stripe answered {status} {}: {message}",
                    code.unwrap_or(kind)
                ))),
            }
        }
        StripeError::Timeout => Failure::Transient("Stripe did not answer in time".into()),
        StripeError::ClientError(reason) => {
            Failure::Transient(format!("cannot reach Stripe: {reason}"))
        }
        other => Failure::Final(ProviderError::Provider(other.to_string())),
    }
}

/// On a customer call, a missing object is the customer.
fn missing_means_customer(error: ProviderError) -> ProviderError {
    match error {
        ProviderError::NoSuchPaymentIntent => ProviderError::NoSuchCustomer,
        other => other,
    }
}

fn currency(code: &str) -> Result<Currency, ProviderError> {
    Currency::from_str(code).map_err(|_| {
        ProviderError::Provider(format!("currency {code} unknown to the Stripe client"))
    })
}

#[async_trait]
impl PaymentProvider for StripeProvider {
    #[tracing::instrument(skip_all)]
    async fn create_customer(
        &self,
        customer: &NewCustomer,
        idempotency_key: &str,
    ) -> Result<ProviderCustomer, ProviderError> {
        let mut request = CreateCustomer::new()
            .email(customer.email.as_str())
            .name(customer.name.as_str())
            .metadata(HashMap::from([(
                metadata::CUSTOMER_ID.to_owned(),
                customer.customer_id.clone(),
            )]));
        if let Some(phone) = &customer.phone {
            request = request.phone(phone.as_str());
        }
        let created = self.call(&request, Some(idempotency_key)).await?;
        Ok(ProviderCustomer {
            id: decode::object_id(&created)?,
        })
    }

    #[tracing::instrument(skip_all)]
    async fn update_customer(
        &self,
        stripe_customer_id: &str,
        details: &CustomerDetails,
        idempotency_key: &str,
    ) -> Result<(), ProviderError> {
        // Stripe clears a field set to the empty string.
        let request = UpdateCustomer::new(stripe_customer_id)
            .name(details.name.as_str())
            .phone(details.phone.as_deref().unwrap_or(""));
        self.call(&request, Some(idempotency_key))
            .await
            .map_err(missing_means_customer)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn delete_customer(&self, stripe_customer_id: &str) -> Result<(), ProviderError> {
        self.call(&DeleteCustomer::new(stripe_customer_id), None)
            .await
            .map_err(missing_means_customer)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn create_payment_intent(
        &self,
        intent: &NewPaymentIntent,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, ProviderError> {
        let mut metadata: HashMap<String, String> = intent.metadata.clone().into_iter().collect();
        metadata.insert(metadata::PAYMENT_ID.into(), intent.payment_id.clone());
        let mut request = CreatePaymentIntent::new(intent.amount, currency(&intent.currency)?)
            .customer(intent.stripe_customer_id.as_str())
            .metadata(metadata);
        if let Some(description) = &intent.description {
            request = request.description(description.as_str());
        }
        decode::payment_intent(self.call(&request, Some(idempotency_key)).await?)
    }

    #[tracing::instrument(skip_all)]
    async fn confirm_payment_intent(
        &self,
        payment_intent_id: &str,
        payment_method: &str,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, ProviderError> {
        // Attach the method by updating the intent, then confirm without it: valid on Stripe,
        // and the only form localstripe accepts.
        let attach = UpdatePaymentIntent::new(payment_intent_id).payment_method(payment_method);
        self.call(&attach, Some(&format!("{idempotency_key}-attach")))
            .await
            .map_err(|error| match error {
                ProviderError::NoSuchPaymentIntent => ProviderError::InvalidPaymentMethod(format!(
                    "No such PaymentMethod: '{payment_method}'"
                )),
                other => other,
            })?;
        match self
            .send(
                &ConfirmPaymentIntent::new(payment_intent_id),
                Some(idempotency_key),
            )
            .await
        {
            Ok(confirmed) => decode::payment_intent(confirmed),
            Err(Failure::CardError {
                code,
                decline_code,
                message,
            }) => {
                // A decline is an outcome, not an error: report the intent with its decline.
                let mut intent = self.retrieve_payment_intent(payment_intent_id).await?;
                let decline = ChargeError {
                    code,
                    decline_code,
                    message,
                };
                match &mut intent.last_error {
                    Some(error) if error.decline_code.is_none() => {
                        error.decline_code = decline.decline_code;
                    }
                    Some(_) => {}
                    None => intent.last_error = Some(decline),
                }
                Ok(intent)
            }
            Err(Failure::Final(error)) => Err(error),
            Err(Failure::Transient(reason)) => Err(ProviderError::Provider(reason)),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn retrieve_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<PaymentIntent, ProviderError> {
        decode::payment_intent(
            self.call(&RetrievePaymentIntent::new(payment_intent_id), None)
                .await?,
        )
    }

    #[tracing::instrument(skip_all)]
    async fn create_refund(
        &self,
        refund: &NewRefund,
        idempotency_key: &str,
    ) -> Result<Refund, ProviderError> {
        let request = CreateRefund::new()
            .payment_intent(refund.payment_intent_id.as_str())
            .amount(refund.amount)
            .metadata(HashMap::from([(
                metadata::REFUND_ID.to_owned(),
                refund.refund_id.clone(),
            )]));
        decode::refund(&self.call(&request, Some(idempotency_key)).await?)
    }

    #[tracing::instrument(skip_all)]
    async fn set_default_payment_method(
        &self,
        stripe_customer_id: &str,
        payment_method: &str,
        idempotency_key: &str,
    ) -> Result<(), ProviderError> {
        self.stripe_set_default_payment_method(stripe_customer_id, payment_method, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn ensure_price(&self, price: &PlanPrice) -> Result<PlanPrice, ProviderError> {
        self.stripe_ensure_price(price).await
    }

    #[tracing::instrument(skip_all)]
    async fn create_subscription(
        &self,
        subscription: &NewSubscription,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        self.stripe_create_subscription(subscription, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn cancel_subscription(
        &self,
        subscription_id: &str,
        at_period_end: bool,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        self.stripe_cancel_subscription(subscription_id, at_period_end, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn resume_subscription(
        &self,
        subscription_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        self.stripe_resume_subscription(subscription_id, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn change_subscription_price(
        &self,
        subscription_id: &str,
        price: &PlanPrice,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        self.stripe_change_price(subscription_id, price, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn create_invoice(
        &self,
        invoice: &NewInvoice,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        self.stripe_create_invoice(invoice, idempotency_key).await
    }

    #[tracing::instrument(skip_all)]
    async fn finalize_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        self.stripe_invoice_action(invoice_id, "finalize", None, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn pay_invoice(
        &self,
        invoice_id: &str,
        payment_method: Option<&str>,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        self.stripe_invoice_action(invoice_id, "pay", payment_method, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn void_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        self.stripe_invoice_action(invoice_id, "void", None, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn send_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        self.stripe_invoice_action(invoice_id, "send", None, idempotency_key)
            .await
    }
}
