//! No secrets or personal data in the logs, even at debug level: a real `billstream serve`
//! with `RUST_LOG=debug` goes through a full journey (registration, logins right and wrong,
//! payments by card number, a password change, a signed webhook, the admin API, logout) and
//! its output is scanned for every password, token, secret, client secret and card number.
//! No response on the way carries a password hash.

use std::process::{Command, Stdio};
use std::time::Duration;

use billstream::provider::stripe::signature::signature_header;
use serde_json::{json, Value};

use crate::helpers::TEST_JWT_SECRET;

const PASSWORD: &str = "first secret passphrase";
const NEW_PASSWORD: &str = "second secret passphrase";
const WRONG_PASSWORD: &str = "guessed wrong passphrase";
const WEBHOOK_SECRET: &str = "whsec_log_scan_webhook_secret_0123";
const OPERATOR_TOKEN: &str = "operator-token-for-the-log-scan";
const CARD_NUMBER: &str = "4242424242424242";

struct Server {
    base: String,
    client: reqwest::Client,
    responses: Vec<String>,
}

impl Server {
    async fn call(
        &mut self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Value {
        let mut request = self
            .client
            .request(method.parse().unwrap(), format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let text = request.send().await.unwrap().text().await.unwrap();
        self.responses.push(text.clone());
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

#[tokio::test]
async fn a_full_journey_at_debug_level_logs_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("billstream.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port();
    let mut process = Command::new(env!("CARGO_BIN_EXE_billstream"))
        .arg("serve")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("db").display()),
        )
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", TEST_JWT_SECRET)
        .env("BCRYPT_COST", "4")
        .env("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
        .env("OPERATOR_TOKEN", OPERATOR_TOKEN)
        .env("RUST_LOG", "debug")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .expect("billstream starts");
    let mut server = Server {
        base: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
        responses: Vec::new(),
    };
    let mut up = false;
    for _ in 0..300 {
        if server
            .client
            .get(format!("{}/health", server.base))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "billstream did not answer /health");

    let registered = server
        .call(
            "POST",
            "/api/auth/register",
            Some(json!({"email": "ada@example.com", "password": PASSWORD, "name": "Ada"})),
            None,
        )
        .await;
    let first_token = registered["token"].as_str().unwrap().to_owned();
    server
        .call(
            "POST",
            "/api/auth/login",
            Some(json!({"email": "ada@example.com", "password": WRONG_PASSWORD})),
            None,
        )
        .await;
    let login = server
        .call(
            "POST",
            "/api/auth/login",
            Some(json!({"email": "ada@example.com", "password": PASSWORD})),
            None,
        )
        .await;
    let token = login["token"].as_str().unwrap().to_owned();
    let intent = server
        .call(
            "POST",
            "/api/payments/create-intent",
            Some(json!({"amount": 2000, "currency": "eur"})),
            Some(&token),
        )
        .await;
    let client_secret = intent["client_secret"].as_str().unwrap().to_owned();
    let intent_id = intent["payment_intent_id"].as_str().unwrap().to_owned();
    server
        .call(
            "POST",
            "/api/payments/confirm",
            Some(json!({"payment_intent_id": intent_id, "payment_method": CARD_NUMBER})),
            Some(&token),
        )
        .await;
    server
        .call("GET", "/api/payments/history", None, Some(&token))
        .await;
    server
        .call("GET", "/api/auth/profile", None, Some(&token))
        .await;
    server
        .call("GET", "/api/admin/stats", None, Some(OPERATOR_TOKEN))
        .await;
    let now = chrono::Utc::now().timestamp();
    let event = json!({"id": "evt_log_scan", "object": "event", "type": "customer.updated",
        "created": now, "data": {"object": {"id": "cus_unknown", "object": "customer"}}})
    .to_string();
    let signature = signature_header(WEBHOOK_SECRET, now, event.as_bytes());
    let delivered = server
        .client
        .post(format!("{}/api/webhooks/stripe", server.base))
        .header("Content-Type", "application/json")
        .header("Stripe-Signature", &signature)
        .body(event)
        .send()
        .await
        .unwrap();
    assert!(delivered.status().is_success(), "{}", delivered.status());
    server
        .call(
            "POST",
            "/api/auth/password",
            Some(json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD})),
            Some(&token),
        )
        .await;
    let relogin = server
        .call(
            "POST",
            "/api/auth/login",
            Some(json!({"email": "ada@example.com", "password": NEW_PASSWORD})),
            None,
        )
        .await;
    let last_token = relogin["token"].as_str().unwrap().to_owned();
    server
        .call("POST", "/api/auth/logout", None, Some(&last_token))
        .await;
    // Give the inbox worker a moment to apply (and log) the webhook.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = process.kill();
    let _ = process.wait();

    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.contains("DEBUG") || logs.contains("debug"),
        "debug logging is on:\n{logs}"
    );
    let signature_mac = signature.split("v1=").nth(1).unwrap().to_owned();
    for (what, secret) in [
        ("the password", PASSWORD),
        ("the new password", NEW_PASSWORD),
        ("a wrong password", WRONG_PASSWORD),
        ("the first token", first_token.as_str()),
        ("the login token", token.as_str()),
        ("the last token", last_token.as_str()),
        ("the JWT secret", TEST_JWT_SECRET),
        ("the webhook secret", WEBHOOK_SECRET),
        ("the webhook signature", signature_mac.as_str()),
        ("the operator token", OPERATOR_TOKEN),
        ("the client secret", client_secret.as_str()),
        ("the card number", CARD_NUMBER),
    ] {
        assert!(!logs.contains(secret), "the logs carry {what}");
    }
    for response in &server.responses {
        assert!(
            !response.contains("$2b$") && !response.contains("password_hash"),
            "{response}"
        );
    }
}
