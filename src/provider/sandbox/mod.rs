//! The offline sandbox: behaves like Stripe's test mode. Its "Stripe-side" state lives in its own
//! tables of the same SQLite file (so it survives restarts like an external system would), its
//! ids look like Stripe's, it knows Stripe's test cards, and it reports every state change as a
//! signed Stripe-format event from a durable outbox.

mod billing;
mod cards;
pub mod clock;
mod idempotency;
mod objects;
pub mod outbox;

use std::sync::Arc;

use async_trait::async_trait;
use projections::{WriteGate, WriteTurn};
use rand::distr::Alphanumeric;
use rand::Rng;
use serde_json::{json, Value};
use sqlx::{SqliteConnection, SqlitePool};
use tokio::sync::Notify;

use super::stripe::{billing_decode, decode, metadata};
use super::{
    CustomerDetails, NewCustomer, NewInvoice, NewPaymentIntent, NewRefund, NewSubscription,
    PaymentIntent, PaymentProvider, PlanPrice, ProviderCustomer, ProviderError, ProviderInvoice,
    ProviderSubscription, Refund,
};
use cards::CardBehaviour;

/// The sandbox provider.
#[derive(Clone)]
pub struct SandboxProvider {
    pool: SqlitePool,
    /// Shared with the service's other writers (see `projections::WriteGate`).
    gate: WriteGate,
    /// Wakes the webhook delivery worker when an event is queued.
    outbox_wake: Arc<Notify>,
}

/// A Stripe-looking id: the prefix and 24 random alphanumerics (`cus_…`, `pi_…`).
pub fn stripe_like_id(prefix: &str) -> String {
    let suffix: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    format!("{prefix}_{suffix}")
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl SandboxProvider {
    /// A sandbox over the service's database (its tables come with the migrations).
    pub fn new(pool: SqlitePool) -> Self {
        Self {
            pool,
            gate: WriteGate::new(),
            outbox_wake: Arc::new(Notify::new()),
        }
    }

    /// Takes write turns from `gate`, shared with the service's other writers.
    pub fn with_write_gate(mut self, gate: WriteGate) -> Self {
        self.gate = gate;
        self
    }

    /// Waits for a write turn, then begins a transaction holding SQLite's write lock.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<(WriteTurn<'_>, sqlx::Transaction<'static, sqlx::Sqlite>), sqlx::Error> {
        let turn = self.gate.turn().await;
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        Ok((turn, tx))
    }

    /// What the webhook delivery worker waits on.
    pub fn outbox_wake(&self) -> Arc<Notify> {
        self.outbox_wake.clone()
    }

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

    /// Runs a billing operation once per idempotency key, at sandbox-clock time.
    async fn billing<F>(
        &self,
        key: &str,
        request: Value,
        operation: F,
    ) -> Result<Value, ProviderError>
    where
        F: for<'c> FnOnce(
                &'c mut SqliteConnection,
                i64,
            )
                -> futures::future::BoxFuture<'c, Result<Value, ProviderError>>
            + Send
            + 'static,
    {
        self.idempotent(key, request, move |conn| {
            Box::pin(async move {
                let now = clock::now(conn).await?;
                operation(conn, now).await
            })
        })
        .await
    }

    /// Runs `operation` once per idempotency key, in one transaction with the events it queues.
    async fn idempotent<F>(
        &self,
        key: &str,
        request: Value,
        operation: F,
    ) -> Result<Value, ProviderError>
    where
        F: for<'c> FnOnce(
                &'c mut SqliteConnection,
            )
                -> futures::future::BoxFuture<'c, Result<Value, ProviderError>>
            + Send,
    {
        let (_turn, mut tx) = self.begin_write().await?;
        if let Some(response) = idempotency::remembered(&mut tx, key, &request).await? {
            return Ok(response);
        }
        let response = operation(&mut tx).await?;
        idempotency::remember(&mut tx, key, &request, &response).await?;
        tx.commit().await?;
        self.outbox_wake.notify_one();
        Ok(response)
    }
}

async fn load_intent(conn: &mut SqliteConnection, id: &str) -> Result<Value, ProviderError> {
    let object: Option<String> =
        sqlx::query_scalar("SELECT object FROM sandbox_payment_intents WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let object = object.ok_or(ProviderError::NoSuchPaymentIntent)?;
    serde_json::from_str(&object)
        .map_err(|error| ProviderError::Provider(format!("corrupt sandbox record: {error}")))
}

async fn save_intent(conn: &mut SqliteConnection, intent: &Value) -> Result<(), ProviderError> {
    sqlx::query(
        "INSERT INTO sandbox_payment_intents (id, object) VALUES (?1, ?2)
         ON CONFLICT (id) DO UPDATE SET object = excluded.object",
    )
    .bind(intent["id"].as_str())
    .bind(intent.to_string())
    .execute(conn)
    .await?;
    Ok(())
}

/// Charges the intent in full: a succeeded charge and a succeeded intent.
async fn capture(
    conn: &mut SqliteConnection,
    intent: &mut Value,
    payment_method: &str,
    idempotency_key: Option<&str>,
) -> Result<(), ProviderError> {
    let charge = objects::charge(intent, payment_method);
    sqlx::query("INSERT INTO sandbox_charges (id, payment_intent, object) VALUES (?, ?, ?)")
        .bind(charge["id"].as_str())
        .bind(intent["id"].as_str())
        .bind(charge.to_string())
        .execute(&mut *conn)
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

async fn confirm(
    conn: &mut SqliteConnection,
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
            intent["next_action"] = objects::three_d_secure_action(payment_intent_id);
            save_intent(conn, &intent).await?;
            outbox::enqueue(conn, "payment_intent.requires_action", &intent, Some(key)).await?;
        }
    }
    Ok(intent)
}

async fn refund(
    conn: &mut SqliteConnection,
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
    let charge: Option<String> =
        sqlx::query_scalar("SELECT object FROM sandbox_charges WHERE id = ?")
            .bind(charge_id)
            .fetch_optional(&mut *conn)
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
    let refund = objects::refund(&intent, amount, &new.refund_id);
    charge["amount_refunded"] = json!(refunded + amount);
    charge["refunded"] = json!(refunded + amount == captured);
    if let Some(list) = charge["refunds"]["data"].as_array_mut() {
        list.push(refund.clone());
    }
    sqlx::query("UPDATE sandbox_charges SET object = ? WHERE id = ?")
        .bind(charge.to_string())
        .bind(charge_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO sandbox_refunds (id, payment_intent, object) VALUES (?, ?, ?)")
        .bind(refund["id"].as_str())
        .bind(payment_intent_id)
        .bind(refund.to_string())
        .execute(&mut *conn)
        .await?;
    outbox::enqueue(conn, "charge.refunded", &charge, Some(key)).await?;
    outbox::enqueue(conn, "refund.created", &refund, Some(key)).await?;
    Ok(refund)
}

#[async_trait]
impl PaymentProvider for SandboxProvider {
    async fn create_customer(
        &self,
        customer: &NewCustomer,
        idempotency_key: &str,
    ) -> Result<ProviderCustomer, ProviderError> {
        let request = json!({
            "op": "create_customer",
            "email": customer.email,
            "name": customer.name,
            "phone": customer.phone,
            "metadata": {metadata::CUSTOMER_ID: customer.customer_id},
        });
        let response = self
            .idempotent(idempotency_key, request.clone(), move |conn| {
                Box::pin(async move {
                    let object = objects::customer(
                        &stripe_like_id("cus"),
                        request["email"].as_str().unwrap_or_default(),
                        request["name"].as_str().unwrap_or_default(),
                        request["phone"].as_str(),
                        &request["metadata"],
                        unix_now(),
                    );
                    sqlx::query(
                        "INSERT INTO sandbox_customers (id, email, name, phone, metadata, created)
                         VALUES (?, ?, ?, ?, ?, ?)",
                    )
                    .bind(object["id"].as_str())
                    .bind(object["email"].as_str())
                    .bind(object["name"].as_str())
                    .bind(object["phone"].as_str())
                    .bind(object["metadata"].to_string())
                    .bind(object["created"].as_i64())
                    .execute(&mut *conn)
                    .await?;
                    outbox::enqueue(conn, "customer.created", &object, None).await?;
                    Ok(object)
                })
            })
            .await?;
        Ok(ProviderCustomer {
            id: decode::object_id(&response)?,
        })
    }

    async fn update_customer(
        &self,
        stripe_customer_id: &str,
        details: &CustomerDetails,
        idempotency_key: &str,
    ) -> Result<(), ProviderError> {
        let request = json!({
            "op": "update_customer",
            "id": stripe_customer_id,
            "name": details.name,
            "phone": details.phone,
        });
        self.idempotent(idempotency_key, request.clone(), move |conn| {
            Box::pin(async move {
                let row: Option<(String, String, String, i64)> = sqlx::query_as(
                    "UPDATE sandbox_customers SET name = ?, phone = ? WHERE id = ? AND deleted = 0
                     RETURNING email, name, metadata, created",
                )
                .bind(request["name"].as_str())
                .bind(request["phone"].as_str())
                .bind(request["id"].as_str())
                .fetch_optional(&mut *conn)
                .await?;
                let (email, name, metadata, created) = row.ok_or(ProviderError::NoSuchCustomer)?;
                let metadata: Value = serde_json::from_str(&metadata).unwrap_or(Value::Null);
                let object = objects::customer(
                    request["id"].as_str().unwrap_or_default(),
                    &email,
                    &name,
                    request["phone"].as_str(),
                    &metadata,
                    created,
                );
                outbox::enqueue(conn, "customer.updated", &object, None).await?;
                Ok(object)
            })
        })
        .await?;
        Ok(())
    }

    async fn delete_customer(&self, stripe_customer_id: &str) -> Result<(), ProviderError> {
        let (_turn, mut tx) = self.begin_write().await?;
        let deleted =
            sqlx::query("UPDATE sandbox_customers SET deleted = 1 WHERE id = ? AND deleted = 0")
                .bind(stripe_customer_id)
                .execute(&mut *tx)
                .await?;
        if deleted.rows_affected() == 0 {
            return Err(ProviderError::NoSuchCustomer);
        }
        let object = json!({"id": stripe_customer_id, "object": "customer", "deleted": true});
        outbox::enqueue(&mut tx, "customer.deleted", &object, None).await?;
        tx.commit().await?;
        self.outbox_wake.notify_one();
        Ok(())
    }

    async fn create_payment_intent(
        &self,
        intent: &NewPaymentIntent,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, ProviderError> {
        let request = json!({
            "op": "create_payment_intent",
            "payment_id": intent.payment_id,
            "customer": intent.stripe_customer_id,
            "amount": intent.amount,
            "currency": intent.currency,
            "description": intent.description,
            "metadata": intent.metadata,
        });
        let intent = intent.clone();
        let response = self
            .idempotent(idempotency_key, request, move |conn| {
                Box::pin(async move {
                    let known: Option<i64> = sqlx::query_scalar(
                        "SELECT 1 FROM sandbox_customers WHERE id = ? AND deleted = 0",
                    )
                    .bind(&intent.stripe_customer_id)
                    .fetch_optional(&mut *conn)
                    .await?;
                    if known.is_none() {
                        return Err(ProviderError::NoSuchCustomer);
                    }
                    let object = objects::new_payment_intent(&intent);
                    save_intent(conn, &object).await?;
                    outbox::enqueue(conn, "payment_intent.created", &object, None).await?;
                    Ok(object)
                })
            })
            .await?;
        decode::payment_intent(response)
    }

    async fn confirm_payment_intent(
        &self,
        payment_intent_id: &str,
        payment_method: &str,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, ProviderError> {
        let request = json!({
            "op": "confirm_payment_intent",
            "id": payment_intent_id,
            "payment_method": payment_method,
        });
        let (id, method, key) = (
            payment_intent_id.to_owned(),
            payment_method.to_owned(),
            idempotency_key.to_owned(),
        );
        let response = self
            .idempotent(idempotency_key, request, move |conn| {
                Box::pin(async move { confirm(conn, &id, &method, &key).await })
            })
            .await?;
        decode::payment_intent(response)
    }

    async fn retrieve_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<PaymentIntent, ProviderError> {
        let mut conn = self.pool.acquire().await?;
        decode::payment_intent(load_intent(&mut conn, payment_intent_id).await?)
    }

    async fn create_refund(
        &self,
        new: &NewRefund,
        idempotency_key: &str,
    ) -> Result<Refund, ProviderError> {
        let request = json!({
            "op": "create_refund",
            "payment_intent": new.payment_intent_id,
            "amount": new.amount,
            "refund_id": new.refund_id,
        });
        let (new, key) = (new.clone(), idempotency_key.to_owned());
        let response = self
            .idempotent(idempotency_key, request, move |conn| {
                Box::pin(async move { refund(conn, &new, &key).await })
            })
            .await?;
        decode::refund(&response)
    }

    async fn set_default_payment_method(
        &self,
        stripe_customer_id: &str,
        payment_method: &str,
        idempotency_key: &str,
    ) -> Result<(), ProviderError> {
        let request = json!({"op": "set_default_payment_method",
                             "customer": stripe_customer_id, "payment_method": payment_method});
        let (customer, method) = (stripe_customer_id.to_owned(), payment_method.to_owned());
        self.billing(idempotency_key, request, move |conn, _| {
            Box::pin(
                async move { billing::set_default_payment_method(conn, &customer, &method).await },
            )
        })
        .await?;
        Ok(())
    }

    async fn ensure_price(&self, price: &PlanPrice) -> Result<PlanPrice, ProviderError> {
        let mut price = price.clone();
        if price.price_id.is_empty() {
            price.price_id = format!("price_{}", price.plan_id);
        }
        Ok(price)
    }

    async fn create_subscription(
        &self,
        subscription: &NewSubscription,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        let request = json!({"op": "create_subscription",
            "subscription_id": subscription.subscription_id,
            "customer": subscription.stripe_customer_id,
            "price": subscription.price.price_id, "trial_days": subscription.trial_days});
        let new = subscription.clone();
        let object = self
            .billing(idempotency_key, request, move |conn, now| {
                Box::pin(async move { billing::create_subscription(conn, &new, now).await })
            })
            .await?;
        billing_decode::subscription(&object)
    }

    async fn cancel_subscription(
        &self,
        subscription_id: &str,
        at_period_end: bool,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        let request = json!({"op": "cancel_subscription", "id": subscription_id,
                             "at_period_end": at_period_end});
        let id = subscription_id.to_owned();
        let object = self
            .billing(idempotency_key, request, move |conn, now| {
                Box::pin(async move {
                    billing::cancel_subscription(conn, &id, at_period_end, now).await
                })
            })
            .await?;
        billing_decode::subscription(&object)
    }

    async fn resume_subscription(
        &self,
        subscription_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        let request = json!({"op": "resume_subscription", "id": subscription_id});
        let id = subscription_id.to_owned();
        let object = self
            .billing(idempotency_key, request, move |conn, _| {
                Box::pin(async move { billing::resume_subscription(conn, &id).await })
            })
            .await?;
        billing_decode::subscription(&object)
    }

    async fn change_subscription_price(
        &self,
        subscription_id: &str,
        price: &PlanPrice,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        let request = json!({"op": "change_subscription_price", "id": subscription_id,
                             "price": price.price_id});
        let (id, price) = (subscription_id.to_owned(), price.clone());
        let object = self
            .billing(idempotency_key, request, move |conn, now| {
                Box::pin(async move { billing::change_price(conn, &id, &price, now).await })
            })
            .await?;
        billing_decode::subscription(&object)
    }

    async fn create_invoice(
        &self,
        invoice: &NewInvoice,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        let request = json!({"op": "create_invoice", "invoice_id": invoice.invoice_id,
            "customer": invoice.stripe_customer_id, "currency": invoice.currency,
            "lines": invoice.lines, "memo": invoice.memo, "due_days": invoice.due_days,
            "collection_method": invoice.collection_method});
        let new = invoice.clone();
        let object = self
            .billing(idempotency_key, request, move |conn, now| {
                Box::pin(async move { billing::create_invoice(conn, &new, now).await })
            })
            .await?;
        billing_decode::invoice(&object)
    }

    async fn finalize_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        let request = json!({"op": "finalize_invoice", "id": invoice_id});
        let id = invoice_id.to_owned();
        let object = self
            .billing(idempotency_key, request, move |conn, now| {
                Box::pin(async move { billing::finalize_invoice(conn, &id, now).await })
            })
            .await?;
        billing_decode::invoice(&object)
    }

    async fn pay_invoice(
        &self,
        invoice_id: &str,
        payment_method: Option<&str>,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        let request = json!({"op": "pay_invoice", "id": invoice_id,
                             "payment_method": payment_method});
        let (id, method) = (invoice_id.to_owned(), payment_method.map(str::to_owned));
        let object = self
            .billing(idempotency_key, request, move |conn, now| {
                Box::pin(
                    async move { billing::pay_invoice(conn, &id, method.as_deref(), now).await },
                )
            })
            .await?;
        billing_decode::invoice(&object)
    }

    async fn void_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        let request = json!({"op": "void_invoice", "id": invoice_id});
        let id = invoice_id.to_owned();
        let object = self
            .billing(idempotency_key, request, move |conn, now| {
                Box::pin(async move { billing::void_invoice(conn, &id, now).await })
            })
            .await?;
        billing_decode::invoice(&object)
    }

    async fn send_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        let request = json!({"op": "send_invoice", "id": invoice_id});
        let id = invoice_id.to_owned();
        let object = self
            .billing(idempotency_key, request, move |conn, _| {
                Box::pin(async move { billing::send_invoice(conn, &id).await })
            })
            .await?;
        billing_decode::invoice(&object)
    }
}
