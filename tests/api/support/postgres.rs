//! ONE private PostgreSQL cluster per test run, started on first use and shared by all tests;
//! each test takes a database of its own with `fresh_database()`.
//!
//! The cluster is `initdb`'d into a fresh directory under `target/tmp/` (owned by `postgres` when
//! the tests run as root, since PostgreSQL refuses root), with settings for throwaway data
//! (no fsync, no full-page writes) and room for many parallel tests. It listens on a free
//! loopback port with its unix socket in its own directory, so it never meets a system cluster.
//! A watchdog stops it and removes its directory when the test process ends; clusters left by a
//! run that was killed together with its watchdog are swept away by the next run.
//!
//! It speaks TLS as a managed PostgreSQL does, with a certificate for `127.0.0.1` signed by a
//! certificate authority that `openssl` makes at start (`certificate()`), so `sslmode=require` and `verify-full` are
//! tested for real; URLs without `sslmode` get sqlx's default, `prefer`, so TLS as well.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use sqlx::{Connection, PgConnection};

use super::processes::{
    free_port, orphaned_dirs, owned_name, running_as_root, scratch_dir, shell_quote, spawn_watchdog,
};

/// Settings for a cluster whose data may be lost: speed over durability, many connections.
const SETTINGS: &str = "
listen_addresses = '127.0.0.1'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
ssl = on
";

/// The running cluster.
struct Cluster {
    port: u16,
    /// The certificate authority that signed the server's certificate.
    certificate: PathBuf,
}

impl Cluster {
    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

/// A new, empty database on the shared cluster: its `postgres://…@127.0.0.1:PORT/NAME` URL
/// (user `postgres`, no password). Panics when PostgreSQL is not installed.
pub async fn fresh_database() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let cluster = tokio::task::spawn_blocking(cluster)
        .await
        .expect("the cluster starts");
    let name = format!("test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
    // One connection per call: a pool would belong to the runtime of the test that made it.
    let mut admin = PgConnection::connect(&cluster.url("postgres"))
        .await
        .expect("the test cluster accepts connections");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("the test database is created");
    let _ = admin.close().await;
    cluster.url(&name)
}

/// The certificate authority (PEM) that signed the shared cluster's certificate, to pass as
/// `sslrootcert` with `sslmode=verify-full`; the server's certificate names `127.0.0.1`.
pub async fn certificate() -> PathBuf {
    let cluster = tokio::task::spawn_blocking(cluster)
        .await
        .expect("the cluster starts");
    cluster.certificate.clone()
}

/// The cluster, started by the first caller; every caller panics with the same message when it
/// could not start.
fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();
    match CLUSTER.get_or_init(start) {
        Ok(cluster) => cluster,
        Err(message) => panic!("{message}"),
    }
}

fn start() -> Result<Cluster, String> {
    let bin = bin_dir()?;
    let parent = cluster_parent();
    for stale in orphaned_dirs(&parent, "pg") {
        let _ = as_cluster_owner(&bin.join("pg_ctl"), &stale.join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&stale);
    }
    let dir = parent.join(owned_name("pg"));
    std::fs::create_dir_all(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    let owner = if running_as_root() {
        "runuser -u postgres -- "
    } else {
        ""
    };
    spawn_watchdog(&format!(
        "{owner}{pg_ctl} -D {data} -m immediate stop >/dev/null 2>&1; rm -rf {dir}",
        pg_ctl = shell_quote(&bin.join("pg_ctl").to_string_lossy()),
        data = shell_quote(&dir.join("data").to_string_lossy()),
        dir = shell_quote(&dir.to_string_lossy()),
    ));
    if running_as_root() {
        run(Command::new("chown").arg("postgres:postgres").arg(&dir))?;
    }
    let data = dir.join("data");
    run(as_cluster_owner(&bin.join("initdb"), &data).args([
        "-A",
        "trust",
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
    ]))?;
    let certificate = make_certificate(&data)?;
    let settings = format!("{SETTINGS}unix_socket_directories = '{}'\n", dir.display());
    append(&data.join("postgresql.conf"), &settings)?;
    // The port was free when picked but another process may take it first: try a few.
    let log = dir.join("server.log");
    for _ in 0..5 {
        let port = free_port();
        let started = as_cluster_owner(&bin.join("pg_ctl"), &data)
            .arg("-l")
            .arg(&log)
            .args(["-o", &format!("-p {port}"), "-w", "-t", "60", "start"])
            .output()
            .map_err(|error| format!("pg_ctl: {error}"))?;
        if started.status.success() {
            return Ok(Cluster { port, certificate });
        }
        let log_text = std::fs::read_to_string(&log).unwrap_or_default();
        if !log_text.contains("could not bind") {
            return Err(format!("the test PostgreSQL did not start:\n{log_text}"));
        }
    }
    Err("the test PostgreSQL found no free port".to_owned())
}

/// Writes `server.crt` and `server.key` into `data` (PostgreSQL's default names), as a real
/// deployment has them: P-256 keys, a certificate authority (`ca.crt`, returned: the
/// `sslrootcert` of `verify-full`) and the server's certificate for the IP `127.0.0.1` signed
/// by it, valid two days, owned by the cluster's owner with the key readable by it alone.
fn make_certificate(data: &Path) -> Result<PathBuf, String> {
    const SCRIPT: &str = "set -e
        key='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'
        openssl req -x509 $key -days 2 -subj '/CN=billstream test CA' -keyout ca.key -out ca.crt
        openssl req $key -subj /CN=127.0.0.1 -keyout server.key -out server.csr
        printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n' > server.ext
        openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
          -extfile server.ext -out server.crt
        chmod 600 server.key ca.key";
    let mut shell = if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--", "sh", "-c", SCRIPT]);
        command
    } else {
        let mut command = Command::new("sh");
        command.args(["-c", SCRIPT]);
        command
    };
    if Command::new("openssl").arg("version").output().is_err() {
        return Err(
            "openssl is not installed: the test PostgreSQL speaks TLS with certificates \
                    made by it. Install Debian's `openssl` (apt-get install openssl) or run \
                    scripts/test, which installs it."
                .to_owned(),
        );
    }
    let output = shell
        .current_dir(data)
        .output()
        .map_err(|error| format!("sh: {error}"))?;
    if !output.status.success() {
        return Err(format!(
            "openssl could not make the test certificates:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(data.join("ca.crt"))
}

/// `PG_BIN_DIR`, else the newest `/usr/lib/postgresql/*/bin` (Debian's layout).
fn bin_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("PG_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .max();
    newest.map(|(_, bin)| bin).ok_or_else(|| {
        "PostgreSQL is not installed: the tests need a private cluster. Install Debian's \
         `postgresql` (apt-get install postgresql), set PG_BIN_DIR to a directory with initdb \
         and pg_ctl, or run scripts/test, which installs it."
            .to_owned()
    })
}

/// `target/tmp/`, unless the `postgres` user cannot reach it (a checkout in root's home) or the
/// socket path would be too long for a unix socket: then a directory under the system's temp.
fn cluster_parent() -> PathBuf {
    let preferred = scratch_dir();
    let socket_path_fits =
        preferred.as_os_str().len() + "/pg-4194304-999999999/.s.PGSQL.65535".len() < 100;
    let reachable = !running_as_root()
        || Command::new("runuser")
            .args(["-u", "postgres", "--", "test", "-x"])
            .arg(&preferred)
            .status()
            .is_ok_and(|status| status.success());
    if socket_path_fits && reachable {
        return preferred;
    }
    let fallback = std::env::temp_dir().join("billstream-test");
    std::fs::create_dir_all(&fallback).expect("a scratch directory in the system's temp");
    fallback
}

/// `program -D data` run as the cluster's owner (`postgres` when we are root).
fn as_cluster_owner(program: &Path, data: &Path) -> Command {
    let mut command = if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    };
    // PostgreSQL's tools fail when they cannot read the working directory (root's home).
    command.arg("-D").arg(data).current_dir("/");
    command
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|error| format!("{command:?}: {error}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

fn append(file: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(file)
        .and_then(|mut file| file.write_all(text.as_bytes()))
        .map_err(|error| format!("{}: {error}", file.display()))
}
