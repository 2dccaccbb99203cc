//! Small steps the browser tests take: fill a field, click, wait for a path or a text, measure
//! the page, save a screenshot of the whole page.

use std::time::Duration;

use anyhow::{anyhow, Context};
use fantoccini::{elements::Element, Client, Locator};

/// How long a step may wait for the page.
const PATIENCE: Duration = Duration::from_secs(15);

/// The element `css` once it is there.
pub async fn element(client: &Client, css: &str) -> anyhow::Result<Element> {
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .with_context(|| format!("no element {css}"))
}

/// Types `text` into the field `css` (emptied first).
pub async fn fill(client: &Client, css: &str, text: &str) -> anyhow::Result<()> {
    let field = element(client, css).await?;
    field.clear().await?;
    field.send_keys(text).await?;
    Ok(())
}

/// Clicks `css`.
pub async fn click(client: &Client, css: &str) -> anyhow::Result<()> {
    element(client, css).await?.click().await?;
    Ok(())
}

/// Clicks the link or button whose text is `text`.
pub async fn click_text(client: &Client, text: &str) -> anyhow::Result<()> {
    let xpath = format!("//*[(self::a or self::button) and normalize-space(.)=\"{text}\"]");
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::XPath(&xpath))
        .await
        .with_context(|| format!("nothing to click reads {text:?}"))?
        .click()
        .await?;
    Ok(())
}

/// Waits until the page's path (and query) starts with `prefix`; returns it.
pub async fn wait_path(client: &Client, prefix: &str) -> anyhow::Result<String> {
    wait_path_where(client, prefix, |path| path.starts_with(prefix)).await
}

/// Waits until the page is an invoice's own page (`/invoices/{id}`), not the new-invoice form
/// it was submitted from: `wait_path("/invoices/")` would already match the form's
/// `/invoices/new` before the submission's redirect lands.
pub async fn wait_invoice_page(client: &Client) -> anyhow::Result<String> {
    wait_path_where(client, "/invoices/{id}", |path| {
        path.starts_with("/invoices/") && !path.starts_with("/invoices/new")
    })
    .await
}

/// Waits until the page's path (and query) satisfies `wanted`; returns it.
async fn wait_path_where(
    client: &Client,
    description: &str,
    wanted: impl Fn(&str) -> bool,
) -> anyhow::Result<String> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let url = client.current_url().await?;
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        if wanted(&path) {
            return Ok(path);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(anyhow!("the page is {path}, not {description}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the text of `css` contains `expected`; returns the text.
pub async fn wait_text(client: &Client, css: &str, expected: &str) -> anyhow::Result<String> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let text = match client.find(Locator::Css(css)).await {
            Ok(found) => found.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(expected) {
            return Ok(text);
        }
        if tokio::time::Instant::now() > deadline {
            return Err(anyhow!("{css} reads {text:?}, not {expected:?}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text of `css`.
pub async fn text(client: &Client, css: &str) -> anyhow::Result<String> {
    Ok(element(client, css).await?.text().await?)
}

/// Saves a screenshot of the whole page (not only the viewport) as `path`, `width` wide.
pub async fn save_full_page(
    client: &Client,
    path: &std::path::Path,
    width: u32,
) -> anyhow::Result<()> {
    let height = client
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await?
        .as_u64()
        .unwrap_or(900) as u32;
    client
        .set_window_size(width, height.clamp(600, 4000))
        .await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let png = client.screenshot().await?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, png)?;
    Ok(())
}
