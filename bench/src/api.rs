//! The harness's side of billstream's API: customers.

use anyhow::{ensure, Context};
use serde_json::{json, Value};

/// Every harness customer's password.
pub const PASSWORD: &str = "correct horse battery";

/// A registered customer.
pub struct Customer {
    /// billstream's id: the customer aggregate's id.
    pub id: String,
    pub email: String,
    pub token: String,
    pub stripe_customer_id: String,
}

/// Registers a customer and returns its session.
pub async fn register(
    client: &reqwest::Client,
    base: &str,
    email: &str,
) -> anyhow::Result<Customer> {
    let response = client
        .post(format!("{base}/api/auth/register"))
        .json(&json!({"email": email, "password": PASSWORD, "name": "Harness Customer"}))
        .send()
        .await?;
    ensure!(
        response.status().is_success(),
        "registration failed: {}",
        response.status()
    );
    let session: Value = response.json().await?;
    Ok(Customer {
        id: session["customer"]["id"]
            .as_str()
            .context("no customer id")?
            .to_owned(),
        email: email.to_owned(),
        token: session["token"].as_str().context("no token")?.to_owned(),
        stripe_customer_id: session["customer"]["stripe_customer_id"]
            .as_str()
            .context("no Stripe customer id")?
            .to_owned(),
    })
}
