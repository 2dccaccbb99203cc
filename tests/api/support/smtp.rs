//! A real SMTP server per test: `aiosmtpd` from the test venv, running
//! `tests/support/smtp_sink.py` on a free loopback port, which stores every message it accepts
//! in a directory of its own. Sinks are cheap (a Python process, ~0.2 s to start), so each test
//! that sends mail starts one and reads exactly its own messages.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use mail_parser::{MessageParser, MimeHeaders};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use super::processes::{free_port, orphaned_dirs, owned_name, repo_dir, scratch_dir};
use super::venv::venv_python;

/// A running (or stopped) SMTP sink. Dropping it kills the server and removes its messages.
pub struct SmtpSink {
    port: u16,
    dir: TempDir,
    server: Option<Child>,
}

/// One message the sink accepted.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The message as it came over the wire (after SMTP's dot-unstuffing).
    pub raw: Vec<u8>,
    /// `Message-ID`, without the angle brackets.
    pub message_id: Option<String>,
    /// The addresses of the `To` header.
    pub to: Vec<String>,
    pub subject: Option<String>,
    pub attachments: Vec<Attachment>,
    /// The SMTP envelope's `MAIL FROM` and `RCPT TO` (what the headers may not say: Bcc).
    pub envelope_from: String,
    pub envelope_to: Vec<String>,
}

impl ReceivedMail {
    /// The plain-text part.
    pub fn text(&self) -> String {
        let parsed = MessageParser::default()
            .parse(&self.raw)
            .expect("a MIME message");
        parsed.body_text(0).expect("a text part").into_owned()
    }
}

/// An attached file of a received message.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub name: Option<String>,
    /// `type/subtype`, e.g. `application/pdf`.
    pub content_type: String,
    /// The decoded content.
    pub content: Vec<u8>,
}

#[derive(serde::Deserialize)]
struct Envelope {
    mail_from: String,
    rcpt_tos: Vec<String>,
}

impl SmtpSink {
    /// Starts a sink on a free loopback port. Panics when the venv cannot be built.
    pub async fn start() -> Self {
        for stale in orphaned_dirs(&scratch_dir(), "smtp") {
            let _ = std::fs::remove_dir_all(stale);
        }
        let dir = tempfile::Builder::new()
            .prefix(&format!("{}-", owned_name("smtp")))
            .tempdir_in(scratch_dir())
            .expect("the sink's directory is created");
        let mut last_failure = String::new();
        // The port was free when picked but another process may take it first: try a few.
        for _ in 0..3 {
            let port = free_port();
            match launch(port, dir.path()).await {
                Ok(server) => {
                    return Self {
                        port,
                        dir,
                        server: Some(server),
                    }
                }
                Err(failure) => last_failure = failure,
            }
        }
        panic!("the SMTP sink did not start: {last_failure}");
    }

    /// The loopback port it listens on (the same after `restart`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding the received messages (`*.eml`, with `*.json` envelopes).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Every message received so far, oldest first (across restarts).
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir())
            .expect("the sink's directory is readable")
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
            .collect();
        files.sort();
        files.iter().map(|file| read_mail(file)).collect()
    }

    /// Waits until at least `count` messages have arrived; returns them all. Panics after
    /// `timeout`, saying how many came.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "the SMTP sink on port {} received {} of {count} messages in {timeout:?}",
                self.port,
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the server (the port refuses connections); received messages stay.
    pub async fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill().await;
        }
    }

    /// Starts the server again on the same port, after `stop`.
    pub async fn restart(&mut self) {
        self.stop().await;
        match launch(self.port, self.dir.path()).await {
            Ok(server) => self.server = Some(server),
            Err(failure) => panic!(
                "the SMTP sink did not restart on port {}: {failure}",
                self.port
            ),
        }
    }
}

/// Runs `smtp_sink.py` on `port`, storing into `dir`; returns once it listens.
async fn launch(port: u16, dir: &Path) -> Result<Child, String> {
    let python = tokio::task::spawn_blocking(venv_python)
        .await
        .expect("the test venv is ready");
    let log = std::fs::File::create(dir.join("sink.log"))
        .map_err(|error| format!("sink.log: {error}"))?;
    let mut server = Command::new(python)
        .arg(repo_dir().join("tests/support/smtp_sink.py"))
        .arg("--port")
        .arg(port.to_string())
        .arg("--dir")
        .arg(dir)
        .arg("--parent")
        .arg(std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| format!("smtp_sink.py: {error}"))?;
    let stdout = server.stdout.take().expect("a piped stdout");
    let mut first_line = String::new();
    let mut stdout = BufReader::new(stdout);
    let read = stdout.read_line(&mut first_line);
    let ready = tokio::time::timeout(Duration::from_secs(30), read).await;
    if matches!(ready, Ok(Ok(_))) && first_line.trim() == "ready" {
        return Ok(server);
    }
    let _ = server.kill().await;
    Err(std::fs::read_to_string(dir.join("sink.log")).unwrap_or_default())
}

fn read_mail(file: &Path) -> ReceivedMail {
    let raw = std::fs::read(file).expect("a received message is readable");
    let envelope: Envelope = serde_json::from_slice(
        &std::fs::read(file.with_extension("json")).expect("its envelope is readable"),
    )
    .expect("its envelope is JSON");
    let message = MessageParser::default()
        .parse(&raw)
        .unwrap_or_else(|| panic!("{} is not a mail message", file.display()));
    let to = message
        .to()
        .map(|to| {
            to.iter()
                .filter_map(|addr| addr.address().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let attachments = message
        .attachments()
        .map(|part| Attachment {
            name: part.attachment_name().map(str::to_owned),
            content_type: part
                .content_type()
                .map_or_else(String::new, |content_type| match content_type.subtype() {
                    Some(subtype) => format!("{}/{subtype}", content_type.ctype()),
                    None => content_type.ctype().to_owned(),
                }),
            content: part.contents().to_vec(),
        })
        .collect();
    ReceivedMail {
        message_id: message.message_id().map(str::to_owned),
        subject: message.subject().map(str::to_owned),
        to,
        attachments,
        envelope_from: envelope.mail_from,
        envelope_to: envelope.rcpt_tos,
        raw,
    }
}
