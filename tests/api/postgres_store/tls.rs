//! PostgreSQL over TLS, as managed databases require it: `sslmode` in the URL is honoured by
//! the node's pool and by `billstream migrate-to`; `verify-full` trusts the `sslrootcert` it is
//! given and refuses a server it cannot verify.

use billstream::store::postgres::{connect, PgSettings};
use sqlx::PgPool;

use crate::helpers::{billstream, spawn_quiet_app};
use crate::support::postgres::{certificate, fresh_database};

/// Whether this pool's connection is encrypted, as the server sees it.
async fn encrypted(pool: &PgPool) -> bool {
    sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(pool)
        .await
        .expect("pg_stat_ssl answers")
}

/// `url` with `parameters` as its query string.
fn with(url: &str, parameters: &str) -> String {
    format!("{url}?{parameters}")
}

#[tokio::test]
async fn sslmode_in_the_url_decides_whether_the_node_talks_over_tls() {
    // Given a database on a server that speaks TLS
    let url = fresh_database().await;
    let settings = PgSettings::default();
    // When a node connects with sslmode=require, and another with sslmode=disable
    let required = connect(&with(&url, "sslmode=require"), &settings)
        .await
        .expect("connects over TLS");
    let plain = connect(&with(&url, "sslmode=disable"), &settings)
        .await
        .expect("connects in clear");
    // Then the server sees the first encrypted and the second not
    assert!(encrypted(&required).await);
    assert!(!encrypted(&plain).await);
}

#[tokio::test]
async fn verify_full_trusts_the_given_root_certificate_and_refuses_a_server_it_cannot_verify() {
    // Given the certificate authority that signed the server's certificate
    let url = fresh_database().await;
    let root = certificate().await;
    let settings = PgSettings {
        acquire_timeout: std::time::Duration::from_secs(5),
        ..PgSettings::default()
    };
    // When a node verifies the server against it, and another against the public roots only
    let trusted = connect(
        &with(
            &url,
            &format!("sslmode=verify-full&sslrootcert={}", root.display()),
        ),
        &settings,
    )
    .await;
    let untrusted = connect(&with(&url, "sslmode=verify-full"), &settings).await;
    // Then the first is encrypted and the second is refused, saying it is about the certificate
    assert!(encrypted(&trusted.expect("verifies the server")).await);
    let error = untrusted
        .expect_err("a server signed by an unknown authority is not trusted")
        .to_string();
    assert!(
        error.to_lowercase().contains("certificate") || error.to_lowercase().contains("tls"),
        "{error}"
    );
}

#[tokio::test]
async fn migrate_to_copies_the_log_over_a_verified_tls_connection() {
    // Given a SQLite server with a customer, and a target reachable over verified TLS
    let app = spawn_quiet_app().await;
    app.register("tls@example.com", "correct horse", "Over TLS")
        .await;
    let root = certificate().await;
    let url = fresh_database().await;
    let target = with(
        &url,
        &format!("sslmode=verify-full&sslrootcert={}", root.display()),
    );
    // When its log is copied there
    let output = billstream(&app.db_path, &["migrate-to", "--to", &target]).await;
    // Then the copy succeeds and the customer's claim is in PostgreSQL
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let pool = connect(&url, &PgSettings::default())
        .await
        .expect("connects");
    let emails: Vec<String> = sqlx::query_scalar("SELECT email FROM customer_emails")
        .fetch_all(&pool)
        .await
        .expect("the claims");
    assert_eq!(emails, ["tls@example.com"]);
}
