//! What the servers of the harness share: the repository's paths, free loopback ports, and
//! watchdogs that clean up after the test process once it is gone.
//!
//! Statics are never dropped in Rust, so a server shared by a whole test run (the PostgreSQL
//! cluster, chromedriver) cannot be stopped from a destructor. Each gets a watchdog instead: a
//! detached `sh` that waits for the test process to end, however it ends, then runs the
//! server's cleanup.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository (the root crate's manifest directory).
pub fn repo_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `target/tmp/`: the scratch space of the harness's servers (created when missing).
pub fn scratch_dir() -> PathBuf {
    let dir = repo_dir().join("target/tmp");
    std::fs::create_dir_all(&dir).expect("target/tmp can be created");
    dir
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

/// Starts a detached `sh` that waits for this process to end, then runs `cleanup` (a shell
/// command). It is in a process group of its own so that a Ctrl-C on the test run does not kill
/// it before it has cleaned up; it runs in `/`, which any user it switches to can read. The `sh`
/// we start only puts the loop in the background and exits, so the loop belongs to init, not to
/// us, and nothing is left to reap.
pub fn spawn_watchdog(cleanup: &str) {
    let script = format!(
        "(while kill -0 {pid} 2>/dev/null; do sleep 1; done; {cleanup}) &",
        pid = std::process::id()
    );
    let started = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .current_dir("/")
        .process_group(0)
        .status()
        .expect("the watchdog starts");
    assert!(started.success(), "the watchdog did not start");
}

/// A name for a scratch directory owned by this process: `<prefix>-<pid>-<nanos>`.
pub fn owned_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// The scratch directories named `<prefix>-<pid>-…` in `dir` whose process is gone: what a test
/// run killed together with its watchdog (a reboot, `kill -9` on the whole group) left behind.
pub fn orphaned_dirs(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let pid: u32 = name
                .strip_prefix(prefix)?
                .strip_prefix('-')?
                .split('-')
                .next()?
                .parse()
                .ok()?;
            let alive = pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists();
            (!alive).then(|| entry.path())
        })
        .collect()
}

/// Whether this process runs as root (PostgreSQL refuses to, Chromium needs `--no-sandbox`).
pub fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Quotes `text` for `sh`.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
