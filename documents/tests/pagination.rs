//! Long documents flow onto several A4 pages: the table header is repeated, every page is
//! numbered, and nothing is lost between pages.

mod common;

use common::fixtures::{business_invoice, line, with_lines};
use common::normalized;
use common::tools::pdftotext;
use invoice_documents::render_pdf;

#[test]
fn many_lines_flow_onto_numbered_pages_with_the_table_header_repeated() {
    let lines = (1..=90)
        .map(|i| {
            line(
                &format!("Ligne numéro {i} — prestation détaillée"),
                i,
                1_234,
                2_000,
            )
        })
        .collect();
    let doc = with_lines(business_invoice(), lines);
    let raw = pdftotext(&render_pdf(&doc).unwrap());
    let pages = raw.matches('\u{c}').count();
    assert!(pages >= 3, "{pages} pages");
    for page in 1..=pages {
        assert!(raw.contains(&format!("Page {page}/{pages}")), "page {page}");
    }
    assert_eq!(
        raw.matches("Désignation").count(),
        pages - usize::from(last_page_has_no_table(&raw))
    );
    for i in 1..=90 {
        let description = format!("Ligne numéro {i} — prestation détaillée");
        assert_eq!(raw.matches(&description).count(), 1, "{description}");
    }
    let text = normalized(&raw);
    assert!(text.contains("Facture n° BS-2026-000003 — suite"));
    assert!(text.contains("Net à payer"));
}

/// Whether the table ended on an earlier page (the last holds only totals and mentions).
fn last_page_has_no_table(raw: &str) -> bool {
    let last = raw
        .trim_end_matches('\u{c}')
        .rsplit('\u{c}')
        .next()
        .unwrap_or("");
    !last.contains("Ligne numéro")
}

#[test]
fn a_description_longer_than_a_page_is_split_without_losing_a_word() {
    let words: Vec<String> = (1..=900).map(|i| format!("mot{i}")).collect();
    let description = words.join(" ");
    let doc = with_lines(
        business_invoice(),
        vec![line(&description, 1, 1_000, 2_000)],
    );
    let text = normalized(&pdftotext(&render_pdf(&doc).unwrap()));
    assert!(
        text.contains("Page 2/"),
        "the description needs a second page"
    );
    let mut from = 0;
    for word in &words {
        let at = text[from..]
            .find(&format!("{word} "))
            .unwrap_or_else(|| panic!("{word} missing or out of order"));
        from += at + word.len();
    }
}
