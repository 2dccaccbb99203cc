//! Slow clients cannot hold the server: connections that never finish their headers are
//! dropped after `REQUEST_HEADER_TIMEOUT` and meanwhile leave `/health` answering; a body that
//! does not arrive within `REQUEST_BODY_TIMEOUT` is answered 408 with the error body.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{spawn_app_with, TestApp};

fn host(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

#[tokio::test]
async fn half_sent_requests_leave_health_answering_and_are_dropped() {
    let app = spawn_app_with(&[("REQUEST_HEADER_TIMEOUT", "1")]).await;
    let mut stalled = Vec::new();
    for _ in 0..200 {
        let mut stream = TcpStream::connect(host(&app)).await.unwrap();
        stream
            .write_all(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-")
            .await
            .unwrap();
        stalled.push(stream);
    }
    let started = Instant::now();
    let health = app.get("/health", None).await;
    assert_eq!(health.status(), StatusCode::OK);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    // Each stalled connection is closed by the server once the header timeout passes.
    for mut stream in stalled.into_iter().take(20) {
        let mut rest = Vec::new();
        // Closed cleanly or reset: either ends the read; only a connection kept open would not.
        let _closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
            .await
            .expect("the server closes a stalled connection");
    }
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_answered_408() {
    let app = spawn_app_with(&[("REQUEST_BODY_TIMEOUT", "1")]).await;
    let mut stream = TcpStream::connect(host(&app)).await.unwrap();
    stream
        .write_all(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
              Content-Length: 100\r\n\r\n{\"email\":",
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("answered within the body timeout")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("x-content-type-options: nosniff"),
        "{answer}"
    );
}
