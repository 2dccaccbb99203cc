//! The `billstream` binary's operator commands, run as a real process.

use projections::CustomerProfiles;
use serde_json::{json, Value};

use crate::helpers::{billstream, spawn_quiet_app};

#[tokio::test]
async fn migrate_creates_a_database_from_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db_path = dir.path().join("fresh.db");
    let output = billstream(&db_path, &["migrate"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(db_path.exists());
}

#[tokio::test]
async fn replay_on_a_populated_database_leaves_every_profile_identical() {
    let app = spawn_quiet_app().await;
    for i in 0..3 {
        let token = app.token_for(&format!("cli{i}@example.com")).await;
        let patched = app
            .patch_json(
                "/api/auth/profile",
                &json!({"phone": format!("+33 6 00 00 00 0{i}")}),
                &token,
            )
            .await;
        assert_eq!(patched.status(), 200);
    }
    let before = CustomerProfiles::all(&app.pool).await.unwrap();
    let output = billstream(&app.db_path, &["replay"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("from 6 events"), "{stdout}");
    assert!(stdout.contains("events/s"), "{stdout}");
    assert_eq!(CustomerProfiles::all(&app.pool).await.unwrap(), before);
}

#[tokio::test]
async fn events_prints_json_lines_in_commit_order_without_password_hashes() {
    let app = spawn_quiet_app().await;
    let first = app
        .register("one@example.com", "correct horse", "One")
        .await;
    app.register("two@example.com", "correct horse", "Two")
        .await;
    let first_id = first["customer"]["id"].as_str().unwrap();

    let output = billstream(&app.db_path, &["events"]).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["position"], 1);
    assert_eq!(lines[1]["position"], 2);
    assert_eq!(lines[0]["aggregate_id"], first_id);
    for key in [
        "aggregate_type",
        "sequence",
        "event_type",
        "event_version",
        "payload",
        "recorded_at",
    ] {
        assert!(lines[0].get(key).is_some(), "{key} missing");
    }
    assert_eq!(lines[0]["event_type"], "CustomerRegistered");
    assert!(!String::from_utf8_lossy(&output.stdout).contains("$2b$"));

    let filtered = billstream(
        &app.db_path,
        &[
            "events",
            "--aggregate-id",
            first_id,
            "--after",
            "0",
            "--limit",
            "5",
        ],
    )
    .await;
    let filtered_lines = String::from_utf8_lossy(&filtered.stdout).lines().count();
    assert_eq!(filtered_lines, 1);
    let after = billstream(&app.db_path, &["events", "--after", "1"]).await;
    let after_lines: Vec<Value> = String::from_utf8_lossy(&after.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(after_lines.len(), 1);
    assert_eq!(after_lines[0]["position"], 2);
}
