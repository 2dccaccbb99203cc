//! The sandbox's PaymentIntents: created for a customer, confirmed with a test card (charged,
//! declined, or held for 3-D Secure), authenticated by the sandbox playing the customer's bank;
//! each stored as a Stripe-shaped document (`sandbox_payment_intents`, its charge in
//! `sandbox_charges`) and announced with the events Stripe sends.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::cards::{self, CardBehaviour};
use super::ids::{stripe_like_id, unix_now};
use super::store::SandboxConn;
use super::{customers, load_document, outbox, SandboxProvider};
use crate::provider::stripe::{decode, metadata};
use crate::provider::{NewPaymentIntent, PaymentIntent, ProviderError};

/// A fresh PaymentIntent awaiting its payment method.
pub fn new_payment_intent(intent: &NewPaymentIntent) -> Value {
    let id = stripe_like_id("pi");
    let secret = format!(
        "{id}_secret_{}",
        stripe_like_id("s").trim_start_matches("s_")
    );
    let mut metadata: BTreeMap<String, String> = intent.metadata.clone();
    metadata.insert(metadata::PAYMENT_ID.into(), intent.payment_id.clone());
    json!({
        "id": id,
        "object": "payment_intent",
        "amount": intent.amount,
        "amount_capturable": 0,
        "amount_received": 0,
        "capture_method": "automatic",
        "client_secret": secret,
        "confirmation_method": "automatic",
        "created": unix_now(),
        "currency": intent.currency,
        "customer": intent.stripe_customer_id,
        "description": intent.description,
        "last_payment_error": null,
        "latest_charge": null,
        "livemode": false,
        "metadata": metadata,
        "next_action": null,
        "payment_method": null,
        "payment_method_types": ["card"],
        "status": "requires_payment_method",
    })
}

/// The charge a successful confirmation creates.
fn charge(intent: &Value, payment_method: &str) -> Value {
    json!({
        "id": stripe_like_id("ch"),
        "object": "charge",
        "amount": intent["amount"],
        "amount_captured": intent["amount"],
        "amount_refunded": 0,
        "captured": true,
        "created": unix_now(),
        "currency": intent["currency"],
        "customer": intent["customer"],
        "livemode": false,
        "paid": true,
        "payment_intent": intent["id"],
        "payment_method": payment_method,
        "refunded": false,
        "refunds": { "object": "list", "data": [] },
        "status": "succeeded",
    })
}

/// The `next_action` Stripe returns when 3-D Secure is required.
fn three_d_secure_action(intent_id: &str) -> Value {
    json!({
        "type": "use_stripe_sdk",
        "use_stripe_sdk": {
            "type": "three_d_secure_redirect",
            "stripe_js": format!("/sandbox/payment_intents/{intent_id}/authenticate"),
        },
    })
}

/// Creates a PaymentIntent for an existing customer.
pub async fn create(
    conn: &mut SandboxConn,
    intent: &NewPaymentIntent,
) -> Result<Value, ProviderError> {
    customers::require(conn, &intent.stripe_customer_id).await?;
    let object = new_payment_intent(intent);
    save_intent(conn, &object).await?;
    outbox::enqueue(conn, "payment_intent.created", &object, None).await?;
    Ok(object)
}

/// The stored intent.
pub async fn load_intent(conn: &mut SandboxConn, id: &str) -> Result<Value, ProviderError> {
    const SQL: &str = "SELECT object FROM sandbox_payment_intents WHERE id = $1";
    load_document(conn, SQL, id, ProviderError::NoSuchPaymentIntent).await
}

/// Stores an intent, new or changed.
pub async fn save_intent(conn: &mut SandboxConn, intent: &Value) -> Result<(), ProviderError> {
    conn.execute(
        "INSERT INTO sandbox_payment_intents (id, object) VALUES ($1, $2)
         ON CONFLICT (id) DO UPDATE SET object = excluded.object",
        &[intent["id"].as_str().into(), intent.to_string().into()],
    )
    .await?;
    Ok(())
}

/// Charges the intent in full: a succeeded charge and a succeeded intent.
async fn capture(
    conn: &mut SandboxConn,
    intent: &mut Value,
    payment_method: &str,
    idempotency_key: Option<&str>,
) -> Result<(), ProviderError> {
    let charge = charge(intent, payment_method);
    conn.execute(
        "INSERT INTO sandbox_charges (id, payment_intent, object) VALUES ($1, $2, $3)",
        &[
            charge["id"].as_str().into(),
            intent["id"].as_str().into(),
            charge.to_string().into(),
        ],
    )
    .await?;
    intent["status"] = json!("succeeded");
    intent["amount_received"] = intent["amount"].clone();
    intent["payment_method"] = json!(payment_method);
    intent["latest_charge"] = charge["id"].clone();
    intent["last_payment_error"] = Value::Null;
    intent["next_action"] = Value::Null;
    save_intent(conn, intent).await?;
    outbox::enqueue(conn, "charge.succeeded", &charge, idempotency_key).await?;
    outbox::enqueue(conn, "payment_intent.succeeded", intent, idempotency_key).await?;
    Ok(())
}

/// Confirms an intent with a test card, as Stripe would: charged, declined, or held for
/// 3-D Secure. `key` is the idempotency key its events report.
pub async fn confirm(
    conn: &mut SandboxConn,
    payment_intent_id: &str,
    payment_method: &str,
    key: &str,
) -> Result<Value, ProviderError> {
    let mut intent = load_intent(conn, payment_intent_id).await?;
    let status = intent["status"].as_str().unwrap_or_default().to_owned();
    if !matches!(
        status.as_str(),
        "requires_payment_method" | "requires_confirmation"
    ) {
        return Err(ProviderError::UnexpectedState(format!(
            "This PaymentIntent's status is {status}; it cannot be confirmed."
        )));
    }
    let Some(card) = cards::resolve(payment_method) else {
        // Never echo what might be a real card number.
        return Err(ProviderError::InvalidPaymentMethod(
            if cards::looks_like_card_number(payment_method) {
                "This card number is not a sandbox test card: use 4242424242424242, \
                 4000000000000002, 4000000000009995 or 4000000000003220."
                    .to_owned()
            } else {
                format!(
                    "No such PaymentMethod: '{payment_method}'. The sandbox knows pm_card_visa, \
                     pm_card_chargeDeclined, pm_card_chargeDeclinedInsufficientFunds, \
                     pm_card_chargeCustomerFail and \
                     pm_card_authenticationRequired."
                )
            },
        ));
    };
    match card.behaviour {
        CardBehaviour::Succeeds => {
            capture(conn, &mut intent, card.payment_method, Some(key)).await?;
        }
        CardBehaviour::Declines {
            decline_code,
            message,
        } => {
            intent["status"] = json!("requires_payment_method");
            intent["payment_method"] = Value::Null;
            intent["last_payment_error"] = json!({
                "type": "card_error",
                "code": "card_declined",
                "decline_code": decline_code,
                "message": message,
                "payment_method": { "id": card.payment_method, "card": { "brand": card.brand, "last4": card.last4 } },
            });
            save_intent(conn, &intent).await?;
            outbox::enqueue(conn, "payment_intent.payment_failed", &intent, Some(key)).await?;
        }
        CardBehaviour::RequiresAuthentication => {
            intent["status"] = json!("requires_action");
            intent["payment_method"] = json!(card.payment_method);
            intent["next_action"] = three_d_secure_action(payment_intent_id);
            save_intent(conn, &intent).await?;
            outbox::enqueue(conn, "payment_intent.requires_action", &intent, Some(key)).await?;
        }
    }
    Ok(intent)
}

impl SandboxProvider {
    /// Decides a pending 3-D Secure challenge, as the customer's bank would: success captures
    /// the payment, failure returns the intent to `requires_payment_method`.
    pub async fn authenticate_payment_intent(
        &self,
        payment_intent_id: &str,
        success: bool,
    ) -> Result<PaymentIntent, ProviderError> {
        let (_turn, mut tx) = self.begin_write().await?;
        let mut intent = load_intent(&mut tx, payment_intent_id).await?;
        if intent["status"] != "requires_action" {
            return Err(ProviderError::UnexpectedState(format!(
                "This PaymentIntent's status is {}; only an intent that requires action can be authenticated.",
                intent["status"].as_str().unwrap_or("unknown")
            )));
        }
        if success {
            let payment_method = intent["payment_method"]
                .as_str()
                .unwrap_or("pm_card_authenticationRequired")
                .to_owned();
            capture(&mut tx, &mut intent, &payment_method, None).await?;
        } else {
            intent["status"] = json!("requires_payment_method");
            intent["next_action"] = Value::Null;
            intent["payment_method"] = Value::Null;
            intent["last_payment_error"] = json!({
                "type": "invalid_request_error",
                "code": "payment_intent_authentication_failure",
                "message": "The provided PaymentMethod has failed authentication. Provide a new payment method to attempt to fulfill this PaymentIntent again.",
            });
            save_intent(&mut tx, &intent).await?;
            outbox::enqueue(&mut tx, "payment_intent.payment_failed", &intent, None).await?;
        }
        tx.commit().await?;
        self.outbox_wake.notify_one();
        decode::payment_intent(intent)
    }
}
