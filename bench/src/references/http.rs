//! HTTP references under the same load generator as the service's endpoints: the service's
//! own `GET /health` (its router, middleware and runtime, no storage: the reference for every
//! HTTP-bound figure) and, as an extra, axum's hello world in a process of its own.

use std::time::{Duration, Instant};

use anyhow::bail;
use billstream_bench::load::{self, closed_loop, LoadReport};
use billstream_bench::service::free_port;

use crate::sizes::CONNECTIONS;

/// `total` GETs of `url` at [`CONNECTIONS`] connections; a non-2xx answer counts as failed.
pub async fn get_load(client: &reqwest::Client, url: &str, total: usize) -> LoadReport {
    closed_loop(CONNECTIONS, total, |_| async move {
        matches!(client.get(url).send().await, Ok(r) if r.status().is_success())
    })
    .await
}

/// The service's `GET /health` under load.
pub async fn health(client: &reqwest::Client, base: &str, total: usize) -> LoadReport {
    get_load(client, &format!("{base}/health"), total).await
}

/// Serves axum's hello world on `port`, on a runtime like billstream's (the `--serve-hello`
/// mode of this binary).
pub fn serve_hello(port: u16) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let app =
                axum::Router::new().route("/", axum::routing::get(|| async { "Hello, World!" }));
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
            axum::serve(listener, app).await?;
            Ok(())
        })
}

/// Starts the hello world in a child process and loads it.
pub async fn hello_world(total: usize) -> anyhow::Result<LoadReport> {
    let port = free_port()?;
    let mut server = std::process::Command::new(std::env::current_exe()?)
        .args(["--serve-hello", &port.to_string()])
        .spawn()?;
    let client = load::client(CONNECTIONS);
    let url = format!("http://127.0.0.1:{port}/");
    let deadline = Instant::now() + Duration::from_secs(10);
    while client.get(&url).send().await.is_err() {
        if Instant::now() > deadline {
            let _ = server.kill();
            let _ = server.wait();
            bail!("the hello-world server did not start");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let report = get_load(&client, &url, total).await;
    server.kill()?;
    server.wait()?;
    Ok(report)
}
