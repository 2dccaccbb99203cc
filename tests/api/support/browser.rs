//! ONE headless Chromium per test run, driven through ONE chromedriver with `fantoccini`, and
//! lent to one browser test at a time by `with_browser`.
//!
//! Every `#[tokio::test]` runs on a runtime of its own that dies with the test, and a fantoccini
//! client's session task lives on the runtime that created it. So the client is created on a
//! dedicated global runtime (never dropped): its session task and HTTP connections live there,
//! and each test talks to it through the client's channel from its own runtime. A lock makes
//! the browser tests take turns, so they never share page state.

use std::future::Future;
use std::os::unix::process::CommandExt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use futures::FutureExt;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tokio::runtime::Runtime;
use tokio::sync::{Mutex, OnceCell};

use super::processes::{
    free_port, orphaned_dirs, owned_name, repo_dir, running_as_root, scratch_dir, shell_quote,
    spawn_watchdog,
};

/// How long one browser test may take before it fails (with a screenshot) instead of hanging.
const TEST_TIME_LIMIT: Duration = Duration::from_secs(120);

/// Chromium's flags for a headless browser on a closed network: without the background
/// networking ones it keeps trying to reach Google's services, which this network refuses.
const CHROMIUM_FLAGS: &[&str] = &[
    "--headless=new",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--lang=en-US",
];

/// Runs `f` with the shared browser, at `width`×`height` CSS pixels of viewport, cookies cleared.
///
/// When `f` returns an error, panics, or takes longer than two minutes, the page's screenshot
/// and HTML are saved as `target/browser-failures/<test_name>.png` and `.html`, and the test
/// fails with `f`'s error and those paths. Panics when Chromium or chromedriver is missing.
pub async fn with_browser<F, Fut>(test_name: &str, width: u32, height: u32, f: F)
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    static TURN: Mutex<()> = Mutex::const_new(());
    let client = browser().await;
    let _turn = TURN.lock().await;
    reset(client, width, height)
        .await
        .unwrap_or_else(|error| panic!("the shared browser could not be reset: {error:#}"));
    let run = AssertUnwindSafe(async { f(client.clone()).await }).catch_unwind();
    let failure = match tokio::time::timeout(TEST_TIME_LIMIT, run).await {
        Ok(Ok(Ok(()))) => None,
        Ok(Ok(Err(error))) => Some(format!("{error:#}")),
        Ok(Err(panic)) => Some(panic_message(panic.as_ref())),
        Err(_) => Some(format!("it took longer than {TEST_TIME_LIMIT:?}")),
    };
    if let Some(failure) = failure {
        let evidence = save_evidence(client, test_name).await;
        let _ = clear_cookies(client).await;
        panic!("browser test {test_name} failed: {failure}\n{evidence}");
    }
    let _ = clear_cookies(client).await;
}

/// Where a failed browser test's screenshot and HTML go.
pub fn failure_files(test_name: &str) -> (PathBuf, PathBuf) {
    let dir = repo_dir().join("target/browser-failures");
    let stem = test_name.replace('/', "_");
    (
        dir.join(format!("{stem}.png")),
        dir.join(format!("{stem}.html")),
    )
}

/// The browser of the run: the client, and chromedriver's process kept for as long.
struct Browser {
    client: Client,
    _chromedriver: std::process::Child,
}

/// The shared client, started by the first browser test of the run.
async fn browser() -> &'static Client {
    static BROWSER: OnceCell<Result<Browser, String>> = OnceCell::const_new();
    match BROWSER.get_or_init(start).await {
        Ok(browser) => &browser.client,
        Err(message) => panic!("{message}"),
    }
}

async fn start() -> Result<Browser, String> {
    let (chromedriver, driver) = start_chromedriver()?;
    // Spawned on the global runtime, so fantoccini's session task lives there.
    let client = runtime()
        .spawn(connect(driver))
        .await
        .map_err(|error| format!("the browser session task failed: {error}"))??;
    Ok(Browser {
        client,
        _chromedriver: chromedriver,
    })
}

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("browser-session")
            .enable_all()
            .build()
            .expect("the browser runtime starts")
    })
}

/// A started chromedriver.
struct Driver {
    port: u16,
    /// Its scratch directory: its log and Chromium's profile.
    dir: PathBuf,
    chromium: PathBuf,
}

/// Starts chromedriver on a free loopback port, with a watchdog that kills it and its Chromium
/// (one process group) and removes their scratch directory when the test process ends.
fn start_chromedriver() -> Result<(std::process::Child, Driver), String> {
    let chromedriver = find_program("BILLSTREAM_CHROMEDRIVER", &["chromedriver"])?;
    let chromium = find_program(
        "BILLSTREAM_CHROMIUM",
        // Debian's real binary first: /usr/bin/chromium is a launcher script adding flags.
        &["/usr/lib/chromium/chromium", "chromium", "chromium-browser"],
    )?;
    for stale in orphaned_dirs(&scratch_dir(), "chrome") {
        let _ = std::fs::remove_dir_all(stale);
    }
    let dir = scratch_dir().join(owned_name("chrome"));
    std::fs::create_dir_all(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    let port = free_port();
    let process = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .arg(format!(
            "--log-path={}",
            dir.join("chromedriver.log").display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|error| format!("{}: {error}", chromedriver.display()))?;
    let group = process.id();
    spawn_watchdog(&format!(
        "kill -TERM -{group} 2>/dev/null; sleep 1; kill -KILL -{group} 2>/dev/null; rm -rf {dir}",
        dir = shell_quote(&dir.to_string_lossy())
    ));
    Ok((
        process,
        Driver {
            port,
            dir,
            chromium,
        },
    ))
}

/// Waits for chromedriver to listen, then opens the Chromium session.
async fn connect(driver: Driver) -> Result<Client, String> {
    let Driver {
        port,
        dir,
        chromium,
    } = driver;
    let mut listening = false;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            listening = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = || std::fs::read_to_string(dir.join("chromedriver.log")).unwrap_or_default();
    if !listening {
        return Err(format!(
            "chromedriver did not listen on port {port}:\n{}",
            log()
        ));
    }
    let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|&flag| flag.to_owned()).collect();
    args.push(format!("--user-data-dir={}", dir.join("profile").display()));
    if running_as_root() {
        args.push("--no-sandbox".to_owned());
    }
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {"binary": chromium, "args": args},
        // Well under the test's own limit, so a stuck page still leaves time for a screenshot.
        "timeouts": {"script": 30_000, "pageLoad": 30_000, "implicit": 0},
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!("a JSON object literal")
    };
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .map_err(|error| {
            format!(
                "no Chromium session through chromedriver: {error}\n{}",
                log()
            )
        })
}

/// `$variable`, else the first of `candidates` that exists (absolute) or is on the PATH.
fn find_program(variable: &str, candidates: &[&str]) -> Result<PathBuf, String> {
    if let Some(program) = std::env::var_os(variable) {
        return Ok(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    candidates
        .iter()
        .flat_map(|candidate| {
            let candidate = Path::new(candidate);
            if candidate.is_absolute() {
                vec![candidate.to_owned()]
            } else {
                std::env::split_paths(&path)
                    .map(|dir| dir.join(candidate))
                    .collect()
            }
        })
        .find(|program| program.is_file())
        .ok_or_else(|| {
            format!(
                "{} not found: the browser tests need Debian's `chromium` and `chromium-driver` \
                 (apt-get install chromium chromium-driver), or {variable} set; scripts/test \
                 installs them",
                candidates.join(" / ")
            )
        })
}

/// A blank page, no cookies, and a viewport of exactly `width`×`height`.
async fn reset(client: &Client, width: u32, height: u32) -> anyhow::Result<()> {
    client.goto("about:blank").await?;
    clear_cookies(client).await?;
    client.set_window_size(width, height).await?;
    // The window's size includes whatever the browser draws around the page: measure the
    // viewport and grow the window by the difference.
    let inner = client
        .execute("return [window.innerWidth, window.innerHeight];", vec![])
        .await?;
    let measured = |index: usize| inner[index].as_u64().unwrap_or(0) as u32;
    let (inner_width, inner_height) = (measured(0), measured(1));
    if (inner_width, inner_height) != (width, height) {
        client
            .set_window_size(
                (2 * width).saturating_sub(inner_width),
                (2 * height).saturating_sub(inner_height),
            )
            .await?;
    }
    Ok(())
}

/// Chromium's cookies for every site (WebDriver's own command only clears the current page's).
async fn clear_cookies(client: &Client) -> anyhow::Result<()> {
    client
        .issue_cmd(ChromeDevTools {
            cmd: "Network.clearBrowserCookies",
        })
        .await?;
    Ok(())
}

/// A Chrome DevTools command through chromedriver's `goog/cdp/execute` extension.
#[derive(Debug)]
struct ChromeDevTools {
    cmd: &'static str,
}

impl WebDriverCompatibleCommand for ChromeDevTools {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"cmd": self.cmd, "params": {}});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// Saves the screenshot and HTML of the page a failed test left; says where (or why not).
async fn save_evidence(client: &Client, test_name: &str) -> String {
    let (png, html) = failure_files(test_name);
    if let Some(dir) = png.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let mut saved = Vec::new();
    match client.screenshot().await {
        Ok(bytes) => match std::fs::write(&png, bytes) {
            Ok(()) => saved.push(format!("screenshot: {}", png.display())),
            Err(error) => saved.push(format!("screenshot not saved: {error}")),
        },
        Err(error) => saved.push(format!("no screenshot: {error}")),
    }
    match client.source().await {
        Ok(source) => match std::fs::write(&html, source) {
            Ok(()) => saved.push(format!("page: {}", html.display())),
            Err(error) => saved.push(format!("page not saved: {error}")),
        },
        Err(error) => saved.push(format!("no page source: {error}")),
    }
    saved.join("\n")
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
        .unwrap_or_else(|| "a panic".to_owned())
}
