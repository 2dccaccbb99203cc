//! Lenient decoding of Stripe-shaped JSON: only the fields billstream uses, tolerant of fields
//! Stripe adds and of older shapes (localstripe's). Shared by the Stripe adapter and the sandbox.

use serde::Deserialize;
use std::collections::HashMap;

use serde_json::Value;

use crate::provider::{ChargeError, IntentStatus, PaymentIntent, ProviderError, Refund};

#[derive(Deserialize)]
struct WirePaymentIntent {
    id: String,
    #[serde(default)]
    client_secret: Option<String>,
    status: String,
    amount: i64,
    currency: String,
    #[serde(default)]
    amount_received: Option<i64>,
    #[serde(default)]
    last_payment_error: Option<WireError>,
    #[serde(default)]
    next_action: Option<Value>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    decline_code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct WireRefund {
    id: String,
    amount: i64,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    metadata: Option<HashMap<String, Value>>,
}

/// The metadata key that carries billstream's refund id on a provider refund.
pub const REFUND_ID_METADATA: &str = "billstream_refund_id";

fn malformed(what: &str, error: impl std::fmt::Display) -> ProviderError {
    ProviderError::Provider(format!(
        "unexpected {what} shape from the provider: {error}"
    ))
}

/// A PaymentIntent from its Stripe JSON.
pub fn payment_intent(value: Value) -> Result<PaymentIntent, ProviderError> {
    let wire: WirePaymentIntent =
        serde_json::from_value(value).map_err(|e| malformed("payment intent", e))?;
    let status = IntentStatus::parse(&wire.status)
        .ok_or_else(|| malformed("payment intent", format!("status {}", wire.status)))?;
    let amount_received = wire.amount_received.unwrap_or(match status {
        IntentStatus::Succeeded => wire.amount,
        _ => 0,
    });
    Ok(PaymentIntent {
        id: wire.id,
        client_secret: wire.client_secret.unwrap_or_default(),
        status,
        amount: wire.amount,
        currency: wire.currency,
        amount_received,
        last_error: wire.last_payment_error.map(|error| ChargeError {
            code: error.code.unwrap_or_else(|| "card_declined".into()),
            decline_code: error.decline_code,
            message: error
                .message
                .unwrap_or_else(|| "The payment was declined.".into()),
        }),
        next_action: wire.next_action.filter(|action| !action.is_null()),
    })
}

/// A Refund from its Stripe JSON.
pub fn refund(value: Value) -> Result<Refund, ProviderError> {
    let wire: WireRefund = serde_json::from_value(value).map_err(|e| malformed("refund", e))?;
    Ok(Refund {
        id: wire.id,
        amount: wire.amount,
        status: wire.status.unwrap_or_else(|| "succeeded".into()),
        billstream_refund_id: wire.metadata.and_then(|metadata| {
            metadata
                .get(REFUND_ID_METADATA)?
                .as_str()
                .map(str::to_owned)
        }),
    })
}

/// The `id` of any Stripe object.
pub fn object_id(value: &Value) -> Result<String, ProviderError> {
    value["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| malformed("object", "no id"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_declined_intent_keeps_its_decline_code() {
        let intent = payment_intent(json!({
            "id": "pi_1", "object": "payment_intent", "amount": 500, "currency": "eur",
            "status": "requires_payment_method", "client_secret": "pi_1_secret",
            "last_payment_error": {"type": "card_error", "code": "card_declined",
                                   "decline_code": "insufficient_funds", "message": "Insufficient funds."},
            "some_field_stripe_added_later": {"nested": true}
        }))
        .unwrap();
        assert_eq!(intent.status, IntentStatus::RequiresPaymentMethod);
        let error = intent.last_error.unwrap();
        assert_eq!(error.decline_code.as_deref(), Some("insufficient_funds"));
    }

    #[test]
    fn an_older_shape_without_amount_received_is_accepted() {
        let intent = payment_intent(json!({
            "id": "pi_1", "amount": 500, "currency": "eur", "status": "succeeded"
        }))
        .unwrap();
        assert_eq!(intent.amount_received, 500);
    }

    #[test]
    fn an_unknown_status_is_a_provider_error() {
        let outcome = payment_intent(json!({
            "id": "pi_1", "amount": 500, "currency": "eur", "status": "teleported"
        }));
        assert!(matches!(outcome, Err(ProviderError::Provider(_))));
    }
}
