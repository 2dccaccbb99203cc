//! The payment use cases: create an intent (idempotently), confirm, refund, read, list. Input
//! becomes domain values; the Payment aggregate decides (which attempt, what is refundable);
//! the provider is called with keys derived from billstream's ids; answers come from the
//! projection, caught up first.

mod confirm;
mod refunds;

use std::sync::Arc;

use aggregates::money::{Amount, Currency};
use aggregates::payment::{CreatePayment, Payment, PaymentCommand, PaymentStatus};
use aggregates::values::{CardNumbers, Description, Metadata, PaymentMethodId};
use aggregates::ValidationError;
use chrono::Utc;
use projections::{CustomerProfile, HistoryQuery, PaymentListed, PaymentRow, Payments, Readers};
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use super::common::idempotency::{
    provider_key, validate_client_key, ClientKeys, DerivedId, Subject,
};
use super::common::{command_metadata, owned_by, Commands, Page, PageRequest, PageRows};
use crate::error::AppError;
use crate::provider::{NewPaymentIntent, PaymentProvider};

/// Commands on payments.
pub type PaymentCqrs = crate::store::Cqrs<Payment>;

/// A payment request as the client sent it, not yet validated.
#[derive(Debug, Clone, Serialize)]
pub struct NewPayment {
    pub amount: i64,
    pub currency: String,
    pub description: Option<String>,
    pub metadata: Option<std::collections::BTreeMap<String, String>>,
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

/// The checked page and the query that reads it (one row more than the page, to know whether
/// another follows).
fn history_query<'a>(
    status: Option<&'a str>,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<(PageRequest, HistoryQuery<'a>), AppError> {
    let page = PageRequest::parse(limit, cursor)?;
    if status.is_some_and(|status| PaymentStatus::parse(status).is_none()) {
        return Err(ValidationError::new("status", "is not a payment status").into());
    }
    let query = HistoryQuery {
        status,
        before_position: page.before_position,
        limit: page.fetch_limit(),
    };
    Ok((page, query))
}

/// Payments.
pub struct PaymentService {
    commands: Commands<Payment>,
    /// Every read of the views: a page of history, the rows a command reads and answers with.
    readers: Readers,
    provider: Arc<dyn PaymentProvider>,
    client_keys: ClientKeys,
    /// Raw test card numbers are accepted only by the sandbox.
    card_numbers: CardNumbers,
}

impl PaymentService {
    /// Wires the service.
    pub fn new(
        commands: Commands<Payment>,
        pool: SqlitePool,
        provider: Arc<dyn PaymentProvider>,
        card_numbers: CardNumbers,
    ) -> Self {
        Self {
            commands,
            client_keys: ClientKeys::new(pool.clone()),
            readers: Readers::pooled(pool),
            provider,
            card_numbers,
        }
    }

    /// Reads the history through `readers` (connections of their own).
    pub fn with_readers(mut self, readers: Readers) -> Self {
        self.readers = readers;
        self
    }

    /// Keeps the answers to Idempotency-Keys in the nodes' shared database (PostgreSQL).
    pub fn with_shared_client_keys(mut self, pool: sqlx::PgPool) -> Self {
        self.client_keys = self.client_keys.shared(pool);
        self
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
        let description = Description::parse_optional(request.description.as_deref())?;
        let metadata = Metadata::parse(request.metadata.clone().unwrap_or_default())?;
        let fingerprint = ClientKeys::fingerprint(&request);
        if let Some(key) = idempotency_key {
            validate_client_key(key)?;
            if let Some(answer) = self
                .client_keys
                .recall(customer_id, key, &fingerprint)
                .await?
            {
                return Ok(answer);
            }
        }
        // The same key always names the same payment, so concurrent retries converge.
        let payment_id = DerivedId::PaymentFromClientKey.for_request(customer_id, idempotency_key);
        let customer = self
            .readers
            .find::<CustomerProfile>("id", customer_id)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let description = description.map(Description::into_string);
        let intent = self
            .provider
            .create_payment_intent(
                &NewPaymentIntent {
                    payment_id: payment_id.clone(),
                    stripe_customer_id: customer.stripe_customer_id,
                    amount: amount.minor_units(),
                    currency: currency.code().to_owned(),
                    description: description.clone(),
                    metadata: metadata.as_map().clone(),
                },
                &provider_key(Subject::Payment, &payment_id, "create"),
            )
            .await?;
        let command = PaymentCommand::Create(CreatePayment {
            customer_id: customer_id.to_owned(),
            payment_intent_id: intent.id.clone(),
            client_secret: intent.client_secret.clone(),
            amount,
            currency,
            description,
            metadata: metadata.into_map(),
            created_at: Utc::now(),
        });
        self.commands
            .execute(&payment_id, command, command_metadata(request_id))
            .await?;
        let created = CreatedIntent {
            payment_id,
            payment_intent_id: intent.id,
            client_secret: intent.client_secret,
            status: intent.status.as_str().to_owned(),
            amount: amount.minor_units(),
            currency: currency.code().to_owned(),
        };
        match idempotency_key {
            Some(key) => {
                self.client_keys
                    .remember(customer_id, key, &fingerprint, created)
                    .await
            }
            None => Ok(created),
        }
    }

    /// One of the customer's payments. A payment waiting on the provider (3-D Secure,
    /// processing) is first brought up to date from it.
    pub async fn get(&self, customer_id: &str, payment_id: &str) -> Result<PaymentRow, AppError> {
        let payment = self.owned(customer_id, payment_id).await?;
        let waiting = PaymentStatus::parse(&payment.status).is_some_and(|s| s.awaits_provider());
        if waiting {
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
    ) -> Result<Page<PaymentRow>, AppError> {
        let (page, query) = history_query(status, limit, cursor)?;
        let rows = Payments::history(&self.readers, customer_id, &query).await?;
        Ok(page.page(rows, |row| row.created_position))
    }

    /// The same page handed to `visit` row by row, borrowed from the view (the API writes
    /// each row's JSON as it is read); the cursor of the next page, if there is one.
    pub async fn history_each(
        &self,
        customer_id: &str,
        status: Option<&str>,
        limit: Option<i64>,
        cursor: Option<&str>,
        mut visit: impl FnMut(PaymentListed<'_>),
    ) -> Result<Option<String>, AppError> {
        let (page, query) = history_query(status, limit, cursor)?;
        let mut rows = PageRows::new(page);
        Payments::history_each(&self.readers, customer_id, &query, |row| {
            if rows.shows(row.created_position) {
                visit(row);
            }
        })
        .await?;
        Ok(rows.next_cursor())
    }

    /// The payment method, checked for this mode.
    fn payment_method(&self, raw: &str) -> Result<PaymentMethodId, ValidationError> {
        PaymentMethodId::parse(raw, self.card_numbers)
    }

    /// The customer's payment (404 for anyone else's).
    async fn owned(&self, customer_id: &str, payment_id: &str) -> Result<PaymentRow, AppError> {
        owned_by(
            self.readers.find("payment_id", payment_id).await?,
            customer_id,
        )
    }

    async fn row(&self, payment_id: &str) -> Result<PaymentRow, AppError> {
        self.readers
            .find("payment_id", payment_id)
            .await?
            .ok_or(AppError::NotFound)
    }
}
