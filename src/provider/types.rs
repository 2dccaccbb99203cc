//! The provider-neutral shapes the provider port speaks.

use std::collections::BTreeMap;

use aggregates::payment::Outcome;

/// A customer to create at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomer {
    /// billstream's customer id, stored in the provider's metadata.
    pub customer_id: String,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
}

/// New contact details for a provider customer (full values, not a diff).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerDetails {
    pub name: String,
    pub phone: Option<String>,
}

/// What the provider says about a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderCustomer {
    /// The provider's id (`cus_…`).
    pub id: String,
}

/// A PaymentIntent to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPaymentIntent {
    /// billstream's payment id, stored in the provider's metadata.
    pub payment_id: String,
    pub stripe_customer_id: String,
    pub amount: i64,
    pub currency: String,
    pub description: Option<String>,
    pub metadata: BTreeMap<String, String>,
}

/// A PaymentIntent's status, as Stripe names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    RequiresCapture,
    Succeeded,
    Canceled,
}

impl IntentStatus {
    /// Parses Stripe's spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "requires_payment_method" | "requires_source" => Self::RequiresPaymentMethod,
            "requires_confirmation" => Self::RequiresConfirmation,
            "requires_action" | "requires_source_action" => Self::RequiresAction,
            "processing" => Self::Processing,
            "requires_capture" => Self::RequiresCapture,
            "succeeded" => Self::Succeeded,
            "canceled" => Self::Canceled,
            _ => return None,
        })
    }

    /// Stripe's spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::RequiresPaymentMethod => "requires_payment_method",
            Self::RequiresConfirmation => "requires_confirmation",
            Self::RequiresAction => "requires_action",
            Self::Processing => "processing",
            Self::RequiresCapture => "requires_capture",
            Self::Succeeded => "succeeded",
            Self::Canceled => "canceled",
        }
    }
}

/// Why the last charge attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeError {
    /// Stripe's error code (`card_declined`, `payment_intent_authentication_failure`).
    pub code: String,
    /// The issuer's reason for a decline (`insufficient_funds`, `generic_decline`).
    pub decline_code: Option<String>,
    /// A message safe to show the customer.
    pub message: String,
}

/// A PaymentIntent as the provider reports it (only the fields billstream uses).
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentIntent {
    pub id: String,
    pub client_secret: String,
    pub status: IntentStatus,
    pub amount: i64,
    pub currency: String,
    pub amount_received: i64,
    pub last_error: Option<ChargeError>,
    pub next_action: Option<serde_json::Value>,
}

impl PaymentIntent {
    /// What this state means for billstream's payment, if it is an outcome at all (a fresh
    /// intent awaiting its payment method is not).
    pub fn outcome(&self) -> Option<Outcome> {
        match self.status {
            IntentStatus::Succeeded => Some(Outcome::Succeeded {
                amount_received: self.amount_received,
            }),
            IntentStatus::RequiresPaymentMethod => {
                self.last_error.as_ref().map(|error| Outcome::Failed {
                    code: error.code.clone(),
                    decline_code: error.decline_code.clone(),
                    message: error.message.clone(),
                })
            }
            IntentStatus::RequiresAction => Some(Outcome::RequiresAction {
                next_action: self.next_action.clone().unwrap_or(serde_json::Value::Null),
            }),
            IntentStatus::Processing | IntentStatus::RequiresCapture => Some(Outcome::Processing),
            IntentStatus::Canceled => Some(Outcome::Canceled),
            IntentStatus::RequiresConfirmation => None,
        }
    }
}

/// A refund to make: billstream's refund id travels in the provider's metadata, so the
/// provider's later news of it (a `charge.refunded` event) names the request it settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefund {
    /// billstream's id of the refund request.
    pub refund_id: String,
    pub payment_intent_id: String,
    pub amount: i64,
}

/// A refund the provider made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    pub status: String,
    /// billstream's refund id, when billstream asked for the refund.
    pub billstream_refund_id: Option<String>,
}

impl Refund {
    /// Whether the refund gives money back: a failed or canceled one does not (a pending one
    /// is on its way).
    pub fn stands(&self) -> bool {
        !matches!(self.status.as_str(), "failed" | "canceled")
    }
}
