//! Many consistent documents, generated from a fixed seed: each renders, and its XML carries
//! exactly the input's totals.

mod common;

use common::fixtures::{business_invoice, line, with_lines};
use invoice_documents::{facturx_cii, render_pdf, ubl, Currency};

/// A small deterministic generator (no dependency, same documents every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

const RATES: [u32; 5] = [2_000, 1_000, 550, 210, 0];

#[test]
fn consistent_documents_always_render_with_their_exact_totals() {
    let mut rng = Lcg(2026);
    for round in 0..60 {
        let count = 1 + rng.next(12) as usize;
        let lines = (0..count)
            .map(|i| {
                line(
                    &format!("Article {i}"),
                    1 + rng.next(10_000) as i64,
                    1 + rng.next(99_999_999) as i64,
                    RATES[rng.next(RATES.len() as u64) as usize],
                )
            })
            .collect();
        let doc = with_lines(business_invoice(), lines);
        let eur = Currency::parse("EUR").unwrap();
        let cii = facturx_cii(&doc).unwrap();
        let grand = format!(
            "<ram:GrandTotalAmount>{}</ram:GrandTotalAmount>",
            eur.decimal(doc.totals.total)
        );
        assert!(cii.contains(&grand), "round {round}: {grand}");
        let payable = format!(
            "<cbc:PayableAmount currencyID=\"EUR\">{}</cbc:PayableAmount>",
            eur.decimal(doc.totals.amount_due)
        );
        assert!(ubl(&doc).unwrap().contains(&payable), "round {round}");
        if round % 10 == 0 {
            assert!(render_pdf(&doc).unwrap().starts_with(b"%PDF-1.7"));
        }
    }
}
