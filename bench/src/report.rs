//! The run's table: each figure, its reference from the same run, the ratio and the target.

use std::fmt::Write;
use std::time::Duration;

use billstream_bench::load::LoadReport;

/// A measured quantity.
pub struct Figure {
    text: String,
    value: f64,
}

impl Figure {
    /// A rate (`unit` per second).
    pub fn rate(value: f64, unit: &str) -> Self {
        Self {
            text: format!("{} {unit}", thousands(value)),
            value,
        }
    }

    /// A load run: rate, p50 and p99.
    pub fn load(report: &LoadReport, unit: &str) -> Self {
        Self {
            text: format!(
                "{} {unit} (p50 {:.2} ms, p99 {:.2} ms, n={})",
                thousands(report.per_second()),
                ms(report.quantile(0.5)),
                ms(report.quantile(0.99)),
                report.completed
            ),
            value: report.per_second(),
        }
    }

    /// Adds a p99 to the text.
    pub fn with_p99(mut self, p99: Duration) -> Self {
        self.text = format!("{} (p99 {:.2} ms)", self.text, ms(p99));
        self
    }
}

struct Row {
    what: String,
    figure: String,
    reference: String,
    ratio: String,
    target: String,
    verdict: String,
}

/// Everything one run measured.
pub struct Report {
    machine: String,
    command: String,
    quick: bool,
    rows: Vec<Row>,
    notes: Vec<String>,
    profiles: Vec<(String, String)>,
}

impl Report {
    pub fn new(machine: String, command: String, quick: bool) -> Self {
        Self {
            machine,
            command,
            quick,
            rows: Vec::new(),
            notes: Vec::new(),
            profiles: Vec::new(),
        }
    }

    /// A reference figure (no ratio of its own).
    pub fn reference(&mut self, what: &str, figure: Figure) {
        self.rows.push(Row {
            what: format!("reference: {what}"),
            figure: figure.text,
            reference: String::new(),
            ratio: String::new(),
            target: String::new(),
            verdict: String::new(),
        });
    }

    /// A throughput figure against its reference; `target` is the least acceptable ratio.
    pub fn measure(
        &mut self,
        what: &str,
        figure: Figure,
        reference: f64,
        reference_name: &str,
        target: Option<f64>,
    ) {
        let ratio = figure.value / reference.max(f64::EPSILON);
        self.rows.push(Row {
            what: what.to_owned(),
            figure: figure.text,
            reference: format!("{reference_name}: {}", thousands(reference)),
            ratio: format!("{ratio:.2}x"),
            target: target.map_or_else(String::new, |t| format!(">= {t}x")),
            verdict: target.map_or_else(String::new, |t| verdict(ratio >= t)),
        });
    }

    /// A latency against its reference; `most` is the largest acceptable ratio.
    pub fn measure_latency(
        &mut self,
        what: &str,
        latency: Duration,
        reference: Duration,
        reference_name: &str,
        most: f64,
    ) {
        let ratio = latency.as_secs_f64() / reference.as_secs_f64().max(f64::EPSILON);
        self.rows.push(Row {
            what: what.to_owned(),
            figure: format!("{:.2} ms", ms(latency)),
            reference: format!("{reference_name}: {:.2} ms", ms(reference)),
            ratio: format!("{ratio:.2}x"),
            target: format!("<= {most}x"),
            verdict: verdict(ratio <= most),
        });
    }

    /// Memory against a ceiling.
    pub fn memory(&mut self, what: &str, bytes: u64, ceiling: u64) {
        let mib = |b: u64| b as f64 / 1024.0 / 1024.0;
        self.rows.push(Row {
            what: what.to_owned(),
            figure: format!("{:.1} MiB", mib(bytes)),
            reference: String::new(),
            ratio: String::new(),
            target: format!("<= {:.0} MiB", mib(ceiling)),
            verdict: verdict(bytes <= ceiling),
        });
    }

    /// The hottest functions of the service during a phase.
    pub fn profile(&mut self, phase: &str, hottest: String) {
        self.profiles.push((phase.to_owned(), hottest));
    }

    /// A line under the table.
    pub fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    /// The table for the terminal.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for row in &self.rows {
            let _ = writeln!(out, "{}\n    {}", row.what, row.figure);
            if !row.reference.is_empty() {
                let _ = writeln!(
                    out,
                    "    ratio {} to {} (target {}) {}",
                    row.ratio, row.reference, row.target, row.verdict
                );
            } else if !row.target.is_empty() {
                let _ = writeln!(out, "    target {} {}", row.target, row.verdict);
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "- {note}");
        }
        out
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Benchmarks\n");
        if self.quick {
            let _ = writeln!(
                out,
                "_Short run (CI sizes, possibly a debug build): figures check that every part runs, not how fast._\n"
            );
        }
        let _ = writeln!(
            out,
            "- Run: {}",
            chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
        );
        let _ = writeln!(out, "- Machine: {}", self.machine);
        let _ = writeln!(out, "- Command: `{}`\n", self.command);
        let _ = writeln!(
            out,
            "| Measure | Figure | Reference (same run) | Ratio | Target | Met |\n|---|---|---|---|---|---|"
        );
        for row in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                row.what, row.figure, row.reference, row.ratio, row.target, row.verdict
            );
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out);
            for note in &self.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        for (phase, hottest) in &self.profiles {
            let _ = writeln!(
                out,
                "\n### Where the service's CPU time goes: {phase}\n\n`perf record -g` on the service process; self time by thread and function (top entries):\n\n```\n{hottest}\n```"
            );
        }
        out
    }
}

fn verdict(met: bool) -> String {
    if met { "yes" } else { "no" }.to_owned()
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// `12345.6` → `12,346`.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
