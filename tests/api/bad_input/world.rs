//! One server per test function, its fixture (the objects the paths name), and the checks
//! every answer must pass: a 2xx, or a 4xx with the error body after which nothing changed.

use super::*;

/// One request's body and headers.
#[derive(Debug, Clone)]
pub(super) struct Body {
    pub(super) bytes: Vec<u8>,
    pub(super) content_type: Option<String>,
}

impl Body {
    pub(super) fn json(value: &Value) -> Self {
        Self {
            bytes: serde_json::to_vec(value).expect("values serialize"),
            content_type: Some("application/json".into()),
        }
    }
}

/// The objects the endpoints' paths name, made before the properties run.
pub(super) struct Fixture {
    pub(super) customer: String,
    pub(super) token: String,
    pub(super) payment: String,
    pub(super) fresh_intent: String,
    pub(super) pending_intent: String,
    pub(super) subscription_to_cancel: String,
    pub(super) subscription: String,
    pub(super) draft_invoice: String,
    pub(super) open_invoice: String,
    pub(super) invoice_to_void: String,
}

/// A server, its fixture, and how many requests the properties sent it.
pub(super) struct World {
    pub(super) app: TestApp,
    /// A client that opens a connection per request. The server answers some refusals (415,
    /// 401, the actions that read no body) without reading the body, then closes the
    /// connection without saying so (no `Connection: close`); a pooled connection can then
    /// fail the next request with a broken pipe, about once in a few thousand requests here.
    pub(super) client: reqwest::Client,
    pub(super) fixture: Fixture,
    pub(super) requests: AtomicUsize,
    /// How often each endpoint answered each status (printed with `BAD_INPUT_STATS=1`).
    pub(super) statuses: Mutex<BTreeMap<(&'static str, u16), usize>>,
    /// Set when a request got no answer: the server may be stuck for good, so the remaining
    /// cases (and shrinking) fail at once instead of waiting on it.
    pub(super) stuck: Mutex<Option<String>>,
}

pub(super) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// A closed loopback port: the sandbox's own webhooks go nowhere, so nothing but the requests
/// under test writes events.
pub(super) fn nowhere() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    format!("http://127.0.0.1:{port}/")
}

pub(super) async fn call(app: &TestApp, path: &str, body: Value, token: &str) -> Value {
    let response = app.post_json(path, &body, Some(token)).await;
    let status = response.status();
    let body: Value = response.json().await.expect("json body");
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

pub(super) fn id_of(body: &Value, field: &str) -> String {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {body}"))
        .to_owned()
}

impl World {
    pub(super) async fn start() -> Self {
        let app = spawn_app_with(&[
            ("OPERATOR_TOKEN", OPERATOR_TOKEN),
            ("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET),
            ("SANDBOX_WEBHOOK_URL", &nowhere()),
        ])
        .await;
        let session = app
            .register("bad-input@example.com", PASSWORD, "Ada Lovelace")
            .await;
        let token = id_of(&session, "token");
        let customer = id_of(&session["customer"], "id");

        let paid = app.create_intent(&token, 5_000_000, "eur").await;
        let (status, _) = app
            .confirm(&token, &id_of(&paid, "payment_intent_id"), "pm_card_visa")
            .await;
        assert_eq!(status, StatusCode::OK);
        let fresh = app.create_intent(&token, 1_000, "eur").await;
        let pending = app.create_intent(&token, 2_000, "eur").await;
        let pending_intent = id_of(&pending, "payment_intent_id");
        let (status, _) = app
            .confirm(&token, &pending_intent, "pm_card_authenticationRequired")
            .await;
        assert_eq!(status, StatusCode::OK);

        let subscribe = |plan: &'static str| {
            call(
                &app,
                "/api/subscriptions",
                json!({"plan": plan, "payment_method": "pm_card_visa"}),
                &token,
            )
        };
        let subscription_to_cancel = id_of(&subscribe("particulier").await, "subscription_id");
        let subscription = id_of(&subscribe("professionnel").await, "subscription_id");

        let invoice = |finalize: bool| {
            call(
                &app,
                "/api/invoices/create",
                json!({"currency": "eur", "finalize": finalize,
                       "items": [{"description": "Consulting", "quantity": 2, "unit_amount": 10_000}]}),
                &token,
            )
        };
        let draft_invoice = id_of(&invoice(false).await, "invoice_id");
        let open_invoice = id_of(&invoice(true).await, "invoice_id");
        // Only a draft can be voided.
        let invoice_to_void = id_of(&invoice(false).await, "invoice_id");

        Self {
            app,
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .expect("a client"),
            fixture: Fixture {
                customer,
                token,
                payment: id_of(&paid, "payment_id"),
                fresh_intent: id_of(&fresh, "payment_intent_id"),
                pending_intent,
                subscription_to_cancel,
                subscription,
                draft_invoice,
                open_invoice,
                invoice_to_void,
            },
            requests: AtomicUsize::new(0),
            statuses: Mutex::default(),
            stuck: Mutex::default(),
        }
    }

    pub(super) fn real_id(&self, id: Id) -> &str {
        let fixture = &self.fixture;
        match id {
            Id::None => "",
            Id::Customer => &fixture.customer,
            Id::Payment => &fixture.payment,
            Id::PendingIntent => &fixture.pending_intent,
            Id::SubscriptionToCancel => &fixture.subscription_to_cancel,
            Id::Subscription => &fixture.subscription,
            Id::DraftInvoice => &fixture.draft_invoice,
            Id::OpenInvoice => &fixture.open_invoice,
            Id::InvoiceToVoid => &fixture.invoice_to_void,
        }
    }

    /// How many events and webhook deliveries are stored.
    pub(super) async fn stored(&self) -> (i64, i64) {
        let inbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stripe_inbox")
            .fetch_one(&self.app.pool)
            .await
            .expect("count");
        (self.app.event_count().await, inbox)
    }

    /// Sends `body` to `endpoint` and checks the answer: a success, or a 4xx with the API's
    /// error body that stored nothing.
    pub(super) async fn probe(
        &self,
        endpoint: &Endpoint,
        id: &PathId,
        body: &Body,
        signing: &Signing,
    ) -> Result<(), TestCaseError> {
        let path = match id {
            PathId::Real => endpoint.path.replace("{id}", self.real_id(endpoint.id)),
            PathId::Raw(bytes) => endpoint.path.replace("{id}", &percent_encoded(bytes)),
        };
        let method = Method::from_bytes(endpoint.method.as_bytes()).expect("a method");
        let mut request = self
            .client
            .request(method, self.app.url(&path))
            .timeout(Duration::from_secs(10))
            .body(body.bytes.clone());
        if let Some(content_type) = &body.content_type {
            request = request.header(CONTENT_TYPE, content_type.as_str());
        }
        match endpoint.caller {
            Caller::Anyone => {}
            Caller::Customer => request = request.bearer_auth(&self.fixture.token),
            Caller::Operator => request = request.bearer_auth(OPERATOR_TOKEN),
            Caller::Stripe => {
                let header = match signing {
                    Signing::Valid => {
                        let now = chrono::Utc::now().timestamp();
                        HeaderValue::from_str(&signature_header(WEBHOOK_SECRET, now, &body.bytes))
                            .ok()
                    }
                    Signing::Absent => None,
                    Signing::Header(header) => HeaderValue::from_bytes(header).ok(),
                };
                if let Some(header) = header {
                    request = request.header("Stripe-Signature", header);
                }
            }
        }

        let sent = String::from_utf8_lossy(&body.bytes);
        let sent: String = sent.chars().take(600).collect();
        if let Some(stuck) = self.stuck.lock().expect("not poisoned").as_ref() {
            return Err(TestCaseError::fail(stuck.clone()));
        }
        let failed = |error: reqwest::Error| {
            let message = format!(
                "{} {path} got no answer{}: {error:?}\n  sent: {sent}",
                endpoint.method,
                if error.is_timeout() { " in 10 s" } else { "" },
            );
            *self.stuck.lock().expect("not poisoned") = Some(message.clone());
            TestCaseError::fail(message)
        };
        let before = self.stored().await;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        *self
            .statuses
            .lock()
            .expect("not poisoned")
            .entry((endpoint.path, status.as_u16()))
            .or_default() += 1;
        let answer = response.bytes().await.map_err(failed)?;
        let shown = String::from_utf8_lossy(&answer);
        prop_assert!(
            status.is_success() || status.is_client_error(),
            "{} {} answered {}: {}\n  sent ({:?}): {}",
            endpoint.method,
            path,
            status,
            shown,
            body.content_type,
            sent
        );
        if status.is_client_error() {
            let error: Value = serde_json::from_slice(&answer).map_err(|_| {
                TestCaseError::fail(format!("{path}: {status} with a non-JSON body: {shown}"))
            })?;
            prop_assert!(
                is_error_body(&error),
                "{} {}: {} body is not {{\"error\":{{\"code\",\"message\"}}}}: {}",
                endpoint.method,
                path,
                status,
                error
            );
            let after = self.stored().await;
            prop_assert_eq!(
                before,
                after,
                "{} {} refused ({}, {}) but stored (events, deliveries): {}",
                endpoint.method,
                path,
                status,
                error["error"]["code"],
                sent
            );
        }
        Ok(())
    }
}

/// `{"error":{"code": string, "message": non-empty string[, "field": string]}}`, nothing else.
pub(super) fn is_error_body(body: &Value) -> bool {
    let Some(top) = body.as_object() else {
        return false;
    };
    let Some(error) = top.get("error").and_then(Value::as_object) else {
        return false;
    };
    top.len() == 1
        && error.get("code").is_some_and(|code| {
            code.as_str()
                .is_some_and(|code| !code.is_empty() && code.is_ascii())
        })
        && error
            .get("message")
            .and_then(Value::as_str)
            .is_some_and(|message| !message.is_empty())
        && error.get("field").is_none_or(Value::is_string)
        && error
            .keys()
            .all(|key| ["code", "message", "field"].contains(&key.as_str()))
}
