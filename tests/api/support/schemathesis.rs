//! schemathesis (`st`, from the test venv): property-based contract tests of an HTTP API from
//! its OpenAPI document.

use std::process::Output;

use super::processes::scratch_dir;
use super::venv::venv_bin;

/// Runs `st run SPEC_URL --url BASE_URL ARGS…` and returns what it did; the caller asserts on
/// the exit status and prints the output on failure. Runs in a scratch directory of its own,
/// since schemathesis keeps Hypothesis' example database in the working directory.
pub async fn run_schemathesis(base_url: &str, spec_url: &str, args: &[&str]) -> Output {
    let st = tokio::task::spawn_blocking(|| venv_bin("st"))
        .await
        .expect("the test venv is ready");
    let workdir = tempfile::Builder::new()
        .prefix("schemathesis-")
        .tempdir_in(scratch_dir())
        .expect("a working directory for schemathesis");
    tokio::process::Command::new(&st)
        .arg("run")
        .arg(spec_url)
        .arg("--url")
        .arg(base_url)
        .args(args)
        .current_dir(workdir.path())
        // No colours or progress bars in captured output.
        .env("NO_COLOR", "1")
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|error| panic!("{} could not run: {error}", st.display()))
}

/// `st --version`'s line, e.g. `st, version 4.32.5`.
pub async fn schemathesis_version() -> String {
    let st = tokio::task::spawn_blocking(|| venv_bin("st"))
        .await
        .expect("the test venv is ready");
    let output = tokio::process::Command::new(&st)
        .arg("--version")
        .output()
        .await
        .unwrap_or_else(|error| panic!("{} could not run: {error}", st.display()));
    assert!(
        output.status.success(),
        "st --version failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
