//! A private localstripe (a fake Stripe server from PyPI) for the tests: run from the test venv
//! (`support::venv`), started on a free loopback port, killed when dropped.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use super::processes::{free_port, repo_dir};
use super::venv::venv_python;

/// The API key the tests use with localstripe (it accepts any test key).
pub const LOCALSTRIPE_KEY: &str = "sk_test_billstream_localstripe";

/// A running localstripe.
pub struct LocalStripe {
    pub url: String,
    client: reqwest::Client,
    _process: tokio::process::Child,
}

fn script() -> PathBuf {
    repo_dir().join("tests/localstripe/run_localstripe.py")
}

impl LocalStripe {
    /// Starts a fresh, empty localstripe (`--from-scratch`) on a private port.
    pub async fn start() -> Self {
        let python = tokio::task::spawn_blocking(venv_python)
            .await
            .expect("venv setup");
        let port = free_port();
        let process = tokio::process::Command::new(python)
            .arg(script())
            .arg("--port")
            .arg(port.to_string())
            .arg("--from-scratch")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("localstripe starts");
        let localstripe = Self {
            url: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            _process: process,
        };
        for _ in 0..200 {
            let answered = localstripe
                .client
                .get(format!("{}/v1/customers", localstripe.url))
                .bearer_auth(LOCALSTRIPE_KEY)
                .send()
                .await
                .is_ok();
            if answered {
                return localstripe;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("localstripe did not start on port {port}");
    }

    async fn form(&self, path: &str, form: &[(&str, String)]) -> Value {
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .bearer_auth(LOCALSTRIPE_KEY)
            .form(form)
            .send()
            .await
            .expect("localstripe answers");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Reads an object as localstripe stores it.
    pub async fn get(&self, path: &str) -> (reqwest::StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .bearer_auth(LOCALSTRIPE_KEY)
            .send()
            .await
            .expect("localstripe answers");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A card PaymentMethod from a test card number (localstripe knows 3-D Secure cards by
    /// number only).
    pub async fn card_payment_method(&self, number: &str) -> String {
        let created = self
            .form(
                "/v1/payment_methods",
                &[
                    ("type", "card".into()),
                    ("card[number]", number.into()),
                    ("card[exp_month]", "12".into()),
                    ("card[exp_year]", "2034".into()),
                    ("card[cvc]", "123".into()),
                ],
            )
            .await;
        created["id"]
            .as_str()
            .expect("a payment method id")
            .to_owned()
    }

    /// Decides a pending 3-D Secure challenge.
    pub async fn authenticate(&self, payment_intent_id: &str, client_secret: &str, success: bool) {
        self.form(
            &format!("/v1/payment_intents/{payment_intent_id}/_authenticate"),
            &[
                ("client_secret", client_secret.into()),
                ("success", success.to_string()),
            ],
        )
        .await;
    }

    /// Registers a signed webhook sink for `events`.
    pub async fn register_webhook(&self, id: &str, url: &str, secret: &str, events: &[&str]) {
        let mut form = vec![("url", url.to_owned()), ("secret", secret.to_owned())];
        form.extend(events.iter().map(|event| ("events[]", (*event).to_owned())));
        self.form(&format!("/_config/webhooks/{id}"), &form).await;
    }

    /// Creates and confirms a PaymentIntent directly in Stripe (as the dashboard would).
    pub async fn pay_directly(&self, customer: &str, amount: i64) -> String {
        let created = self
            .form(
                "/v1/payment_intents",
                &[
                    ("amount", amount.to_string()),
                    ("currency", "eur".into()),
                    ("customer", customer.into()),
                    ("payment_method", "pm_card_visa".into()),
                    ("confirm", "true".into()),
                ],
            )
            .await;
        created["id"].as_str().expect("an intent id").to_owned()
    }

    /// Subscribes a customer to a new monthly Plan directly in Stripe (as the dashboard would):
    /// the card becomes the customer's default payment method first.
    pub async fn subscribe_directly(&self, customer: &str, plan: &str, amount: i64) -> String {
        self.form(
            "/v1/plans",
            &[
                ("id", plan.into()),
                ("amount", amount.to_string()),
                ("currency", "eur".into()),
                ("interval", "month".into()),
                ("product[name]", plan.into()),
            ],
        )
        .await;
        self.form(
            "/v1/payment_methods/pm_card_visa/attach",
            &[("customer", customer.into())],
        )
        .await;
        self.form(
            &format!("/v1/customers/{customer}"),
            &[(
                "invoice_settings[default_payment_method]",
                "pm_card_visa".into(),
            )],
        )
        .await;
        let subscription = self
            .form(
                "/v1/subscriptions",
                &[
                    ("customer", customer.into()),
                    ("items[0][plan]", plan.into()),
                ],
            )
            .await;
        subscription["id"]
            .as_str()
            .expect("a subscription id")
            .to_owned()
    }
}
