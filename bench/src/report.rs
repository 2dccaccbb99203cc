//! The run's table: each figure, its reference from the same run, the ratio and the target;
//! then the notes, the comparison with the committed report, and the profiles.

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
    /// The ratio, for the regression guard; `None` for rows it does not watch.
    guarded: Option<GuardedRatio>,
}

/// A ratio the regression guard compares with the committed report.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardedRatio {
    /// The row's Measure cell.
    pub what: String,
    /// The row's Reference cell (`name: value`).
    pub reference: String,
    pub ratio: f64,
    /// Throughput against a reference: higher is better; latency: lower is.
    pub higher_is_better: bool,
}

/// Everything one run measured.
pub struct Report {
    machine: String,
    command: String,
    quick: bool,
    rows: Vec<Row>,
    notes: Vec<String>,
    against_committed: Vec<String>,
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
            against_committed: Vec::new(),
            profiles: Vec::new(),
        }
    }

    /// A reference figure (no ratio of its own).
    pub fn reference(&mut self, what: &str, figure: Figure) {
        self.plain_row(format!("reference: {what}"), figure.text);
    }

    fn plain_row(&mut self, what: String, figure: String) {
        self.rows.push(Row {
            what,
            figure,
            reference: String::new(),
            ratio: String::new(),
            target: String::new(),
            verdict: String::new(),
            guarded: None,
        });
    }

    /// A throughput figure of the service against its reference; `target` is the least
    /// acceptable ratio. The regression guard watches the ratio.
    pub fn measure(
        &mut self,
        what: &str,
        figure: Figure,
        reference: f64,
        reference_name: &str,
        target: Option<f64>,
    ) {
        self.throughput_row(
            what.to_owned(),
            figure,
            reference,
            reference_name,
            target,
            true,
        );
    }

    /// An extra figure against a reference, to show a gap (such as the one the async hop
    /// alone costs); not about the service, so the regression guard leaves it alone.
    pub fn extra_measure(
        &mut self,
        what: &str,
        figure: Figure,
        reference: f64,
        reference_name: &str,
    ) {
        self.throughput_row(
            format!("extra: {what}"),
            figure,
            reference,
            reference_name,
            None,
            false,
        );
    }

    fn throughput_row(
        &mut self,
        what: String,
        figure: Figure,
        reference: f64,
        reference_name: &str,
        target: Option<f64>,
        guard: bool,
    ) {
        let ratio = figure.value / reference.max(f64::EPSILON);
        let reference = format!("{reference_name}: {}", thousands(reference));
        self.rows.push(Row {
            guarded: guard.then(|| GuardedRatio {
                what: what.clone(),
                reference: reference.clone(),
                ratio,
                higher_is_better: true,
            }),
            what,
            figure: figure.text,
            reference,
            ratio: ratio_text(ratio),
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
        let reference = format!("{reference_name}: {:.2} ms", ms(reference));
        self.rows.push(Row {
            what: what.to_owned(),
            figure: format!("{:.2} ms", ms(latency)),
            guarded: Some(GuardedRatio {
                what: what.to_owned(),
                reference: reference.clone(),
                ratio,
                higher_is_better: false,
            }),
            reference,
            ratio: ratio_text(ratio),
            target: format!("<= {most}x"),
            verdict: verdict(ratio <= most),
        });
    }

    /// A duration against a ceiling (an absolute target: the regression guard leaves it).
    pub fn within(&mut self, what: &str, took: Duration, most: Duration) {
        self.rows.push(Row {
            what: what.to_owned(),
            figure: format!("{:.2} s", took.as_secs_f64()),
            reference: String::new(),
            ratio: String::new(),
            target: format!("<= {} s", most.as_secs_f64()),
            verdict: verdict(took <= most),
            guarded: None,
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
            guarded: None,
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

    /// The ratios the regression guard watches, in table order.
    pub fn guarded_ratios(&self) -> Vec<GuardedRatio> {
        self.rows
            .iter()
            .filter_map(|row| row.guarded.clone())
            .collect()
    }

    /// The regression guard's findings, for a section of their own.
    pub fn against_committed(&mut self, lines: Vec<String>) {
        self.against_committed = lines;
    }

    /// The table for the terminal.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for row in &self.rows {
            let _ = writeln!(out, "{}\n    {}", row.what, row.figure);
            if !row.reference.is_empty() && row.target.is_empty() {
                let _ = writeln!(out, "    ratio {} to {}", row.ratio, row.reference);
            } else if !row.reference.is_empty() {
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
        if !self.against_committed.is_empty() {
            let _ = writeln!(out, "against the committed BENCHMARKS.md:");
            for line in &self.against_committed {
                let _ = writeln!(out, "- {line}");
            }
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
        if !self.against_committed.is_empty() {
            let _ = writeln!(
                out,
                "\n## Against the committed BENCHMARKS.md\n\nEach ratio compared with the same row of the report committed in the repository; a drop of more than 30% is flagged, never failed (machines and their neighbours differ).\n"
            );
            for line in &self.against_committed {
                let _ = writeln!(out, "- {line}");
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

/// A ratio with three significant digits below 1 (small ratios would read 0.04x otherwise,
/// too coarse for the regression guard to compare), two above.
fn ratio_text(ratio: f64) -> String {
    if ratio < 0.1 {
        format!("{ratio:.4}x")
    } else if ratio < 1.0 {
        format!("{ratio:.3}x")
    } else {
        format!("{ratio:.2}x")
    }
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
