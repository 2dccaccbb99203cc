//! What the servers of the harness share: the repository's paths and free loopback ports.

use std::net::TcpListener;
use std::path::Path;

/// The repository (the root crate's manifest directory).
pub fn repo_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}
