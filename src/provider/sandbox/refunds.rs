//! The sandbox's refunds: against a succeeded PaymentIntent's charge, never beyond what is left
//! of it, carrying billstream's refund id in their metadata as Stripe refunds do.

use serde_json::{json, Value};

use super::ids::{stripe_like_id, unix_now};
use super::outbox;
use super::payments::load_intent;
use super::store::SandboxConn;
use crate::provider::stripe::metadata;
use crate::provider::{NewRefund, ProviderError};

/// A refund of `amount` against `intent`.
fn refund(intent: &Value, amount: i64, billstream_refund_id: &str) -> Value {
    json!({
        "id": stripe_like_id("re"),
        "object": "refund",
        "amount": amount,
        "charge": intent["latest_charge"],
        "created": unix_now(),
        "currency": intent["currency"],
        "payment_intent": intent["id"],
        "status": "succeeded",
        "metadata": {metadata::REFUND_ID: billstream_refund_id},
    })
}

/// Refunds part of a succeeded intent's charge: the charge's totals and refund list move on,
/// and `charge.refunded` and `refund.created` are announced.
pub async fn create(
    conn: &mut SandboxConn,
    new: &NewRefund,
    key: &str,
) -> Result<Value, ProviderError> {
    let (payment_intent_id, amount) = (new.payment_intent_id.as_str(), new.amount);
    let intent = load_intent(conn, payment_intent_id).await?;
    if intent["status"] != "succeeded" {
        return Err(ProviderError::UnexpectedState(
            "This PaymentIntent has no successful charge to refund.".into(),
        ));
    }
    let charge_id = intent["latest_charge"].as_str().unwrap_or_default();
    let charge: Option<String> = conn
        .value(
            "SELECT object FROM sandbox_charges WHERE id = $1",
            &[charge_id.into()],
        )
        .await?;
    let mut charge: Value = charge
        .and_then(|object| serde_json::from_str(&object).ok())
        .ok_or_else(|| ProviderError::Provider("sandbox charge missing".into()))?;
    let captured = charge["amount_captured"].as_i64().unwrap_or(0);
    let refunded = charge["amount_refunded"].as_i64().unwrap_or(0);
    if amount < 1 || amount > captured - refunded {
        return Err(ProviderError::UnexpectedState(format!(
            "Refund amount ({amount}) is greater than the unrefunded amount ({}).",
            captured - refunded
        )));
    }
    let refund = refund(&intent, amount, &new.refund_id);
    charge["amount_refunded"] = json!(refunded + amount);
    if intent["invoice"].is_string() {
        // As Stripe's charge names the invoice it paid.
        charge["invoice"] = intent["invoice"].clone();
    }
    charge["refunded"] = json!(refunded + amount == captured);
    if let Some(list) = charge["refunds"]["data"].as_array_mut() {
        list.push(refund.clone());
    }
    conn.execute(
        "UPDATE sandbox_charges SET object = $1 WHERE id = $2",
        &[charge.to_string().into(), charge_id.into()],
    )
    .await?;
    conn.execute(
        "INSERT INTO sandbox_refunds (id, payment_intent, object) VALUES ($1, $2, $3)",
        &[
            refund["id"].as_str().into(),
            payment_intent_id.into(),
            refund.to_string().into(),
        ],
    )
    .await?;
    outbox::enqueue(conn, "charge.refunded", &charge, Some(key)).await?;
    outbox::enqueue(conn, "refund.created", &refund, Some(key)).await?;
    Ok(refund)
}
