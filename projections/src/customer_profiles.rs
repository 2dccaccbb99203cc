//! Read model: one row per customer, for the profile API and for login.

use aggregates::customer::{BillingDetails, Customer, CustomerEvent};
use chrono::{DateTime, SecondsFormat, Utc};
use cqrs_es::Aggregate;
use sqlx::{FromRow, SqliteExecutor};

use crate::event_log::StoredEvent;
use crate::statement::{collect, Statement};
use crate::{Projection, ProjectionError};

/// A customer's public profile.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct CustomerProfile {
    pub id: String,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub stripe_customer_id: String,
    pub created_at: String,
    pub updated_at: String,
    /// How many times the password was changed: a bearer token carries the version its
    /// password was checked against, and stops working when it moves on.
    pub credentials_version: i64,
    /// The Stripe customer was deleted: the account's tokens stop working.
    pub deleted: bool,
    /// The language of the customer's e-mail (`fr`, `en`); `None`: the service's default.
    pub mail_language: Option<String>,
    /// Whether payment and refund receipts are e-mailed.
    pub mail_receipts: bool,
    /// The billing details as JSON text ([`BillingDetails`]), if any were given.
    pub billing: Option<String>,
}

impl CustomerProfile {
    /// The billing details, decoded (`None` when none were given or the text is unreadable).
    pub fn billing_details(&self) -> Option<BillingDetails> {
        self.billing
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
    }
}

/// What login checks: the account, its password hash, and the version of both.
#[derive(Clone, FromRow)]
pub struct Credentials {
    pub customer_id: String,
    pub password_hash: String,
    pub credentials_version: i64,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("customer_id", &self.customer_id)
            .field("password_hash", &"<redacted>")
            .field("credentials_version", &self.credentials_version)
            .finish()
    }
}

/// The customer-profile projection and its queries.
pub struct CustomerProfiles;

pub(crate) const PROFILE_COLUMNS: &str =
    "id, email, name, phone, stripe_customer_id, created_at, updated_at, \
     credentials_version, deleted, mail_language, mail_receipts, billing";

impl CustomerProfiles {
    /// The profile of customer `id`, if registered.
    pub async fn find_by_id(
        db: impl SqliteExecutor<'_>,
        id: &str,
    ) -> Result<Option<CustomerProfile>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {PROFILE_COLUMNS} FROM customer_profiles WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(db)
        .await
    }

    /// The profile whose Stripe customer is `stripe_customer_id`.
    pub async fn find_by_stripe_id(
        db: impl SqliteExecutor<'_>,
        stripe_customer_id: &str,
    ) -> Result<Option<CustomerProfile>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {PROFILE_COLUMNS} FROM customer_profiles WHERE stripe_customer_id = ?"
        ))
        .bind(stripe_customer_id)
        .fetch_optional(db)
        .await
    }

    /// The login credentials for a normalised e-mail address.
    pub async fn find_credentials_by_email(
        db: impl SqliteExecutor<'_>,
        email: &str,
    ) -> Result<Option<Credentials>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id AS customer_id, password_hash, credentials_version
               FROM customer_profiles WHERE email = ?",
        )
        .bind(email)
        .fetch_optional(db)
        .await
    }

    /// The password hash of customer `id`.
    pub async fn find_credentials_by_id(
        db: impl SqliteExecutor<'_>,
        id: &str,
    ) -> Result<Option<Credentials>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id AS customer_id, password_hash, credentials_version
               FROM customer_profiles WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(db)
        .await
    }

    /// Every profile ordered by id (used to compare a replay with the live tables).
    pub async fn all(db: impl SqliteExecutor<'_>) -> Result<Vec<CustomerProfile>, sqlx::Error> {
        sqlx::query_as(&format!(
            "SELECT {PROFILE_COLUMNS} FROM customer_profiles ORDER BY id"
        ))
        .fetch_all(db)
        .await
    }
}

/// Timestamps are stored and served as RFC 3339 UTC with millisecond precision.
pub fn format_timestamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Projection for CustomerProfiles {
    fn name(&self) -> &'static str {
        "customer_profiles"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["customer_profiles", "revoked_tokens"]
    }

    fn statements(&self, event: &StoredEvent) -> Option<Result<Vec<Statement>, ProjectionError>> {
        collect(|out| write(out, event))
    }
}

/// Appends to `out` the statements that apply `event` to the view (none for events of no
/// interest).
fn write(out: &mut Vec<Statement>, event: &StoredEvent) -> Result<(), ProjectionError> {
    if event.aggregate_type != Customer::TYPE {
        return Ok(());
    }
    match event.decode::<CustomerEvent>()? {
        CustomerEvent::CustomerRegistered {
            email,
            name,
            phone,
            password_hash,
            stripe_customer_id,
            registered_at,
        } => {
            let at = format_timestamp(&registered_at);
            out.push(Statement::new(
                "INSERT INTO customer_profiles
                   (id, email, name, phone, stripe_customer_id, password_hash, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            )
            .bind(&event.aggregate_id)
            .bind(email)
            .bind(name)
            .bind(phone)
            .bind(stripe_customer_id)
            .bind(password_hash.as_str())
            .bind(at));
        }
        CustomerEvent::ProfileUpdated {
            name,
            phone,
            updated_at,
        } => {
            out.push(Statement::new(
                "UPDATE customer_profiles SET name = ?2, phone = ?3, updated_at = ?4 WHERE id = ?1",
            )
            .bind(&event.aggregate_id)
            .bind(name)
            .bind(phone)
            .bind(format_timestamp(&updated_at)));
        }
        CustomerEvent::PasswordChanged {
            password_hash,
            changed_at,
        } => {
            out.push(
                Statement::new(
                    "UPDATE customer_profiles
                    SET password_hash = ?2, updated_at = ?3,
                        credentials_version = credentials_version + 1
                  WHERE id = ?1",
                )
                .bind(&event.aggregate_id)
                .bind(password_hash.as_str())
                .bind(format_timestamp(&changed_at)),
            );
        }
        CustomerEvent::StripeCustomerDeleted { .. } => {
            out.push(
                Statement::new("UPDATE customer_profiles SET deleted = 1 WHERE id = ?1")
                    .bind(&event.aggregate_id),
            );
        }
        CustomerEvent::MailPreferencesChanged {
            language, receipts, ..
        } => {
            out.push(Statement::new(
                "UPDATE customer_profiles SET mail_language = ?2, mail_receipts = ?3 WHERE id = ?1",
            )
            .bind(&event.aggregate_id)
            .bind(language.map(|language| language.code()))
            .bind(receipts));
        }
        CustomerEvent::BillingDetailsChanged { billing, .. } => {
            let json = billing
                .map(|billing| serde_json::to_string(&billing))
                .transpose()
                .map_err(|source| ProjectionError::Decode {
                    position: event.position,
                    event_type: event.event_type.clone(),
                    source,
                })?;
            out.push(
                Statement::new("UPDATE customer_profiles SET billing = ?2 WHERE id = ?1")
                    .bind(&event.aggregate_id)
                    .bind(json),
            );
        }
        // Refused by `auth::sessions` until it would have expired anyway. The time is written
        // as the sessions' housekeeping compares it (microseconds, `Z`).
        CustomerEvent::SignedOut {
            token_id,
            expires_at,
            ..
        } => {
            out.push(
                Statement::new(
                    "INSERT INTO revoked_tokens (jti, customer_id, expires_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (jti) DO NOTHING",
                )
                .bind(token_id)
                .bind(&event.aggregate_id)
                .bind(expires_at.to_rfc3339_opts(SecondsFormat::Micros, true)),
            );
        }
        // Bookkeeping of Stripe events, and resets (their password change is its own
        // event): nothing shown in the profile.
        CustomerEvent::StripeEventApplied { .. }
        | CustomerEvent::StaleStripeEventIgnored { .. }
        | CustomerEvent::PasswordResetRequested { .. }
        | CustomerEvent::PasswordResetCompleted { .. } => {}
    }
    Ok(())
}
