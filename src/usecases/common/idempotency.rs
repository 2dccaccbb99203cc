//! Idempotency in one place: the ids billstream derives (from a client's `Idempotency-Key`, or
//! from a provider object first seen in a webhook), the keys it sends the provider, and the
//! check of a client's key. A retry of the same request derives the same id and the same
//! provider key, so it converges on what the first attempt did instead of acting twice.

use aggregates::ValidationError;
use chrono::Utc;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;
use uuid::Uuid;

use crate::error::AppError;

/// What a derived id names. Each kind has its own UUID-v5 namespace, so the same input never
/// names two different things. The values are fixed forever: stored ids were derived from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerivedId {
    /// A payment created with a client's Idempotency-Key.
    PaymentFromClientKey,
    /// An invoice created with a client's Idempotency-Key.
    InvoiceFromClientKey,
    /// A subscription created with a client's Idempotency-Key.
    SubscriptionFromClientKey,
    /// A payment for a PaymentIntent born at the provider (dashboard, another system).
    PaymentBornAtProvider,
    /// A refund requested with a client's Idempotency-Key.
    RefundFromClientKey,
    /// A subscription first seen in a provider event.
    SubscriptionBornAtProvider,
    /// An invoice the provider made on its own (a subscription period).
    InvoiceBornAtProvider,
    /// A credit note issued with a client's Idempotency-Key (`invoice/key`).
    CreditNoteFromClientKey,
}

impl DerivedId {
    const fn namespace(self) -> Uuid {
        Uuid::from_u128(match self {
            Self::PaymentFromClientKey => 0x6b1f_0c5e_8a2d_4d6e_9f3a_1b2c_3d4e_5f60,
            Self::InvoiceFromClientKey => 0x7c3a_1e90_d24b_4b5e_8f61_03a9_c5e7_b218,
            Self::SubscriptionFromClientKey => 0x51b2_8c0e_6a1d_4f73_9e25_b4c8_07d3_1a66,
            Self::RefundFromClientKey => 0xc41e_2a6b_5d93_4f08_a7e1_96b3_0d5c_2f84,
            Self::PaymentBornAtProvider => 0x2f4c_83a1_77b0_4e55_a1d6_0c9e_5b3f_d801,
            Self::SubscriptionBornAtProvider => 0x9d1e_4b7a_0c3f_4a28_b6e5_7f10_2a9c_d4e3,
            Self::InvoiceBornAtProvider => 0x0e6b_5f2d_91c4_4a07_b38e_6d1f_a9c2_7e45,
            Self::CreditNoteFromClientKey => 0x3a8d_6e21_c05f_4b9a_8d47_e2b1_5c09_f6a3,
        })
    }

    /// The id this kind derives from `source` (a provider id, or `customer/key`).
    pub fn of(self, source: &str) -> String {
        Uuid::new_v5(&self.namespace(), source.as_bytes()).to_string()
    }

    /// The id of what a customer's request with Idempotency-Key `key` creates.
    pub fn from_client_key(self, customer_id: &str, key: &str) -> String {
        self.of(&format!("{customer_id}/{key}"))
    }

    /// The id of what a customer's request creates: derived from its Idempotency-Key when it
    /// has one, fresh otherwise.
    pub fn for_request(self, customer_id: &str, key: Option<&str>) -> String {
        match key {
            Some(key) => self.from_client_key(customer_id, key),
            None => Uuid::new_v4().to_string(),
        }
    }
}

/// The billstream object a provider request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Customer,
    Payment,
    Refund,
    Subscription,
    Invoice,
}

impl Subject {
    fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Payment => "payment",
            Self::Refund => "refund",
            Self::Subscription => "subscription",
            Self::Invoice => "invoice",
        }
    }
}

/// The idempotency key of a provider request: `billstream-{subject}-{id}-{step}`. `step` names
/// the intention (`create`, `confirm-2`, `finalize`); the same intention always gets the same
/// key, so a retry after a timeout or a crash is answered with the first attempt's result.
pub fn provider_key(subject: Subject, id: &str, step: &str) -> String {
    format!("billstream-{}-{id}-{step}", subject.as_str())
}

/// The key of a provider request that may legitimately be repeated (a second "send", a second
/// change of card): unique per request, in the same format.
pub fn one_off_provider_key(subject: Subject, id: &str, step: &str) -> String {
    provider_key(subject, id, &format!("{step}-{}", Uuid::new_v4()))
}

/// A client's `Idempotency-Key`: 1 to 255 printable ASCII characters.
pub fn validate_client_key(key: &str) -> Result<(), ValidationError> {
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

/// The first answer given to each of a customer's Idempotency-Keys, so that a retried request
/// gets the same answer and a different request under a used key is refused.
///
/// With several nodes on PostgreSQL the answers live in the shared database
/// ([`ClientKeys::shared`]), so a retry may reach any node.
#[derive(Clone)]
pub struct ClientKeys {
    pool: SqlitePool,
    shared: Option<sqlx::PgPool>,
}

impl ClientKeys {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool, shared: None }
    }

    /// Keeps the answers in the nodes' shared database instead of this node's file.
    pub fn shared(mut self, pool: sqlx::PgPool) -> Self {
        self.shared = Some(pool);
        self
    }

    /// The stored fingerprint and answer under `key`.
    async fn stored(
        &self,
        customer_id: &str,
        key: &str,
    ) -> Result<Option<(String, String)>, AppError> {
        let query = "SELECT request_hash, response FROM api_idempotency_keys
                      WHERE customer_id = $1 AND key = $2";
        Ok(match &self.shared {
            Some(shared) => {
                sqlx::query_as(query)
                    .bind(customer_id)
                    .bind(key)
                    .fetch_optional(shared)
                    .await?
            }
            None => {
                sqlx::query_as(query)
                    .bind(customer_id)
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?
            }
        })
    }

    /// A fingerprint of a request, to tell a retry from a different request under one key.
    pub fn fingerprint(request: &impl Serialize) -> String {
        let canonical = serde_json::to_string(request).unwrap_or_default();
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }

    /// The answer already given to `key` for this request; refused for another request.
    pub async fn recall<T: DeserializeOwned>(
        &self,
        customer_id: &str,
        key: &str,
        fingerprint: &str,
    ) -> Result<Option<T>, AppError> {
        match self.stored(customer_id, key).await? {
            None => Ok(None),
            Some((hash, _)) if hash != fingerprint => Err(AppError::IdempotencyKeyReused),
            Some((_, response)) => serde_json::from_str(&response)
                .map(Some)
                .map_err(AppError::internal),
        }
    }

    /// Stores the first answer under the key; when a concurrent request stored first, its
    /// answer is returned instead (or refused, if it was a different request).
    pub async fn remember<T: Serialize + DeserializeOwned>(
        &self,
        customer_id: &str,
        key: &str,
        fingerprint: &str,
        answer: T,
    ) -> Result<T, AppError> {
        let response = serde_json::to_string(&answer).map_err(AppError::internal)?;
        match &self.shared {
            Some(shared) => {
                sqlx::query(
                    "INSERT INTO api_idempotency_keys (customer_id, key, request_hash, response)
                     VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id, key) DO NOTHING",
                )
                .bind(customer_id)
                .bind(key)
                .bind(fingerprint)
                .bind(response)
                .execute(shared)
                .await?;
            }
            None => {
                sqlx::query(
                    "INSERT INTO api_idempotency_keys (customer_id, key, request_hash, response, created_at)
                     VALUES (?, ?, ?, ?, ?) ON CONFLICT (customer_id, key) DO NOTHING",
                )
                .bind(customer_id)
                .bind(key)
                .bind(fingerprint)
                .bind(response)
                .bind(Utc::now().to_rfc3339())
                .execute(&self.pool)
                .await?;
            }
        }
        Ok(self
            .recall(customer_id, key, fingerprint)
            .await?
            .unwrap_or(answer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_client_key_names_the_same_object_and_kinds_never_collide() {
        let first = DerivedId::PaymentFromClientKey.from_client_key("c1", "order-1");
        let again = DerivedId::PaymentFromClientKey.from_client_key("c1", "order-1");
        let other_customer = DerivedId::PaymentFromClientKey.from_client_key("c2", "order-1");
        let invoice = DerivedId::InvoiceFromClientKey.from_client_key("c1", "order-1");
        assert_eq!(first, again);
        assert_ne!(first, other_customer);
        assert_ne!(first, invoice);
    }

    #[test]
    fn provider_keys_have_one_format() {
        assert_eq!(
            provider_key(Subject::Payment, "p1", "confirm-2"),
            "billstream-payment-p1-confirm-2"
        );
        assert_ne!(
            one_off_provider_key(Subject::Invoice, "i1", "send"),
            one_off_provider_key(Subject::Invoice, "i1", "send")
        );
    }

    #[test]
    fn client_keys_are_printable_ascii_up_to_255_characters() {
        assert!(validate_client_key("order-1001").is_ok());
        assert!(validate_client_key("").is_err());
        assert!(validate_client_key("with space").is_err());
        assert!(validate_client_key(&"k".repeat(256)).is_err());
    }
}
