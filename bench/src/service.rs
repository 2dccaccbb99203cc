//! The service under test: billstream's own binary, started as a child process on a loopback
//! port with a database of its own, exactly as an operator runs it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// The webhook signing secret every harness run configures.
pub const WEBHOOK_SECRET: &str = "whsec_bench_harness_not_a_real_secret";
/// The operator token every harness run configures.
pub const OPERATOR_TOKEN: &str = "bench-operator-token-0123456789";

/// Builds billstream's binary in the profile this harness was built with and returns its path.
///
/// `BILLSTREAM_BINARY=PATH` names an already built binary instead: CI passes the one its test
/// build made, because `cargo build -p billstream` alone resolves the dependencies' features
/// differently from the workspace's test build and would recompile much of the tree.
pub fn build_service_binary() -> anyhow::Result<PathBuf> {
    if let Some(binary) = std::env::var_os("BILLSTREAM_BINARY") {
        let binary = PathBuf::from(binary);
        if !binary.is_file() {
            bail!("BILLSTREAM_BINARY={} is not a file", binary.display());
        }
        return Ok(binary);
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.args([
        "build",
        "--quiet",
        "-p",
        "billstream",
        "--bin",
        "billstream",
    ]);
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    let status = command
        .current_dir(workspace_root())
        .status()
        .context("cannot run cargo")?;
    if !status.success() {
        bail!("building billstream failed");
    }
    let exe = std::env::current_exe()?;
    Ok(exe
        .parent()
        .context("the harness binary has no directory")?
        .join("billstream"))
}

/// The repository's root (the harness lives in `bench/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ has a parent")
        .to_path_buf()
}

/// A free loopback port (bound then released; good enough on a quiet machine).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A running billstream.
pub struct Service {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
}

/// How to start one.
#[derive(Clone)]
pub struct ServiceSpec {
    pub binary: PathBuf,
    /// The node's SQLite file: everything, or — with `shared_log` — its copy of the log, its
    /// views and the rest of its own state.
    pub database: PathBuf,
    /// A PostgreSQL database holding the event log shared by the nodes (`DATABASE_URL`).
    pub shared_log: Option<String>,
    pub port: u16,
    pub bcrypt_cost: u32,
    pub log_file: PathBuf,
}

impl ServiceSpec {
    /// `sqlite://` URL of the node's file.
    pub fn database_url(&self) -> String {
        format!("sqlite://{}", self.database.display())
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", self.database_url())
            .env("DATABASE_SYNCHRONOUS", "full")
            .env("BIND_ADDR", format!("127.0.0.1:{}", self.port))
            .env("BCRYPT_COST", self.bcrypt_cost.to_string())
            .env("JWT_SECRET", "bench-harness-jwt-secret-0123456789abcdef")
            .env("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
            .env("OPERATOR_TOKEN", OPERATOR_TOKEN)
            // The harness is one client at rates no person reaches (logins at twice bcrypt's
            // capacity): the per-address and per-account rate limits would refuse most of it.
            .env("RATE_LIMITS", "off")
            // The sandbox delivers none of its own webhooks: only the harness's events arrive.
            // (They went to a closed port until stop 30, and the retries of every refused one,
            // a write each, ran beside every phase.)
            .env("SANDBOX_WEBHOOK_URL", "off")
            .env("RUST_LOG", "warn")
            .env("LOG_FORMAT", "json");
        if let Some(shared_log) = &self.shared_log {
            command
                .env("DATABASE_URL", shared_log)
                .env("NODE_DATABASE_URL", self.database_url())
                // A node killed by the crash harness comes back under a new name; its claims
                // on webhooks expire after this, and then it (or another node) applies them.
                .env("WEBHOOK_CLAIM_TIMEOUT", "5s");
        }
        command
    }

    /// Runs a CLI subcommand against the same database and waits for it.
    pub fn cli(&self, args: &[&str]) -> anyhow::Result<std::process::Output> {
        let output = self.command().args(args).stdin(Stdio::null()).output()?;
        if !output.status.success() {
            bail!(
                "billstream {args:?} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(output)
    }

    /// The command line of a CLI subcommand, to spawn and watch.
    pub fn cli_command(&self, args: &[&str]) -> Command {
        let mut command = self.command();
        command.args(args);
        command
    }
}

impl Service {
    /// Starts billstream and waits until `/ready` answers.
    pub async fn start(spec: &ServiceSpec) -> anyhow::Result<Self> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&spec.log_file)?;
        let child = spec
            .command()
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", spec.binary.display()))?;
        let mut service = Self {
            child,
            base: format!("http://127.0.0.1:{}", spec.port),
        };
        service.wait_ready().await?;
        Ok(service)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("billstream exited at start-up: {status}");
            }
            if let Ok(response) = client.get(format!("{}/ready", self.base)).send().await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("billstream was not ready within 60 s")
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: no shutdown, no flush, whatever was in flight is cut.
    pub fn kill9(mut self) -> anyhow::Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(())
    }

    /// Asks for a graceful stop (SIGTERM) and waits.
    pub fn stop(mut self) -> anyhow::Result<()> {
        // SAFETY: signalling our own child by pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill9()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `command` to completion; returns its exit status, wall time and peak resident memory
/// (bytes). `watch` is called with the child's pid once it runs (to attach a profiler).
///
/// The peak is the kernel's `VmHWM` of the child, sampled every 10 ms until it exits (it only
/// grows, so the last sample is the peak but for the final 10 ms). `wait4`'s `ru_maxrss` would
/// be wrong here: a child started with vfork reports its parent's peak.
pub fn run_measured(
    mut command: Command,
    watch: impl FnOnce(u32),
) -> anyhow::Result<(std::process::ExitStatus, Duration, u64)> {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    watch(child.id());
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Some(kib) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|status| high_water_kib(&status))
        {
            peak = peak.max(kib * 1024);
        }
        if let Some(status) = child.try_wait()? {
            return Ok((status, started.elapsed(), peak));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `VmHWM` from a `/proc/<pid>/status`, in KiB.
fn high_water_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}
