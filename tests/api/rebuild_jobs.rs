//! `POST /api/admin/projections/{name}/rebuild` and `GET /api/admin/jobs/{id}`: a rebuild as a
//! background job, followed to its end while the service keeps taking writes, and never run
//! twice at once for one view, whichever process runs the other.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;

use crate::helpers::{assert_error, billstream, spawn_app_with, TestApp};
use crate::rebuilds::{dump_views, fresh_replay_of};

const OPERATOR: &str = "operator-token-for-rebuild-jobs";

async fn operator_post(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(OPERATOR)
        .send()
        .await
        .unwrap()
}

async fn job(app: &TestApp, status_url: &str) -> Value {
    let response = app.get(status_url, Some(OPERATOR)).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// True once `/ready` answers 200 within a second. Each write leaves the projector behind the
/// log for the moment between its commit and its catch-up, so a single 503 under writes says
/// nothing; a rebuild must not keep it red.
async fn ready_within_a_second(app: &TestApp) -> bool {
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        if app.get("/ready", None).await.status() == StatusCode::OK {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

#[tokio::test]
async fn a_rebuild_job_answers_202_with_a_status_url_runs_beside_writes_and_swaps_in_the_rebuilt_view(
) {
    let app = spawn_app_with(&[("OPERATOR_TOKEN", OPERATOR)]).await;
    let token = app.token_for("jobs@example.com").await;
    let mut payment_ids = Vec::new();
    for amount in 0..20 {
        let intent = app.create_intent(&token, 700 + amount, "eur").await;
        payment_ids.push(intent["payment_id"].as_str().unwrap().to_owned());
    }
    sqlx::query("UPDATE payments SET amount = 1 WHERE payment_id = ?")
        .bind(&payment_ids[0])
        .execute(&app.pool)
        .await
        .unwrap();

    // Hold the write lock so the job is certainly still running while it is looked at.
    let mut blocker = app.pool.acquire().await.unwrap().detach();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await
        .unwrap();
    let started = operator_post(&app, "/api/admin/projections/payments/rebuild").await;
    assert_eq!(started.status(), StatusCode::ACCEPTED);
    let location = started.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = started.json().await.unwrap();
    assert_eq!(body["status_url"], location.as_str());
    assert_eq!(body["projection"], "payments");
    assert_eq!(body["state"], "running");

    let again = operator_post(&app, "/api/admin/projections/payments/rebuild").await;
    assert_error(again, StatusCode::CONFLICT, "rebuild_running").await;
    assert_eq!(job(&app, &location).await["state"], "running");
    assert_eq!(app.get("/ready", None).await.status(), StatusCode::OK);
    sqlx::query("COMMIT").execute(&mut blocker).await.unwrap();
    blocker.close().await.unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (client, url, stop) = (
            app.client.clone(),
            app.url("/api/payments/create-intent"),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut writes = 0;
            while !stop.load(Ordering::Relaxed) {
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"amount": 900, "currency": "eur"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 201);
                writes += 1;
            }
            writes
        })
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = loop {
        let status = job(&app, &location).await;
        if status["state"] != "running" {
            break status;
        }
        assert!(
            ready_within_a_second(&app).await,
            "/ready stayed red during the rebuild"
        );
        assert!(Instant::now() < deadline, "the job never ended: {status}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    stop.store(true, Ordering::Relaxed);
    let writes = writer.await.unwrap();
    assert_eq!(done["state"], "succeeded", "{done}");
    assert!(done["result"]["events"].as_u64().unwrap() >= 21, "{done}");
    assert_eq!(done["position"], done["result"]["position"]);
    assert!(done["finished_at"].is_string());
    eprintln!("{writes} writes during the job; {done}");

    let amount: i64 = sqlx::query_scalar("SELECT amount FROM payments WHERE payment_id = ?")
        .bind(&payment_ids[0])
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(amount, 700, "the rebuild mends the tampered row");
    assert_eq!(dump_views(&app.pool).await, fresh_replay_of(&app).await);
    let health = job(&app, "/api/admin/projections").await;
    let payments = health["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|view| view["name"] == "payments")
        .unwrap()
        .clone();
    assert!(payments["rebuilt_at"].is_string(), "{payments}");
}

#[tokio::test]
async fn a_rebuild_of_no_view_or_of_an_unknown_job_is_a_404_and_needs_the_operator_token() {
    let app = spawn_app_with(&[("OPERATOR_TOKEN", OPERATOR)]).await;
    for name in ["ledger", "mailer"] {
        let response = operator_post(&app, &format!("/api/admin/projections/{name}/rebuild")).await;
        assert_error(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    for id in ["not-a-uuid", "6f1c2b8e-3c7d-4b1a-9d2e-1f2a3b4c5d6e"] {
        let response = app
            .get(&format!("/api/admin/jobs/{id}"), Some(OPERATOR))
            .await;
        assert_error(response, StatusCode::NOT_FOUND, "not_found").await;
    }
    let anonymous = app
        .client
        .post(app.url("/api/admin/projections/payments/rebuild"))
        .send()
        .await
        .unwrap();
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn a_view_rebuilt_by_another_process_is_not_rebuilt_twice_at_once() {
    let app = spawn_app_with(&[("OPERATOR_TOKEN", OPERATOR)]).await;
    let token = app.token_for("one-rebuild@example.com").await;
    app.create_intent(&token, 700, "eur").await;
    // Another process rebuilding `payments` holds this lock for as long as it runs (an open
    // file of its own: the lock conflicts with every other open of the file, here included).
    let lock_path = format!("{}.rebuild-payments.lock", app.db_path.display());
    let other = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap();
    other.try_lock().unwrap();

    let refused = operator_post(&app, "/api/admin/projections/payments/rebuild").await;
    let body = assert_error(refused, StatusCode::CONFLICT, "rebuild_running").await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("payments"),
        "{body}"
    );
    let cli = billstream(&app.db_path, &["replay", "--projection", "payments"]).await;
    assert!(!cli.status.success());
    let stderr = String::from_utf8_lossy(&cli.stderr);
    assert!(
        stderr.contains("a rebuild of payments is running already"),
        "{stderr}"
    );
    // Another view is free meanwhile.
    let started = operator_post(&app, "/api/admin/projections/invoices/rebuild").await;
    assert_eq!(started.status(), StatusCode::ACCEPTED);

    drop(other);
    let cli = billstream(&app.db_path, &["replay", "--projection", "payments"]).await;
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let started = operator_post(&app, "/api/admin/projections/payments/rebuild").await;
    assert_eq!(started.status(), StatusCode::ACCEPTED);
}
