//! The Python venv of the test tools (localstripe, schemathesis, aiosmtpd, factur-x), from
//! `tests/requirements.txt`.
//!
//! Found at `BILLSTREAM_TEST_VENV` (which `scripts/test` exports), else `target/test-venv`. It is
//! ready when its `requirements.sha256` holds the SHA-256 of the requirements file. When it is
//! not, it is built here, the same way `scripts/test` builds it, so `cargo test` alone works too:
//! in `<venv>-<hash prefix>` under a lock, the hash file written last, then `<venv>` (a symlink)
//! switched to it in one rename. Venvs cannot be moved once built (pip writes absolute paths
//! into `bin/st` and friends), hence a build directory that is final rather than a staging one.

use std::fs::File;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use super::processes::repo_dir;

/// The requirements file the venv is built from.
pub fn requirements_file() -> PathBuf {
    repo_dir().join("tests/requirements.txt")
}

/// The ready venv (built on first use in this process when needed).
pub fn venv_dir() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let venv = std::env::var_os("BILLSTREAM_TEST_VENV")
            .map_or_else(|| repo_dir().join("target/test-venv"), PathBuf::from);
        let want = requirements_hash();
        if !is_ready(&venv, &want) {
            build(&venv, &want);
        }
        venv
    })
}

/// A program installed in the venv's `bin/` (`python`, `st`).
pub fn venv_bin(program: &str) -> PathBuf {
    venv_dir().join("bin").join(program)
}

/// The venv's Python.
pub fn venv_python() -> PathBuf {
    venv_bin("python")
}

fn requirements_hash() -> String {
    let requirements = std::fs::read(requirements_file()).expect("tests/requirements.txt is read");
    hex::encode(Sha256::digest(requirements))
}

fn is_ready(venv: &Path, want: &str) -> bool {
    let have = std::fs::read_to_string(venv.join("requirements.sha256")).unwrap_or_default();
    have.trim() == want && venv.join("bin/python").exists()
}

fn build(venv: &Path, want: &str) {
    let name = venv.file_name().expect("the venv path names a directory");
    let build = venv.with_file_name(format!("{}-{}", name.to_string_lossy(), &want[..16]));
    std::fs::create_dir_all(venv.parent().expect("the venv has a parent directory"))
        .expect("the venv's parent directory can be created");
    // Another test process or scripts/test may be building the same venv: wait for it.
    let lock = File::create(format!("{}.lock", build.display())).expect("the venv lock file opens");
    lock.lock().expect("the venv lock is taken");
    if !is_ready(&build, want) {
        eprintln!(
            "building the test venv {} from tests/requirements.txt",
            build.display()
        );
        let _ = std::fs::remove_dir_all(&build);
        run(Command::new("python3").arg("-m").arg("venv").arg(&build));
        run(Command::new(build.join("bin/python"))
            .args(["-m", "pip", "install", "--quiet"])
            .args(["--disable-pip-version-check", "-r"])
            .arg(requirements_file()));
        std::fs::write(build.join("requirements.sha256"), format!("{want}\n"))
            .expect("the venv's hash file is written");
    }
    if venv.is_dir() && !venv.is_symlink() {
        std::fs::remove_dir_all(venv).expect("the outdated venv is removed");
    }
    let link = venv.with_file_name(format!(
        "{}.link-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&link);
    symlink(build.file_name().expect("a build directory name"), &link)
        .expect("the venv symlink is made");
    std::fs::rename(&link, venv).expect("the venv symlink is switched");
    assert!(
        is_ready(venv, want),
        "the test venv {} is not ready",
        venv.display()
    );
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("{command:?} could not start ({error}): install python3 and python3-venv, or run scripts/test"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
