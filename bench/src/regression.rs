//! The regression guard: each ratio of this run against the same row of the BENCHMARKS.md
//! committed in the repository. Ratios, not absolute figures: each is taken against a
//! reference measured in the same run, so it travels between machines where raw figures do
//! not. A drop of more than 30% is reported, never failed: a noisy neighbour can cost that
//! much, and the lead reads the report.
//!
//! "A drop" is in how the service stands against its reference: a throughput ratio falling
//! below 0.7 of its committed value, or a latency ratio (lower is better) rising above
//! 1 / 0.7 of it, the same 30% loss of relative speed.
//!
//! Rows are matched by their Measure cell and their reference's name, with every number
//! masked: sizes differ between a full and a short run, and some labels carry measured rates.
//! A row whose reference changed is a new row, since its ratio means something else.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use crate::report::GuardedRatio;

/// Largest loss of relative standing that goes unremarked.
const TOLERATED_DROP: f64 = 0.30;

/// The committed report's ratios.
pub struct Committed {
    /// Where it was read from, for the report.
    pub source: String,
    /// Whether it is a short run's report.
    pub quick: bool,
    ratios: HashMap<String, f64>,
}

/// Reads the report committed at `HEAD` of the repository at `root` (so that a run writing
/// its own BENCHMARKS.md compares with the committed one, not with itself), or the file in
/// the work tree when git cannot say. `None` when there is neither.
pub fn committed(root: &Path) -> Option<Committed> {
    let at_head = Command::new("git")
        .args(["show", "HEAD:BENCHMARKS.md"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok());
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root)
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|hash| hash.trim().to_owned())
        .unwrap_or_default();
    if let Some(markdown) = at_head {
        return Some(parse(&markdown, format!("BENCHMARKS.md at {commit}")));
    }
    let markdown = std::fs::read_to_string(root.join("BENCHMARKS.md")).ok()?;
    Some(parse(&markdown, "BENCHMARKS.md in the work tree".into()))
}

/// The ratios of a report's table, by row key.
pub fn parse(markdown: &str, source: String) -> Committed {
    let mut ratios = HashMap::new();
    for line in markdown.lines().filter(|line| line.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // "| what | figure | reference | ratio | target | met |" splits into 8 pieces.
        let [_, what, _, reference, ratio, ..] = cells.as_slice() else {
            continue;
        };
        let Some(ratio) = ratio
            .strip_suffix('x')
            .and_then(|number| number.parse::<f64>().ok())
        else {
            continue;
        };
        ratios.insert(key(what, reference), ratio);
    }
    Committed {
        source,
        quick: markdown.contains("_Short run"),
        ratios,
    }
}

/// A row's identity across runs: its measure and its reference's name, numbers masked.
pub fn key(what: &str, reference: &str) -> String {
    let name = reference
        .rsplit_once(": ")
        .map_or(reference, |(name, _)| name);
    format!("{} | {}", mask_numbers(what), mask_numbers(name))
}

/// Every number (digits with their separators) becomes `#`.
fn mask_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            while chars
                .peek()
                .is_some_and(|next| next.is_ascii_digit() || *next == ',' || *next == '.')
            {
                chars.next();
            }
            out.push('#');
        } else {
            out.push(c);
        }
    }
    out
}

/// The guard's lines for this run's `ratios`: a header, one line per possible regression and
/// per row the committed report lacks, and a summary.
pub fn compare(committed: Option<&Committed>, ratios: &[GuardedRatio], quick: bool) -> Vec<String> {
    let Some(committed) = committed else {
        return vec!["no committed BENCHMARKS.md to compare with: nothing checked".into()];
    };
    let mut lines = vec![format!(
        "compared with {} ({} run){}",
        committed.source,
        if committed.quick { "a short" } else { "a full" },
        if quick != committed.quick {
            "; this run's sizes differ from it, so the comparison is indicative only"
        } else {
            ""
        }
    )];
    let (mut compared, mut flagged) = (0, 0);
    for row in ratios {
        let Some(&was) = committed.ratios.get(&key(&row.what, &row.reference)) else {
            lines.push(format!(
                "no committed figure yet for \"{}\" against this reference (first run with this row)",
                row.what
            ));
            continue;
        };
        compared += 1;
        if let Some(line) = regression(row, was) {
            flagged += 1;
            lines.push(line);
        }
    }
    lines.push(match flagged {
        0 => format!("ratios compared: {compared}; none dropped by more than 30%"),
        _ => format!("ratios compared: {compared}; possible regressions: {flagged}"),
    });
    lines
}

/// The line for `row` if it stands more than 30% worse against its reference than `was`.
fn regression(row: &GuardedRatio, was: f64) -> Option<String> {
    let now = row.ratio;
    if was <= 0.0 || now <= 0.0 {
        return None;
    }
    let standing = if row.higher_is_better {
        now / was
    } else {
        was / now
    };
    if standing >= 1.0 - TOLERATED_DROP {
        return None;
    }
    let change = (now / was - 1.0) * 100.0;
    let direction = if row.higher_is_better {
        String::new()
    } else {
        ", lower is better".into()
    };
    Some(format!(
        "possible regression: {} was {}, now {} ({}{:.0}%{direction})",
        row.what,
        short(was),
        short(now),
        if change < 0.0 { "\u{2212}" } else { "+" },
        change.abs()
    ))
}

fn short(ratio: f64) -> String {
    if ratio < 1.0 {
        format!("{ratio:.3}x")
    } else {
        format!("{ratio:.2}x")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMITTED: &str = "# Benchmarks

| Measure | Figure | Reference (same run) | Ratio | Target | Met |
|---|---|---|---|---|---|
| reference: direct SQLite | 80,000 rows/s |  |  |  |  |
| webhook ingest: signed events acknowledged, 64 connections | 5,729 events/s | GET /health: 14,000 | 0.41x | >= 0.4x | yes |
| commands: p99 of one command, one client at a time | 7.64 ms | direct p99 of a 1-row tx: 0.35 ms | 10.00x | <= 5x | no |
| replay: every projection rebuilt from 1000000 events | 14,534 events/s | direct scan: 141,533 | 0.100x | >= 0.3x | no |
";

    fn row(what: &str, reference: &str, ratio: f64, higher_is_better: bool) -> GuardedRatio {
        GuardedRatio {
            what: what.into(),
            reference: reference.into(),
            ratio,
            higher_is_better,
        }
    }

    #[test]
    fn the_table_is_parsed_by_measure_and_reference() {
        let committed = parse(COMMITTED, "test".into());
        assert!(!committed.quick);
        assert_eq!(committed.ratios.len(), 3);
        let ingest = key(
            "webhook ingest: signed events acknowledged, 64 connections",
            "GET /health: 9,999",
        );
        assert_eq!(committed.ratios.get(&ingest), Some(&0.41));
    }

    #[test]
    fn numbers_are_masked_so_sizes_and_rates_do_not_split_rows() {
        assert_eq!(
            key("replay: rebuilt from 20000 events", "direct scan: 1,234"),
            key(
                "replay: rebuilt from 1000000 events",
                "direct scan: 141,533"
            )
        );
        assert_ne!(
            key("webhook ingest", "GET /health: 1"),
            key("webhook ingest", "raw 100 rows/tx: 1")
        );
    }

    #[test]
    fn drops_beyond_thirty_percent_are_flagged_in_the_bad_direction_only() {
        let committed = parse(COMMITTED, "test".into());
        let ingest = "webhook ingest: signed events acknowledged, 64 connections";
        let alone = "commands: p99 of one command, one client at a time";
        let lines = compare(
            Some(&committed),
            &[
                row(ingest, "GET /health: 10,000", 0.25, true),
                row(alone, "direct p99 of a 1-row tx: 0.30 ms", 5.0, false),
                row("reads: history page", "GET /health: 10,000", 0.1, true),
            ],
            false,
        );
        assert!(lines[0].contains("a full run") && !lines[0].contains("indicative"));
        assert!(lines.contains(&format!(
            "possible regression: {ingest} was 0.410x, now 0.250x (\u{2212}39%)"
        )));
        assert!(!lines.iter().any(|line| line.contains(alone)), "{lines:?}");
        assert!(lines
            .iter()
            .any(|line| line.starts_with("no committed figure yet for \"reads")));
        assert_eq!(
            lines.last().map(String::as_str),
            Some("ratios compared: 2; possible regressions: 1")
        );
    }

    #[test]
    fn a_latency_ratio_rising_by_more_than_one_over_point_seven_is_flagged() {
        let slower = row("p99", "r: 1 ms", 14.5, false);
        let line = regression(&slower, 10.0).expect("flagged");
        assert_eq!(
            line,
            "possible regression: p99 was 10.00x, now 14.50x (+45%, lower is better)"
        );
        assert!(regression(&row("p99", "r: 1 ms", 14.0, false), 10.0).is_none());
        assert!(regression(&row("rate", "r: 1", 0.71, true), 1.0).is_none());
    }

    #[test]
    fn a_short_run_against_a_full_report_is_indicative() {
        let committed = parse(COMMITTED, "test".into());
        let lines = compare(Some(&committed), &[], true);
        assert!(lines[0].contains("indicative"));
        assert_eq!(
            compare(None, &[], false),
            vec!["no committed BENCHMARKS.md to compare with: nothing checked".to_owned()]
        );
    }
}
