//! Every character typed in a line, a name or an address prints as typed: pdftotext gives the
//! same string back. Characters no bundled font covers (CJK) print as `[U+XXXX]` markers,
//! never as "?".

mod common;

use common::fixtures::{business_invoice, line, with_lines};
use common::tools::pdftotext;
use invoice_documents::render_pdf;

const SAMPLES: &[&str] = &[
    "Café crème « spécial » — 5 € l’unité",
    "Καλημέρα κόσμε",
    "Счёт-фактура",
    "Größe der Äpfel: Übermaß, Straße",
    "Zażółć gęślą jaźń — Łódź",
    "Œuvre d’art … « naïve » ÀÉÎÕÙ",
];

fn sample_document() -> invoice_documents::InvoiceDocument {
    let lines = SAMPLES.iter().map(|s| line(s, 1, 1_000, 2_000)).collect();
    let mut doc = with_lines(business_invoice(), lines);
    doc.seller.name = "ООО «Ромашка» Ελλάς".to_owned();
    doc.buyer.name = "Łukasz Żółkiewski".to_owned();
    doc.buyer.billing_address.line1 = "ул. Тверская, 7 — Γραφείο 3".to_owned();
    doc
}

#[test]
fn every_sample_string_survives_pdftotext_exactly() {
    let text = pdftotext(&render_pdf(&sample_document()).unwrap());
    for sample in SAMPLES {
        assert!(text.contains(sample), "{sample:?} missing from:\n{text}");
    }
}

#[test]
fn names_and_addresses_in_any_covered_script_print_as_typed() {
    let text = pdftotext(&render_pdf(&sample_document()).unwrap());
    for typed in [
        "ООО «Ромашка» Ελλάς",
        "Łukasz Żółkiewski",
        "ул. Тверская, 7 — Γραφείο 3",
    ] {
        assert!(text.contains(typed), "{typed:?} missing from:\n{text}");
    }
}

#[test]
fn no_character_ever_prints_as_a_question_mark() {
    let mut doc = sample_document();
    doc.lines
        .push(line("請求書 — 日本語のテスト 😀", 1, 1_000, 2_000));
    let doc = with_lines(doc.clone(), doc.lines);
    let text = pdftotext(&render_pdf(&doc).unwrap());
    assert!(!text.contains('?'), "{text}");
    assert!(!text.contains('\u{FFFD}'), "{text}");
}

#[test]
fn japanese_prints_as_visible_code_point_markers() {
    let doc = with_lines(
        business_invoice(),
        vec![line("Thé 日本 (Japon)", 1, 1_000, 550)],
    );
    let text = pdftotext(&render_pdf(&doc).unwrap());
    assert!(
        text.contains("Thé [U+65E5][U+672C] (Japon)"),
        "marker missing from:\n{text}"
    );
}
