//! The payment use cases: create an intent (idempotently), confirm, refund, read, list.
//! Validates input into domain values, calls the provider with idempotency keys derived from
//! billstream's ids, records provider outcomes as commands, and answers from the projection.

use std::collections::BTreeMap;
use std::sync::Arc;

use aggregates::money::{Amount, Currency};
use aggregates::payment::{
    CreatePayment, Payment, PaymentCommand, PaymentError, RecordOutcome, RecordRefund,
};
use aggregates::ValidationError;
use chrono::Utc;
use cqrs_es::AggregateError;
use projections::{CustomerProfiles, HistoryQuery, PaymentRow, Payments, Projector};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;
use uuid::Uuid;

use crate::error::AppError;
use crate::keyed_locks::KeyedLocks;
use crate::provider::{NewPaymentIntent, NewRefund, PaymentProvider, ProviderError};
use crate::usecases::common::{command_metadata, execute_with_retry};

/// Commands on payments.
pub type PaymentCqrs = crate::store::Cqrs<Payment>;

/// A payment request as the client sent it, not yet validated.
#[derive(Debug, Clone, Serialize)]
pub struct NewPayment {
    pub amount: i64,
    pub currency: String,
    pub description: Option<String>,
    pub metadata: Option<BTreeMap<String, String>>,
}

/// The answer to a created intent (replayed verbatim for a retried Idempotency-Key).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CreatedIntent {
    pub payment_id: String,
    pub payment_intent_id: String,
    pub client_secret: String,
    pub status: String,
    pub amount: i64,
    pub currency: String,
}

/// A page of history.
#[derive(Debug)]
pub struct HistoryPage {
    pub payments: Vec<PaymentRow>,
    pub next_cursor: Option<String>,
}

/// Payments.
pub struct PaymentService {
    cqrs: Arc<PaymentCqrs>,
    pool: SqlitePool,
    provider: Arc<dyn PaymentProvider>,
    projector: Arc<Projector>,
    /// Raw test card numbers are accepted only by the sandbox.
    accepts_card_numbers: bool,
    /// One refund at a time per payment: a refund's provider idempotency key is derived from
    /// the refunds already recorded, so two concurrent refunds would share a key and the
    /// provider would answer both with the one refund it made.
    refund_locks: KeyedLocks,
}

/// Idempotency keys namespace billstream payment ids derived from a client's key.
const PAYMENT_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_0c5e_8a2d_4d6e_9f3a_1b2c_3d4e_5f60);

impl PaymentService {
    /// Wires the service.
    pub fn new(
        cqrs: Arc<PaymentCqrs>,
        pool: SqlitePool,
        provider: Arc<dyn PaymentProvider>,
        projector: Arc<Projector>,
        accepts_card_numbers: bool,
    ) -> Self {
        Self {
            cqrs,
            pool,
            provider,
            projector,
            accepts_card_numbers,
            refund_locks: KeyedLocks::new(64),
        }
    }

    /// Creates a payment and its PaymentIntent. With an idempotency key, a retry of the same
    /// request gets the same answer and a different request under the same key is refused.
    #[tracing::instrument(skip_all, fields(customer_id))]
    pub async fn create_intent(
        &self,
        customer_id: &str,
        request: NewPayment,
        idempotency_key: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<CreatedIntent, AppError> {
        let amount = Amount::parse("amount", request.amount)?;
        let currency = Currency::parse("currency", &request.currency)?;
        let description = validate_description(request.description.as_deref())?;
        let metadata = validate_metadata(request.metadata.clone().unwrap_or_default())?;
        let request_hash = fingerprint(&request);

        let payment_id = match idempotency_key {
            Some(key) => {
                validate_idempotency_key(key)?;
                if let Some(answer) = self.remembered(customer_id, key, &request_hash).await? {
                    return Ok(answer);
                }
                // The same key always names the same payment, so concurrent retries converge.
                Uuid::new_v5(
                    &PAYMENT_ID_NAMESPACE,
                    format!("{customer_id}:{key}").as_bytes(),
                )
                .to_string()
            }
            None => Uuid::new_v4().to_string(),
        };
        let customer = CustomerProfiles::find_by_id(&self.pool, customer_id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let intent = self
            .provider
            .create_payment_intent(
                &NewPaymentIntent {
                    payment_id: payment_id.clone(),
                    stripe_customer_id: customer.stripe_customer_id,
                    amount: amount.minor_units(),
                    currency: currency.code().to_owned(),
                    description: description.clone(),
                    metadata: metadata.clone(),
                },
                &format!("billstream-payment-{payment_id}-create"),
            )
            .await?;
        let command = PaymentCommand::Create(CreatePayment {
            customer_id: customer_id.to_owned(),
            payment_intent_id: intent.id.clone(),
            client_secret: intent.client_secret.clone(),
            amount,
            currency,
            description,
            metadata,
            created_at: Utc::now(),
        });
        self.execute(&payment_id, command, request_id).await?;
        let created = CreatedIntent {
            payment_id: payment_id.clone(),
            payment_intent_id: intent.id,
            client_secret: intent.client_secret,
            status: intent.status.as_str().to_owned(),
            amount: amount.minor_units(),
            currency: currency.code().to_owned(),
        };
        match idempotency_key {
            Some(key) => {
                self.remember(customer_id, key, &request_hash, created)
                    .await
            }
            None => Ok(created),
        }
    }

    /// Confirms a payment with a payment method. Racing confirmations of one payment use the
    /// same provider idempotency key, so the customer is charged once.
    #[tracing::instrument(skip_all, fields(customer_id))]
    pub async fn confirm(
        &self,
        customer_id: &str,
        payment_intent_id: &str,
        payment_method: &str,
        request_id: Option<&str>,
    ) -> Result<PaymentRow, AppError> {
        self.validate_payment_method(payment_method)?;
        let payment = Payments::find_by_intent(&self.pool, payment_intent_id)
            .await?
            .filter(|payment| payment.customer_id == customer_id)
            .ok_or(AppError::NotFound)?;
        refuse_final(&payment)?;
        let attempt = payment.confirm_attempts as u32 + 1;
        let key = format!(
            "billstream-payment-{}-confirm-{attempt}",
            payment.payment_id
        );
        let intent = match self
            .provider
            .confirm_payment_intent(payment_intent_id, payment_method, &key)
            .await
        {
            Ok(intent) => intent,
            Err(ProviderError::UnexpectedState(message)) => {
                // Another confirmation got there first: bring our view up to date, then say so.
                self.refresh(&payment, request_id).await;
                return Err(AppError::InvalidState(message));
            }
            Err(ProviderError::IdempotencyKeyReused) => return Err(AppError::Conflict),
            Err(error) => return Err(error.into()),
        };
        if let Some(outcome) = intent.outcome() {
            let command = PaymentCommand::RecordOutcome(RecordOutcome {
                attempt: Some(attempt),
                outcome,
                at: Utc::now(),
            });
            self.execute(&payment.payment_id, command, request_id)
                .await?;
        }
        self.row(&payment.payment_id).await
    }

    /// Refunds part or all of what remains captured.
    #[tracing::instrument(skip_all, fields(customer_id))]
    pub async fn refund(
        &self,
        customer_id: &str,
        payment_id: &str,
        amount: Option<i64>,
        request_id: Option<&str>,
    ) -> Result<PaymentRow, AppError> {
        let _one_refund_at_a_time = self.refund_locks.lock(payment_id).await;
        let payment = self.owned(customer_id, payment_id).await?;
        if !matches!(payment.status.as_str(), "succeeded" | "partially_refunded") {
            return Err(AppError::InvalidState(format!(
                "only a succeeded payment can be refunded; this one is {}",
                payment.status
            )));
        }
        let refundable = payment.amount_received - payment.refunded_amount;
        let amount = amount.unwrap_or(refundable);
        if amount < 1 || amount > refundable {
            return Err(ValidationError::new(
                "amount",
                format!("must be from 1 to the refundable amount, {refundable}"),
            )
            .into());
        }
        let key = format!(
            "billstream-payment-{payment_id}-refund-{}",
            payment.refund_count + 1
        );
        let refund = match self
            .provider
            .create_refund(
                &NewRefund {
                    refund_id: format!("{payment_id}-{}", payment.refund_count + 1),
                    payment_intent_id: payment.payment_intent_id.clone(),
                    amount,
                },
                &key,
            )
            .await
        {
            Ok(refund) => refund,
            Err(ProviderError::UnexpectedState(message)) => {
                return Err(AppError::InvalidState(message))
            }
            Err(ProviderError::IdempotencyKeyReused) => return Err(AppError::Conflict),
            Err(error) => return Err(error.into()),
        };
        let command = PaymentCommand::RecordRefund(RecordRefund {
            refund_id: refund.id,
            amount: Amount::parse("amount", refund.amount)?,
            at: Utc::now(),
        });
        self.execute(payment_id, command, request_id).await?;
        self.row(payment_id).await
    }

    /// One of the customer's payments. A payment waiting on the provider (3-D Secure,
    /// processing) is first brought up to date from it.
    pub async fn get(&self, customer_id: &str, payment_id: &str) -> Result<PaymentRow, AppError> {
        let payment = self.owned(customer_id, payment_id).await?;
        if matches!(payment.status.as_str(), "requires_action" | "processing") {
            self.refresh(&payment, None).await;
            return self.row(payment_id).await;
        }
        Ok(payment)
    }

    /// The customer's payments, newest first.
    pub async fn history(
        &self,
        customer_id: &str,
        status: Option<&str>,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<HistoryPage, AppError> {
        let limit = limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(ValidationError::new("limit", "must be from 1 to 100").into());
        }
        if let Some(status) = status {
            if aggregates::payment::PaymentStatus::parse(status).is_none() {
                return Err(ValidationError::new("status", "is not a payment status").into());
            }
        }
        let before_position = cursor.map(decode_cursor).transpose()?;
        let mut payments = Payments::history(
            &self.pool,
            customer_id,
            &HistoryQuery {
                status,
                before_position,
                limit: limit + 1,
            },
        )
        .await?;
        let next_cursor = if payments.len() as i64 > limit {
            payments.truncate(limit as usize);
            payments
                .last()
                .map(|last| encode_cursor(last.created_position))
        } else {
            None
        };
        Ok(HistoryPage {
            payments,
            next_cursor,
        })
    }

    /// Asks the provider for the intent's state and records it; failures only log, since the
    /// webhook path will bring the same news.
    async fn refresh(&self, payment: &PaymentRow, request_id: Option<&str>) {
        let outcome = match self
            .provider
            .retrieve_payment_intent(&payment.payment_intent_id)
            .await
        {
            Ok(intent) => intent.outcome(),
            Err(error) => {
                tracing::warn!(%error, "could not refresh a payment from the provider");
                return;
            }
        };
        if let Some(outcome) = outcome {
            let command = PaymentCommand::RecordOutcome(RecordOutcome {
                attempt: None,
                outcome,
                at: Utc::now(),
            });
            if let Err(error) = self.execute(&payment.payment_id, command, request_id).await {
                tracing::warn!(%error, "could not record a refreshed payment outcome");
            }
        }
    }

    /// Executes a command (retrying lost races), then answers from a projection that includes
    /// it: a command that recorded nothing because a concurrent one recorded the same news must
    /// still see that news.
    async fn execute(
        &self,
        payment_id: &str,
        command: PaymentCommand,
        request_id: Option<&str>,
    ) -> Result<(), AppError> {
        execute_with_retry(
            &self.cqrs,
            payment_id,
            command,
            command_metadata(request_id),
        )
        .await
        .map_err(payment_error)?;
        if let Err(error) = self.projector.catch_up().await {
            tracing::warn!(%error, "projector catch-up after a command failed");
        }
        Ok(())
    }

    async fn owned(&self, customer_id: &str, payment_id: &str) -> Result<PaymentRow, AppError> {
        Payments::find(&self.pool, payment_id)
            .await?
            .filter(|payment| payment.customer_id == customer_id)
            .ok_or(AppError::NotFound)
    }

    async fn row(&self, payment_id: &str) -> Result<PaymentRow, AppError> {
        Payments::find(&self.pool, payment_id)
            .await?
            .ok_or(AppError::NotFound)
    }

    fn validate_payment_method(&self, payment_method: &str) -> Result<(), AppError> {
        let looks_like_number = payment_method
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
            && payment_method.chars().any(|c| c.is_ascii_digit());
        if payment_method.trim().is_empty() || payment_method.len() > 255 {
            return Err(ValidationError::new(
                "payment_method",
                "must be a payment method id such as pm_card_visa",
            )
            .into());
        }
        if looks_like_number && !self.accepts_card_numbers {
            return Err(ValidationError::new(
                "payment_method",
                "card numbers are accepted only by the sandbox; send a PaymentMethod id (pm_…)",
            )
            .into());
        }
        Ok(())
    }

    async fn remembered(
        &self,
        customer_id: &str,
        key: &str,
        request_hash: &str,
    ) -> Result<Option<CreatedIntent>, AppError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT request_hash, response FROM api_idempotency_keys WHERE customer_id = ? AND key = ?",
        )
        .bind(customer_id)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            None => Ok(None),
            Some((hash, _)) if hash != request_hash => Err(AppError::IdempotencyKeyReused),
            Some((_, response)) => serde_json::from_str(&response)
                .map(Some)
                .map_err(AppError::internal),
        }
    }

    /// Stores the first answer under the key; a concurrent request that stored first wins, and
    /// its answer is returned (or refused, if it was a different request).
    async fn remember(
        &self,
        customer_id: &str,
        key: &str,
        request_hash: &str,
        answer: CreatedIntent,
    ) -> Result<CreatedIntent, AppError> {
        sqlx::query(
            "INSERT INTO api_idempotency_keys (customer_id, key, request_hash, response, created_at)
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (customer_id, key) DO NOTHING",
        )
        .bind(customer_id)
        .bind(key)
        .bind(request_hash)
        .bind(serde_json::to_string(&answer).map_err(AppError::internal)?)
        .bind(Utc::now().to_rfc3339())
        .execute(&self.pool)
        .await?;
        Ok(self
            .remembered(customer_id, key, request_hash)
            .await?
            .unwrap_or(answer))
    }
}

fn refuse_final(payment: &PaymentRow) -> Result<(), AppError> {
    let final_status = aggregates::payment::PaymentStatus::parse(&payment.status)
        .is_some_and(|status| status.is_final_for_confirmation());
    if final_status {
        return Err(AppError::InvalidState(format!(
            "this payment is already {} and cannot be confirmed again",
            payment.status
        )));
    }
    Ok(())
}

fn payment_error(error: AggregateError<PaymentError>) -> AppError {
    match error {
        AggregateError::UserError(PaymentError::NotCreated) => AppError::NotFound,
        AggregateError::UserError(PaymentError::AlreadyCreated) => AppError::IdempotencyKeyReused,
        AggregateError::UserError(
            error @ (PaymentError::AlreadyFinal(_)
            | PaymentError::NotRefundable(_)
            | PaymentError::RefundExceedsCaptured { .. }),
        ) => AppError::InvalidState(error.to_string()),
        AggregateError::AggregateConflict => AppError::Conflict,
        other => AppError::internal(other),
    }
}

fn validate_description(raw: Option<&str>) -> Result<Option<String>, ValidationError> {
    let Some(description) = raw.map(str::trim).filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    if description.chars().count() > 1000 {
        return Err(ValidationError::new(
            "description",
            "must be at most 1000 characters",
        ));
    }
    Ok(Some(description.to_owned()))
}

/// Stripe's metadata limits: 50 keys, keys up to 40 characters, values up to 500.
fn validate_metadata(
    metadata: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ValidationError> {
    if metadata.len() > 50 {
        return Err(ValidationError::new(
            "metadata",
            "must have at most 50 keys",
        ));
    }
    for (key, value) in &metadata {
        if key.is_empty() || key.chars().count() > 40 || key.contains(['[', ']']) {
            return Err(ValidationError::new(
                format!("metadata.{key}"),
                "keys must be 1 to 40 characters without square brackets",
            ));
        }
        if key.starts_with("billstream_") {
            return Err(ValidationError::new(
                format!("metadata.{key}"),
                "keys starting with billstream_ are reserved",
            ));
        }
        if value.chars().count() > 500 {
            return Err(ValidationError::new(
                format!("metadata.{key}"),
                "values must be at most 500 characters",
            ));
        }
    }
    Ok(metadata)
}

fn validate_idempotency_key(key: &str) -> Result<(), ValidationError> {
    let valid = !key.is_empty() && key.len() <= 255 && key.chars().all(|c| c.is_ascii_graphic());
    if valid {
        Ok(())
    } else {
        Err(ValidationError::new(
            "Idempotency-Key",
            "must be 1 to 255 printable ASCII characters",
        ))
    }
}

fn fingerprint(request: &NewPayment) -> String {
    let canonical = serde_json::to_string(request).unwrap_or_default();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// An opaque page cursor for a log position (payments, invoices).
pub fn encode_cursor(position: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("p:{position}"))
}

/// The log position of a cursor `encode_cursor` made.
pub fn decode_cursor(cursor: &str) -> Result<i64, ValidationError> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("p:")?.parse().ok())
        .ok_or_else(|| ValidationError::new("cursor", "is not a cursor this API returned"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)).unwrap(), 42);
        assert_eq!(decode_cursor("garbage!").unwrap_err().field, "cursor");
    }

    #[test]
    fn reserved_and_oversized_metadata_is_refused() {
        let reserved = BTreeMap::from([("billstream_payment_id".to_owned(), "x".to_owned())]);
        assert!(validate_metadata(reserved).is_err());
        let long_value = BTreeMap::from([("k".to_owned(), "v".repeat(501))]);
        assert_eq!(
            validate_metadata(long_value).unwrap_err().field,
            "metadata.k"
        );
    }
}
