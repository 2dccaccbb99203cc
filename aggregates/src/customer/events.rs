//! What happened to a customer. Payloads are the stored, versioned form: change a shape only
//! with a new `event_version` and an upcaster.

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::values::PasswordHash;

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
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
