//! Lenient decoding of Stripe-shaped JSON: only the fields billstream uses, tolerant of fields
//! Stripe adds and of older shapes (localstripe's). Shared by the Stripe adapter and the sandbox.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::billing_decode::id_of;
use super::metadata;
use crate::provider::{
    ChargeError, ChargeRefund, IntentSnapshot, IntentStatus, PaymentIntent, ProviderError, Refund,
};

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

/// A Refund from its Stripe JSON. Only the id and amount are relied on; a status or metadata
/// of another shape reads as absent (an older shape has no status: it succeeded).
pub fn refund(value: &Value) -> Result<Refund, ProviderError> {
    let id = value["id"]
        .as_str()
        .ok_or_else(|| malformed("refund", "no id"))?;
    let amount = value["amount"]
        .as_i64()
        .ok_or_else(|| malformed("refund", "no amount"))?;
    Ok(Refund {
        id: id.to_owned(),
        amount,
        status: value["status"].as_str().unwrap_or("succeeded").to_owned(),
        billstream_refund_id: value["metadata"][metadata::REFUND_ID]
            .as_str()
            .map(str::to_owned),
    })
}

/// A PaymentIntent as an event shows it; `event_created` stands in for a missing `created`.
pub fn intent_snapshot(
    mut object: Value,
    event_created: i64,
) -> Result<IntentSnapshot, ProviderError> {
    let text = |value: &Value| value.as_str().map(str::to_owned);
    let customer = id_of(&object["customer"]).map(str::to_owned);
    let invoice = id_of(&object["invoice"]).map(str::to_owned);
    let description = text(&object["description"]);
    let created = object["created"].as_i64().unwrap_or(event_created);
    let own_metadata = object["metadata"].take();
    let billstream_payment_id = text(&own_metadata[metadata::PAYMENT_ID]);
    // The customer's own entries only: billstream's keys say nothing about the payment.
    let metadata: BTreeMap<String, String> = own_metadata
        .as_object()
        .map(|map| {
            map.iter()
                .filter(|(key, _)| !metadata::is_reserved(key))
                .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    Ok(IntentSnapshot {
        intent: payment_intent(object)?,
        billstream_payment_id,
        customer,
        invoice,
        description,
        metadata,
        created,
    })
}

/// A refunded charge from its Stripe JSON; `None` for a charge without a PaymentIntent (not
/// one billstream made). Older shapes (localstripe) have no `amount_captured`: a captured
/// charge then captured its whole amount. Newer API versions omit the `refunds` list: the
/// totals still hold. A listed refund without an id or amount is passed over.
pub fn charge_refund(object: &Value) -> Option<ChargeRefund> {
    let payment_intent = id_of(&object["payment_intent"])?;
    let amount = object["amount"].as_i64().unwrap_or(0);
    let captured_in_full = object["captured"].as_bool() == Some(true);
    let refunds = object["refunds"]["data"]
        .as_array()
        .map(|refunds| refunds.iter().filter_map(|one| refund(one).ok()).collect())
        .unwrap_or_default();
    Some(ChargeRefund {
        charge_id: object["id"].as_str().unwrap_or_default().to_owned(),
        payment_intent: payment_intent.to_owned(),
        customer: id_of(&object["customer"]).map(str::to_owned),
        amount_captured: object["amount_captured"]
            .as_i64()
            .unwrap_or(if captured_in_full { amount } else { 0 }),
        amount_refunded: object["amount_refunded"].as_i64().unwrap_or(0),
        refunds,
        invoice: id_of(&object["invoice"]).map(str::to_owned),
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
