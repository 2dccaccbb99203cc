//! The portal's browser tests run against the real `billstream` binary, started once per test
//! run on a free loopback port over a fresh database and shared by those tests (each signs up
//! its own customer, so they stay independent). A watchdog stops it when the run ends.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::sync::OnceCell;

use crate::helpers::TEST_JWT_SECRET;
use crate::support::processes::{free_port, owned_name, scratch_dir, shell_quote, spawn_watchdog};

/// The operator token of the shared server (the console's browser test signs in with it).
pub const OPERATOR_TOKEN: &str = "portal-console-operator-token";

/// The shared server: its base URL (`http://127.0.0.1:PORT`).
pub async fn portal_url() -> &'static str {
    // The process handle is kept for the whole run: the server outlives every test, and the
    // watchdog, not a drop, ends it.
    static SERVER: OnceCell<(String, Child)> = OnceCell::const_new();
    &SERVER.get_or_init(start).await.0
}

async fn start() -> (String, Child) {
    let dir = scratch_dir().join(owned_name("portal"));
    std::fs::create_dir_all(&dir).expect("the portal server's directory");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_billstream"))
        .arg("serve")
        // Its own directory: no developer's `.env` is read.
        .current_dir(&dir)
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("portal.db").display()),
        )
        .env("DATABASE_SYNCHRONOUS", "normal")
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", TEST_JWT_SECRET)
        .env("BCRYPT_COST", "4")
        // Every browser test talks from 127.0.0.1; the limits are tried by tests/api/abuse.rs.
        .env("RATE_LIMITS", "off")
        .env("OPERATOR_TOKEN", OPERATOR_TOKEN)
        .env("RUST_LOG", "warn")
        .env_remove("STRIPE_SECRET_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the billstream binary starts");
    spawn_watchdog(&format!(
        "kill -TERM {pid} 2>/dev/null; sleep 1; kill -KILL {pid} 2>/dev/null; rm -rf {dir}",
        pid = child.id(),
        dir = shell_quote(&dir.to_string_lossy())
    ));
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..400 {
        if let Ok(response) = client.get(format!("{url}/ready")).send().await {
            if response.status().is_success() {
                return (url, child);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Reaped here rather than left to the watchdog: the run goes on without this server.
    let _ = child.kill();
    let _ = child.wait();
    panic!("billstream did not become ready on port {port}");
}
