//! The shared headless Chromium.

use std::panic::AssertUnwindSafe;

use axum::response::Html;
use axum::routing::get;
use axum::Router;
use fantoccini::Locator;
use futures::FutureExt;

use crate::support::browser::{failure_files, with_browser};

/// Serves `page` at `/` on 127.0.0.1:0 (on the calling test's runtime); returns its URL.
async fn serve(page: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}/", listener.local_addr().expect("an address"));
    let app = Router::new().route("/", get(move || async move { Html(page) }));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn chromium_reads_an_element_of_a_page_served_by_a_local_axum_server() {
    let url =
        serve("<!doctype html><title>smoke</title><h1 id=greeting>Hello, billstream</h1>").await;
    with_browser(
        "support_smoke::browser::reads_an_element",
        1024,
        768,
        |client| async move {
            client.goto(&url).await?;
            let text = client.find(Locator::Id("greeting")).await?.text().await?;
            anyhow::ensure!(text == "Hello, billstream", "the heading reads {text:?}");
            let viewport = client
                .execute("return [window.innerWidth, window.innerHeight];", vec![])
                .await?;
            anyhow::ensure!(
                viewport == serde_json::json!([1024, 768]),
                "viewport {viewport}"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_failing_browser_test_leaves_a_screenshot_and_the_page_beside_it() {
    let name = "support_smoke::browser::deliberate_failure";
    let (png, html) = failure_files(name);
    let _ = std::fs::remove_file(&png);
    let _ = std::fs::remove_file(&html);
    let url = serve("<!doctype html><p id=note>This page is left by a failing test</p>").await;

    let outcome = AssertUnwindSafe(with_browser(name, 640, 480, |client| async move {
        client.goto(&url).await?;
        anyhow::bail!("a deliberate failure")
    }))
    .catch_unwind()
    .await;

    let panic = outcome.expect_err("with_browser fails the test");
    let message = panic
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(message.contains("a deliberate failure"), "{message}");
    assert!(message.contains(&png.display().to_string()), "{message}");
    let screenshot = std::fs::read(&png).expect("the screenshot is saved");
    assert!(screenshot.starts_with(b"\x89PNG"), "a PNG");
    let page = std::fs::read_to_string(&html).expect("the page is saved");
    assert!(
        page.contains("This page is left by a failing test"),
        "{page}"
    );
    // Only real failures stay in target/browser-failures.
    std::fs::remove_file(png).expect("removed");
    std::fs::remove_file(html).expect("removed");
}
