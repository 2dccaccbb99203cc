//! The invoice PDF: a well-formed file whose text says what the invoice says.

use aggregates::invoice::InvoiceLine;
use aggregates::money::Currency;

use super::{render, InvoiceDocument, Seller};

fn invoice(paid: bool, lines: usize) -> InvoiceDocument {
    InvoiceDocument {
        seller: Seller {
            name: "Billstream SAS".into(),
            address: vec!["1 rue de la Paix".into(), "75002 Paris".into()],
            vat_id: Some("FR00123456789".into()),
            email: Some("factures@billstream.example".into()),
        },
        customer_name: "Ada (Lovelace)".into(),
        customer_email: "ada@example.com".into(),
        number: Some("BS-2026-000042".into()),
        issued_on: "2026-11-24".into(),
        due_on: Some("2026-12-24".into()),
        currency: Currency::parse("currency", "eur").unwrap(),
        lines: (0..lines)
            .map(|i| {
                InvoiceLine::parse(i, &format!("Prestation n°{i}"), 2, 1_250, Some(2_000)).unwrap()
            })
            .collect(),
        subtotal: 2_500 * lines as i64,
        tax: 500 * lines as i64,
        total: 3_000 * lines as i64,
        paid,
        memo: Some("Merci !".into()),
    }
}

/// Every object the cross-reference table points at starts exactly there.
fn assert_well_formed(pdf: &[u8]) {
    let text = String::from_utf8_lossy(pdf);
    assert!(pdf.starts_with(b"%PDF-1.4\n"));
    assert!(text.ends_with("%%EOF\n"));
    let startxref: usize = text
        .rsplit("startxref\n")
        .next()
        .and_then(|tail| tail.lines().next())
        .and_then(|n| n.parse().ok())
        .expect("startxref");
    assert!(pdf[startxref..].starts_with(b"xref\n"));
    let table = String::from_utf8_lossy(&pdf[startxref..]);
    for (object, line) in table
        .lines()
        .skip(3)
        .take_while(|l| l.ends_with(" n "))
        .enumerate()
    {
        let offset: usize = line[..10].parse().unwrap();
        let expected = format!("{} 0 obj", object + 1);
        assert!(
            pdf[offset..].starts_with(expected.as_bytes()),
            "object {}",
            object + 1
        );
    }
}

fn contains(pdf: &[u8], needle: &str) -> bool {
    pdf.windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[test]
fn a_paid_invoice_shows_everything_and_the_paid_mark() {
    let pdf = render(&invoice(true, 3));
    assert_well_formed(&pdf);
    for needle in [
        "(Facture BS-2026-000042) Tj",
        "(Billstream SAS) Tj",
        "(TVA : FR00123456789) Tj",
        "(Ada \\(Lovelace\\)) Tj",
        "(ada@example.com) Tj",
        "(Date : 2026-11-24) Tj",
        "(\\311ch\\351ance : 2026-12-24) Tj",
        "(Prestation n\\2600) Tj",
        "(12.50 EUR) Tj",
        "(20 %) Tj",
        "(Total HT) Tj",
        "(75.00 EUR) Tj",
        "(15.00 EUR) Tj",
        "(90.00 EUR) Tj",
        "(PAY\\311E / PAID) Tj",
        "(Merci !) Tj",
    ] {
        assert!(contains(&pdf, needle), "{needle} missing");
    }
}

#[test]
fn an_unpaid_invoice_has_no_paid_mark() {
    let pdf = render(&invoice(false, 1));
    assert_well_formed(&pdf);
    assert!(!contains(&pdf, "PAID"));
}

#[test]
fn many_lines_flow_onto_further_pages() {
    let pdf = render(&invoice(false, 75));
    assert_well_formed(&pdf);
    assert!(contains(&pdf, "/Count 3"));
    assert!(contains(&pdf, "(Prestation n\\26074) Tj"));
}
