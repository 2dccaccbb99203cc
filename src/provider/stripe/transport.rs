//! The Stripe adapter's transport (async-stripe `=1.0.0-rc.10`): one client, requests through
//! async-stripe's builders, responses taken as raw JSON (`customize::<miniserde::json::Value>()`)
//! for the lenient decoders, because the typed responses reject older shapes (localstripe).
//! Every mutating call carries billstream's own idempotency key on every attempt, and transient
//! failures (connection, timeout, 409 lock, 429, 5xx) are retried with jittered backoff.

use std::time::Duration;

use miniserde::json::Value as MiniValue;
use rand::Rng;
use serde_json::Value;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};

use crate::config::Secret;
use crate::provider::ProviderError;

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
