//! The sandbox's customers: their rows (`sandbox_customers`), served as Stripe `customer`
//! objects, created, updated and deleted with the events Stripe sends, and the default payment
//! method invoices and subscriptions are charged to.

use serde_json::{json, Value};

use super::ids::{stripe_like_id, unix_now};
use super::store::SandboxConn;
use super::{cards, outbox};
use crate::provider::ProviderError;

/// A Stripe `customer` object from the sandbox's row.
pub fn customer(
    id: &str,
    email: &str,
    name: &str,
    phone: Option<&str>,
    metadata: &Value,
    created: i64,
) -> Value {
    json!({
        "id": id,
        "object": "customer",
        "created": created,
        "email": email,
        "livemode": false,
        "metadata": metadata,
        "name": name,
        "phone": phone,
    })
}

/// Creates the customer `request` describes (email, name, phone, metadata).
pub async fn create(conn: &mut SandboxConn, request: &Value) -> Result<Value, ProviderError> {
    let object = customer(
        &stripe_like_id("cus"),
        request["email"].as_str().unwrap_or_default(),
        request["name"].as_str().unwrap_or_default(),
        request["phone"].as_str(),
        &request["metadata"],
        unix_now(),
    );
    conn.execute(
        "INSERT INTO sandbox_customers (id, email, name, phone, metadata, created)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            object["id"].as_str().into(),
            object["email"].as_str().into(),
            object["name"].as_str().into(),
            object["phone"].as_str().into(),
            object["metadata"].to_string().into(),
            object["created"].as_i64().into(),
        ],
    )
    .await?;
    outbox::enqueue(conn, "customer.created", &object, None).await?;
    Ok(object)
}

/// Replaces the name and phone of the customer `request` names.
pub async fn update(conn: &mut SandboxConn, request: &Value) -> Result<Value, ProviderError> {
    let row: Option<(String, String, String, i64)> = conn
        .optional(
            "UPDATE sandbox_customers SET name = $1, phone = $2 WHERE id = $3 AND deleted = 0
             RETURNING email, name, metadata, created",
            &[
                request["name"].as_str().into(),
                request["phone"].as_str().into(),
                request["id"].as_str().into(),
            ],
        )
        .await?;
    let (email, name, metadata, created) = row.ok_or(ProviderError::NoSuchCustomer)?;
    let metadata: Value = serde_json::from_str(&metadata).unwrap_or(Value::Null);
    let object = customer(
        request["id"].as_str().unwrap_or_default(),
        &email,
        &name,
        request["phone"].as_str(),
        &metadata,
        created,
    );
    outbox::enqueue(conn, "customer.updated", &object, None).await?;
    Ok(object)
}

/// Deletes a customer (its row stays, marked deleted, as Stripe keeps a deleted stub).
pub async fn delete(conn: &mut SandboxConn, id: &str) -> Result<(), ProviderError> {
    let deleted = conn
        .execute(
            "UPDATE sandbox_customers SET deleted = 1 WHERE id = $1 AND deleted = 0",
            &[id.into()],
        )
        .await?;
    if deleted == 0 {
        return Err(ProviderError::NoSuchCustomer);
    }
    let object = json!({"id": id, "object": "customer", "deleted": true});
    outbox::enqueue(conn, "customer.deleted", &object, None).await
}

/// The customer's default payment method, if it has one; `NoSuchCustomer` when the customer
/// does not exist (or was deleted).
pub async fn default_payment_method(
    conn: &mut SandboxConn,
    customer: &str,
) -> Result<Option<String>, ProviderError> {
    let row: Option<Option<String>> = conn
        .value(
            "SELECT default_payment_method FROM sandbox_customers WHERE id = $1 AND deleted = 0",
            &[customer.into()],
        )
        .await?;
    row.ok_or(ProviderError::NoSuchCustomer)
}

/// `NoSuchCustomer` unless the customer exists (and was not deleted).
pub async fn require(conn: &mut SandboxConn, customer: &str) -> Result<(), ProviderError> {
    default_payment_method(conn, customer).await.map(|_| ())
}

/// Makes `payment_method` (a test card) the customer's default.
pub async fn set_default_payment_method(
    conn: &mut SandboxConn,
    customer: &str,
    payment_method: &str,
) -> Result<Value, ProviderError> {
    let card = cards::resolve(payment_method).ok_or_else(|| {
        ProviderError::InvalidPaymentMethod(
            "This is not a sandbox test card: use pm_card_visa, pm_card_chargeDeclined, \
             pm_card_chargeCustomerFail or another of Stripe's test payment methods."
                .into(),
        )
    })?;
    let updated = conn
        .execute(
            "UPDATE sandbox_customers SET default_payment_method = $1 WHERE id = $2 AND deleted = 0",
            &[card.payment_method.into(), customer.into()],
        )
        .await?;
    if updated == 0 {
        return Err(ProviderError::NoSuchCustomer);
    }
    Ok(json!({"id": customer, "object": "customer",
              "invoice_settings": {"default_payment_method": card.payment_method}}))
}
