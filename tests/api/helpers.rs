//! `spawn_app()`: a real billstream on 127.0.0.1:0 over a fresh SQLite file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use billstream::app::Application;
use billstream::config::Config;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use sqlx::SqlitePool;
use tempfile::TempDir;
use tokio::sync::oneshot;

/// The JWT secret every test server signs with.
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret!";

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db_path: PathBuf,
    pub pool: SqlitePool,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: Option<TempDir>,
}

/// Configuration for a test server over `db_path`, with extra variables on top.
pub fn test_config(db_path: &Path, extra: &[(&str, &str)]) -> Config {
    let mut vars: HashMap<String, String> = HashMap::from([
        (
            "DATABASE_URL".to_owned(),
            format!("sqlite://{}", db_path.display()),
        ),
        ("BIND_ADDR".to_owned(), "127.0.0.1:0".to_owned()),
        ("BCRYPT_COST".to_owned(), "4".to_owned()),
        ("JWT_SECRET".to_owned(), TEST_JWT_SECRET.to_owned()),
        // Every test talks from 127.0.0.1: the per-address and per-account rate limits are
        // tried by tests/api/abuse.rs, which turns them on.
        ("RATE_LIMITS".to_owned(), "off".to_owned()),
    ]);
    for (key, value) in extra {
        vars.insert((*key).to_owned(), (*value).to_owned());
    }
    Config::from_lookup(|name| vars.get(name).cloned()).expect("test configuration is valid")
}

/// A server over a fresh database.
pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("billstream.db");
    let mut app = spawn_app_on(&db_path).await;
    app._dir = Some(dir);
    app
}

/// A server over a fresh database, with extra configuration.
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("billstream.db");
    let mut app = start(test_config(&db_path, extra), &db_path).await;
    app._dir = Some(dir);
    app
}

/// A closed loopback port's URL, for sandbox webhook deliveries that must go nowhere.
pub fn nowhere_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    format!("http://127.0.0.1:{port}/")
}

/// A server whose sandbox webhook deliveries go nowhere, for tests that count exact events.
pub async fn spawn_quiet_app() -> TestApp {
    spawn_app_with(&[("SANDBOX_WEBHOOK_URL", &nowhere_url())]).await
}

/// A server over an existing database file, whose sandbox webhook deliveries go nowhere.
pub async fn spawn_quiet_app_on(db_path: &Path) -> TestApp {
    spawn_app_on_with(db_path, &[("SANDBOX_WEBHOOK_URL", &nowhere_url())]).await
}

/// A server over an existing (or new) database file.
pub async fn spawn_app_on(db_path: &Path) -> TestApp {
    spawn_app_on_with(db_path, &[]).await
}

/// A server over an existing (or new) database file, with extra configuration.
pub async fn spawn_app_on_with(db_path: &Path, extra: &[(&str, &str)]) -> TestApp {
    start(test_config(db_path, extra), db_path).await
}

async fn start(config: Config, db_path: &Path) -> TestApp {
    let application = Application::build(config).await.expect("app builds");
    let address = format!("http://{}", application.local_addr());
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        application
            .run_until_stopped(async {
                let _ = stopped.await;
            })
            .await
            .expect("server runs");
    });
    let pool = open_pool(db_path).await;
    TestApp {
        address,
        client: reqwest::Client::new(),
        db_path: db_path.to_owned(),
        pool,
        stop: Some(stop),
        server: Some(server),
        _dir: None,
    }
}

/// A pool on a test database, for assertions on stored state.
/// A group-commit writer over `pool`, as the service runs one.
pub async fn writer(pool: &SqlitePool) -> billstream::store::group_commit::GroupCommit {
    billstream::store::group_commit::GroupCommit::start(
        pool,
        projections::WriteGate::new(),
        billstream::store::group_commit::GroupCommitSettings::default(),
    )
    .await
    .unwrap()
}

pub async fn open_pool(db_path: &Path) -> SqlitePool {
    let config = test_config(db_path, &[]);
    let pool = billstream::store::pool::connect(&config)
        .await
        .expect("db opens");
    billstream::store::pool::migrate(&pool)
        .await
        .expect("db migrates");
    pool
}

impl TestApp {
    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server stops cleanly");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_json(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request is sent")
    }

    pub async fn patch_json(&self, path: &str, body: &Value, token: &str) -> Response {
        self.client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request is sent")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request is sent")
    }

    /// GETs `path` and decodes the JSON body, whatever the status.
    pub async fn get_json(&self, path: &str, token: Option<&str>) -> Value {
        self.get(path, token).await.json().await.expect("json body")
    }

    /// Registers a customer and returns the 201 body (`token`, `customer`).
    pub async fn register(&self, email: &str, password: &str, name: &str) -> Value {
        let response = self
            .post_json(
                "/api/auth/register",
                &json!({"email": email, "password": password, "name": name}),
                None,
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "registration of {email}"
        );
        response.json().await.expect("json body")
    }

    /// Registers a customer and returns its token.
    pub async fn token_for(&self, email: &str) -> String {
        self.register(email, "correct horse battery", "Test Customer")
            .await["token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// Creates a payment intent and returns the 201 body.
    pub async fn create_intent(&self, token: &str, amount: i64, currency: &str) -> Value {
        let response = self
            .post_json(
                "/api/payments/create-intent",
                &json!({"amount": amount, "currency": currency, "description": "Test order"}),
                Some(token),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "create-intent");
        response.json().await.expect("json body")
    }

    /// Creates a payment intent with no description (localstripe refuses descriptions).
    pub async fn create_intent_without_description(&self, token: &str, amount: i64) -> Value {
        let response = self
            .post_json(
                "/api/payments/create-intent",
                &json!({"amount": amount, "currency": "eur"}),
                Some(token),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "create-intent");
        response.json().await.expect("json body")
    }

    /// Decides the sandbox's 3-D Secure challenge of intent `intent_id`, as the customer would
    /// in their browser; returns the answer's status.
    pub async fn authenticate(&self, intent_id: &str, success: bool) -> StatusCode {
        self.post_json(
            &format!("/sandbox/payment_intents/{intent_id}/authenticate"),
            &json!({"success": success}),
            None,
        )
        .await
        .status()
    }

    /// Confirms an intent with a payment method; returns status and body.
    pub async fn confirm(&self, token: &str, intent_id: &str, method: &str) -> (StatusCode, Value) {
        let response = self
            .post_json(
                "/api/payments/confirm",
                &json!({"payment_intent_id": intent_id, "payment_method": method}),
                Some(token),
            )
            .await;
        let status = response.status();
        (status, response.json().await.expect("json body"))
    }

    /// How many events the log holds, besides the mail delivery loop's `EmailSent` records:
    /// that loop appends them in the background, at its own pace, whatever a request did.
    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE aggregate_type <> 'MailMessage'")
            .fetch_one(&self.pool)
            .await
            .expect("count")
    }
}

/// Runs the `billstream` binary on database `db_path`, waiting without blocking the test's
/// runtime. The application under test runs on that runtime: blocked, it would hold its open
/// transactions (and SQLite's write lock) until the command gave up waiting for the lock, as a
/// replay beside a live app did under load.
pub async fn billstream(db_path: &Path, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_billstream"))
        .args(args)
        .env("DATABASE_URL", format!("sqlite://{}", db_path.display()))
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("the binary runs")
}

/// The JSON lines a successful `billstream` run printed.
pub fn json_lines(output: &std::process::Output) -> Vec<Value> {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// Asserts an error response: status, `error.code`, and (if given) `error.field`.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("error bodies are JSON");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}
