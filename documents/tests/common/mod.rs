//! Shared by the integration tests: sample documents, and the external tools that check the
//! outputs independently of this crate.
#![allow(dead_code)]

pub mod fixtures;
pub mod tools;

/// Text with every run of whitespace (newlines, no-break spaces) collapsed to one space, and
/// none before `%`: the PDF wraps long mentions, pdftotext prints no-break spaces as spaces,
/// and whether it prints the narrow one before `%` at all depends on its spacing heuristics.
pub fn normalized(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" %", "%")
}
