//! Optional CPU profiles of the service during a phase, with Linux `perf`: where the time goes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A `perf record` attached to a process.
pub struct Profile {
    child: Child,
    data: PathBuf,
}

impl Profile {
    /// Starts sampling `pid`'s threads (all CPUs' time), or `None` when perf is unavailable.
    pub fn start(pid: u32, dir: &Path, phase: &str) -> Option<Self> {
        let data = dir.join(format!("perf-{phase}.data"));
        let child = Command::new("perf")
            .args(["record", "-F", "499", "-g", "-o"])
            .arg(&data)
            .args(["-p", &pid.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        Some(Self { child, data })
    }

    /// Stops sampling; returns the hottest functions (self time), one per line.
    pub fn finish(mut self, top: usize) -> Option<String> {
        // SAFETY: signalling our own child by pid; SIGINT makes perf write its data and exit.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        self.child.wait().ok()?;
        let output = Command::new("perf")
            .args([
                "report",
                "--stdio",
                "--no-children",
                "-g",
                "none",
                "--sort",
                "comm,sym",
                "-i",
            ])
            .arg(&self.data)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&output.stdout);
        let lines: Vec<String> = text
            .lines()
            .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
            .take(top)
            .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }
}
