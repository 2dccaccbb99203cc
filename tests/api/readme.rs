//! The README's curl walk-through, run as written: a reader who copies it into a shell gets
//! what it promises. Its `localhost:8080` becomes the test server's address and its
//! `cargo run --release --` the `billstream` binary built for the tests, on the same database
//! (what the README's "another terminal" would run). `bash -e -o pipefail` stops at the first
//! step that fails, and the server's state afterwards is checked through the API.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::spawn_app;

const README: &str = include_str!("../../README.md");

/// The shell block under the README's "## A walk-through with curl" heading.
fn curl_walk_through() -> &'static str {
    let section = README
        .split_once("## A walk-through with curl")
        .expect("the README has its curl walk-through")
        .1;
    let block = section
        .split_once("```sh\n")
        .expect("the walk-through is a sh block")
        .1;
    block.split_once("\n```").expect("the sh block is closed").0
}

#[test]
fn the_walk_through_is_found_whole_in_the_readme() {
    let script = curl_walk_through();
    assert!(script.starts_with("# Register"), "{script}");
    assert!(script.contains("/api/payments/history"), "{script}");
    assert!(script.contains("cargo run --release -- replay"), "{script}");
}

#[tokio::test]
async fn the_readmes_curl_walk_through_runs_as_written() {
    let app = spawn_app().await;
    let host = app.address.trim_start_matches("http://");
    let script = curl_walk_through()
        .replace("localhost:8080", host)
        .replace("cargo run --release --", env!("CARGO_BIN_EXE_billstream"));

    let output = tokio::process::Command::new("bash")
        .args(["-e", "-o", "pipefail", "-c", &script])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", app.db_path.display()),
        )
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("bash runs (with curl and jq, which scripts/test installs)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the walk-through stopped:\n{stdout}\n{stderr}"
    );
    // The one error it shows on purpose is the short password's; no step was refused.
    assert!(!stdout.contains("unauthorized"), "{stdout}");
    assert_eq!(stdout.matches("\"error\"").count(), 1, "{stdout}");
    assert!(stdout.contains("\"requires_action\""), "{stdout}");
    assert!(stdout.contains("rebuilt customer_profiles"), "{stdout}");

    // Ada signs in with the password the walk-through set, and finds what it did.
    let login = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "ada@example.com", "password": "a new passphrase"}),
            None,
        )
        .await;
    assert_eq!(login.status(), StatusCode::OK);
    let login: Value = login.json().await.expect("json body");
    assert_eq!(login["customer"]["name"], "Ada King");
    let token = login["token"].as_str().expect("a token");
    let history = app
        .get_json("/api/payments/history?limit=10", Some(token))
        .await;
    let payments: Vec<_> = history["data"]
        .as_array()
        .expect("a page of payments")
        .iter()
        .map(|payment| {
            (
                payment["amount"].as_i64(),
                payment["status"].as_str(),
                payment["failure_code"].as_str(),
                payment["refunded_amount"].as_i64(),
            )
        })
        .collect();
    assert_eq!(
        payments,
        [
            (Some(4200), Some("succeeded"), None, Some(0)),
            (
                Some(1500),
                Some("failed"),
                Some("insufficient_funds"),
                Some(0)
            ),
            (Some(2000), Some("partially_refunded"), None, Some(500)),
        ]
    );
}
