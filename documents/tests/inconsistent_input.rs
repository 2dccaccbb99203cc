//! Input whose amounts do not add up, or that lacks what a legal invoice needs, is refused by
//! every output: nothing is rendered with wrong totals.

mod common;

use common::fixtures::{business_invoice, franchise_invoice, line, with_lines};
use invoice_documents::{facturx_cii, render_pdf, ubl, DocumentError, InvoiceDocument};

/// The error every output gives for the document (they must agree).
fn refusal(doc: &InvoiceDocument) -> DocumentError {
    let pdf = render_pdf(doc).unwrap_err();
    assert_eq!(facturx_cii(doc).unwrap_err(), pdf);
    assert_eq!(ubl(doc).unwrap_err(), pdf);
    pdf
}

#[test]
fn a_line_vat_that_is_not_the_rounded_rate_is_refused() {
    let mut doc = business_invoice();
    doc.lines[1].vat += 1;
    doc.totals.tax += 1;
    doc.totals.total += 1;
    doc.totals.amount_due += 1;
    assert_eq!(
        refusal(&doc),
        DocumentError::LineVatMismatch {
            line: 2,
            expected: 83,
            given: 84
        }
    );
}

#[test]
fn a_line_subtotal_that_is_not_quantity_times_price_is_refused() {
    let mut doc = business_invoice();
    doc.lines[0].subtotal -= 100;
    assert!(matches!(
        refusal(&doc),
        DocumentError::LineSubtotalMismatch { line: 1, .. }
    ));
}

#[test]
fn totals_that_are_not_the_sums_of_the_lines_are_refused() {
    for (field, edit) in [
        (
            "subtotal",
            (|d: &mut InvoiceDocument| d.totals.subtotal += 1) as fn(&mut _),
        ),
        ("tax", |d| d.totals.tax -= 1),
        ("total", |d| d.totals.total += 100),
        ("amount_due", |d| d.totals.amount_due -= 1),
    ] {
        let mut doc = business_invoice();
        edit(&mut doc);
        match refusal(&doc) {
            DocumentError::TotalMismatch { field: f, .. } => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn a_document_marked_paid_with_an_amount_due_is_refused() {
    let mut doc = business_invoice();
    doc.paid = true;
    assert!(matches!(
        refusal(&doc),
        DocumentError::PaidWithAmountDue { .. }
    ));
}

#[test]
fn a_seller_under_the_franchise_cannot_charge_vat() {
    let doc = with_lines(franchise_invoice(), vec![line("Logo", 1, 10_000, 2_000)]);
    assert_eq!(
        refusal(&doc),
        DocumentError::VatUnderFranchise {
            line: 1,
            rate_bps: 2_000
        }
    );
}

#[test]
fn a_seller_charging_vat_must_give_its_vat_number() {
    let mut doc = business_invoice();
    doc.seller.vat_number = None;
    assert_eq!(refusal(&doc), DocumentError::MissingSellerVatNumber);
}

#[test]
fn a_document_without_lines_is_refused() {
    let doc = with_lines(business_invoice(), vec![]);
    assert_eq!(refusal(&doc), DocumentError::NoLines);
}

#[test]
fn currencies_are_checked() {
    let mut doc = business_invoice();
    doc.currency = "euro".to_owned();
    assert!(matches!(refusal(&doc), DocumentError::InvalidCurrency(_)));
    doc.currency = "KWD".to_owned();
    assert!(matches!(
        refusal(&doc),
        DocumentError::CurrencyTooPrecise(_)
    ));
}

#[test]
fn identifiers_are_checked() {
    let mut doc = business_invoice();
    doc.seller.siren = "12345".to_owned();
    assert!(matches!(
        refusal(&doc),
        DocumentError::InvalidIdentifier {
            field: "seller.siren",
            ..
        }
    ));
    let mut doc = business_invoice();
    doc.number = "BS 2026/#3".to_owned();
    assert!(matches!(
        refusal(&doc),
        DocumentError::InvalidIdentifier {
            field: "number",
            ..
        }
    ));
}

#[test]
fn a_service_period_ending_before_it_starts_is_refused() {
    let mut doc = business_invoice();
    doc.service = invoice_documents::ServiceDate::Period {
        start: common::fixtures::date(2026, 11, 30),
        end: common::fixtures::date(2026, 11, 1),
    };
    assert!(matches!(
        refusal(&doc),
        DocumentError::InvalidServicePeriod { .. }
    ));
}
