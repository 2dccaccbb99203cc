//! A node's own file must hold a beginning of the shared log: one that went on alone (a SQLite
//! service that kept taking writes after `migrate-to`) is refused at start, before anything is
//! copied into it, and the operator is told what to do.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{spawn_app_on, TEST_JWT_SECRET};
use crate::support::postgres::fresh_database;

#[tokio::test]
async fn a_node_file_holding_events_the_shared_log_lacks_is_refused_at_start() {
    // Given a SQLite service's file with an account in it, and an empty shared log,
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("alone.db");
    let app = spawn_app_on(&file).await;
    app.register("alone@example.com", "correct horse battery", "Ada")
        .await;
    app.stop().await;
    let url = fresh_database().await;

    // when that file is given to a node of the shared log,
    let mut node = Command::new(env!("CARGO_BIN_EXE_billstream"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("NODE_DATABASE_URL", format!("sqlite://{}", file.display()))
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("JWT_SECRET", TEST_JWT_SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("billstream starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = node.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = node.kill();
            panic!("the node served a file that holds another log");
        }
        std::thread::sleep(Duration::from_millis(50));
    };

    // then it stops at once, saying why and what to do, without printing the URL.
    let output = node.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!status.success());
    assert!(said.contains("beyond the shared log"), "{said}");
    assert!(said.contains("migrate-to"), "{said}");
    assert!(!said.contains(&url), "{said}");
}
