//! What happened to a customer. Payloads are the stored, versioned form: change a shape only
//! with a new `event_version` and an upcaster.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::billing::BillingDetails;
use super::values::{MailLanguage, PasswordHash};

/// Every event of the [`Customer`](super::Customer) aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CustomerEvent {
    /// The account was opened. The event store keeps e-mails unique across all customers.
    CustomerRegistered {
        email: String,
        name: String,
        phone: Option<String>,
        password_hash: PasswordHash,
        stripe_customer_id: String,
        registered_at: DateTime<Utc>,
    },
    /// Name or phone changed; carries the full new values.
    ProfileUpdated {
        name: String,
        phone: Option<String>,
        updated_at: DateTime<Utc>,
    },
    /// The password was replaced.
    PasswordChanged {
        password_hash: PasswordHash,
        changed_at: DateTime<Utc>,
    },
    /// The Stripe customer was deleted (in Stripe's dashboard or API).
    StripeCustomerDeleted { at: DateTime<Utc> },
    /// A Stripe event was applied; the events that follow it are its effects.
    StripeEventApplied {
        stripe_event_id: String,
        event_type: String,
        created: DateTime<Utc>,
    },
    /// A Stripe event was older than what the customer already knows, and changed nothing.
    StaleStripeEventIgnored {
        stripe_event_id: String,
        event_type: String,
        created: DateTime<Utc>,
        reason: String,
    },
    /// A password reset was opened. Only its nonce is recorded: the link's token is an HMAC of
    /// it under the service's secret, so the log alone cannot reset a password.
    PasswordResetRequested {
        reset_id: String,
        expires_at: DateTime<Utc>,
        requested_at: DateTime<Utc>,
    },
    /// A reset was used; the `PasswordChanged` it caused follows.
    PasswordResetCompleted {
        reset_id: String,
        completed_at: DateTime<Utc>,
    },
    /// The e-mail preferences, as they now are (`language` unset: the service's default).
    MailPreferencesChanged {
        language: Option<MailLanguage>,
        receipts: bool,
        changed_at: DateTime<Utc>,
    },
    /// The billing details, as they now are (`None`: removed). Invoices copy them when they
    /// are issued, so a later change never alters an issued invoice.
    BillingDetailsChanged {
        billing: Option<BillingDetails>,
        changed_at: DateTime<Utc>,
    },
    /// A session was ended (logout): its token, by id, is refused from now on. On the log so
    /// that every node sharing it refuses the token, not only the node that took the logout.
    SignedOut {
        token_id: String,
        expires_at: DateTime<Utc>,
        signed_out_at: DateTime<Utc>,
    },
}

impl DomainEvent for CustomerEvent {
    fn event_type(&self) -> String {
        match self {
            Self::CustomerRegistered { .. } => "CustomerRegistered",
            Self::ProfileUpdated { .. } => "ProfileUpdated",
            Self::PasswordChanged { .. } => "PasswordChanged",
            Self::StripeCustomerDeleted { .. } => "StripeCustomerDeleted",
            Self::StripeEventApplied { .. } => "StripeEventApplied",
            Self::StaleStripeEventIgnored { .. } => "StaleStripeEventIgnored",
            Self::PasswordResetRequested { .. } => "PasswordResetRequested",
            Self::PasswordResetCompleted { .. } => "PasswordResetCompleted",
            Self::MailPreferencesChanged { .. } => "MailPreferencesChanged",
            Self::BillingDetailsChanged { .. } => "BillingDetailsChanged",
            Self::SignedOut { .. } => "SignedOut",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
