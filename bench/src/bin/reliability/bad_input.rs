//! Bad input: runs the property tests of the test suite (arbitrary bodies on every JSON route,
//! arbitrary signature headers, arbitrary event bodies) and reports what they tried.

use std::process::Command;

use billstream_bench::service::workspace_root;

/// Cases proptest runs per unit property (its default; the test files set no other).
const UNIT_CASES: usize = 256;

/// What the property tests did.
pub struct BadInputReport {
    lines: Vec<String>,
    unit_properties: usize,
    requests: usize,
    inputs: usize,
    pub losses: usize,
}

impl BadInputReport {
    pub fn markdown(&self) -> String {
        let mut out = format!(
            "## Bad input\n\nProperty tests (proptest), run by this harness through `cargo test`, on the test suite's own services and their SQLite files (whatever `--database` names):\n\n\
             - HTTP: every POST/PATCH route receives arbitrary JSON, arbitrary bytes, arbitrary field values, valid bodies with one or two bad values, and arbitrary `Stripe-Signature` headers; every answer must be 2xx or 4xx with `{{\"error\":{{\"code\",\"message\"}}}}`, and a refusal must leave the event log and the inbox unchanged: {} inputs, {} requests.\n\
             - Units: {} properties × {UNIT_CASES} cases on the signature header parser and the event decoder (never panic; a signed header verifies; any changed byte fails): {} inputs.\n\
             - Failures: {}\n- cargo-fuzz: not run (it needs a nightly toolchain for its sanitizer flags; this machine has stable only).\n\n",
            self.inputs,
            self.requests,
            self.unit_properties,
            self.unit_properties * UNIT_CASES,
            self.losses,
        );
        for line in &self.lines {
            out.push_str(&format!("    {line}\n"));
        }
        out
    }
}

pub fn run() -> anyhow::Result<BadInputReport> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "test",
            "--workspace",
            "--locked",
            "--",
            // Module paths, not bare words: a bare "properties" also picked a PDF test of the
            // documents crate that names its XMP properties, which needs the test venv.
            "bad_input::",
            "::properties::",
            "--nocapture",
        ])
        .current_dir(workspace_root())
        .output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<String> = text
        .lines()
        .filter(|line| line.starts_with("bad_input: "))
        .map(str::to_owned)
        .collect();
    let number_before = |line: &str, word: &str| -> usize {
        line.split([',', ':'])
            .find_map(|part| part.trim().strip_suffix(word)?.trim().parse().ok())
            .unwrap_or(0)
    };
    let inputs = lines
        .iter()
        .map(|line| number_before(line, "inputs tried"))
        .sum();
    let requests = lines
        .iter()
        .map(|line| number_before(line, "requests"))
        .sum();
    let unit_properties = text
        .lines()
        .filter(|line| {
            line.starts_with("test ") && line.contains("::properties::") && line.ends_with("ok")
        })
        .count();
    let failed = text
        .lines()
        .filter(|line| line.starts_with("test ") && line.ends_with("FAILED"))
        .count();
    let losses = failed + usize::from(!output.status.success());
    anyhow::ensure!(
        !lines.is_empty() || failed > 0,
        "the bad-input property tests did not run:\n{text}"
    );
    Ok(BadInputReport {
        lines,
        unit_properties,
        requests,
        inputs,
        losses,
    })
}
