//! The books as of any date: `billstream snapshot --as-of` writes the views as they stood at a
//! past position into a new file, and `GET /api/admin/stats?as_of=` answers the figures then.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::SqlitePool;

use crate::helpers::{assert_error, billstream, spawn_app_with, TestApp};
use crate::rebuilds::{dump_views, dump_views_in};

const OPERATOR: &str = "operator-token-for-snapshot-tests";

/// A payment of `amount` that succeeded, then a refund of `refund` of it (if any).
async fn pay(app: &TestApp, token: &str, amount: i64, refund: Option<i64>) {
    let intent = app.create_intent(token, amount, "eur").await;
    let (status, body) = app
        .confirm(
            token,
            intent["payment_intent_id"].as_str().unwrap(),
            "pm_card_visa",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    if let Some(refund) = refund {
        let response = app
            .post_json(
                &format!(
                    "/api/payments/{}/refund",
                    intent["payment_id"].as_str().unwrap()
                ),
                &json!({"amount": refund}),
                Some(token),
            )
            .await;
        assert!(response.status().is_success(), "refund");
    }
}

async fn stats(app: &TestApp, query: &str) -> reqwest::Response {
    app.get(&format!("/api/admin/stats{query}"), Some(OPERATOR))
        .await
}

async fn snapshot_views(path: &std::path::Path) -> Vec<(String, Vec<String>)> {
    let pool = SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let views = dump_views(&pool).await;
    pool.close().await;
    views
}

#[tokio::test]
async fn a_snapshot_as_of_a_past_position_equals_the_views_read_at_that_position() {
    let app = spawn_app_with(&[("OPERATOR_TOKEN", OPERATOR)]).await;
    let token = app.token_for("books@example.com").await;
    pay(&app, &token, 2_000, None).await;
    pay(&app, &token, 3_000, Some(500)).await;
    // The views and the position they stand at, read together.
    let mut conn = app.pool.acquire().await.unwrap();
    sqlx::query("BEGIN").execute(&mut *conn).await.unwrap();
    let position: i64 = sqlx::query_scalar(
        "SELECT position FROM projection_checkpoints WHERE projection = 'payments'",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    let then = dump_views_in(&mut conn, &app.pool).await;
    sqlx::query("COMMIT").execute(&mut *conn).await.unwrap();
    drop(conn);

    pay(&app, &token, 4_000, Some(4_000)).await;
    app.token_for("later@example.com").await;
    assert_ne!(dump_views(&app.pool).await, then);

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("books.db");
    let as_of = position.to_string();
    let args = [
        "snapshot",
        "--as-of",
        &as_of,
        "--out",
        out.to_str().unwrap(),
    ];
    let output = billstream(&app.db_path, &args).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(&format!("wrote the views as of position {position} (")),
        "{stdout}"
    );
    assert_eq!(snapshot_views(&out).await, then);

    let again = billstream(&app.db_path, &args).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let before_anything = dir.path().join("empty.db");
    let output = billstream(
        &app.db_path,
        &[
            "snapshot",
            "--as-of",
            "2000-01-01T00:00:00Z",
            "--out",
            before_anything.to_str().unwrap(),
        ],
    )
    .await;
    assert!(output.status.success());
    assert!(snapshot_views(&before_anything)
        .await
        .iter()
        .all(|(_, rows)| rows.is_empty()));
}

#[tokio::test]
async fn stats_as_of_a_past_time_equal_the_stats_read_then() {
    let app = spawn_app_with(&[("OPERATOR_TOKEN", OPERATOR)]).await;
    let token = app.token_for("figures@example.com").await;
    pay(&app, &token, 2_000, None).await;
    pay(&app, &token, 3_000, Some(500)).await;
    let response = stats(&app, "").await;
    assert_eq!(response.status(), StatusCode::OK);
    let then: Value = response.json().await.unwrap();
    // Events are stamped to the millisecond: leave a clear gap on both sides of `moment`.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let moment = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    tokio::time::sleep(Duration::from_millis(20)).await;

    pay(&app, &token, 4_000, Some(1_000)).await;
    let now: Value = stats(&app, "").await.json().await.unwrap();
    assert_ne!(now, then);

    let as_of = stats(&app, &format!("?as_of={moment}")).await;
    assert_eq!(as_of.status(), StatusCode::OK);
    assert_eq!(as_of.json::<Value>().await.unwrap(), then);

    let before_anything: Value = stats(&app, "?as_of=2000-01-01T00:00:00Z")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        before_anything,
        json!({"currencies": [], "subscriptions_by_status": {}, "new_customers_by_month": [],
               "churned_subscriptions_by_month": []})
    );
    let bad = stats(&app, "?as_of=yesterday").await;
    let body = assert_error(bad, StatusCode::BAD_REQUEST, "invalid_query").await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("as_of: "));
}
