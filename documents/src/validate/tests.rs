//! The checks of `validate`, on a minimal document.

use super::*;
use crate::model::*;

fn line(quantity: i64, unit_price: i64, vat_rate_bps: u32, vat: i64) -> Line {
    Line {
        description: "x".to_owned(),
        quantity,
        unit_price,
        vat_rate_bps,
        subtotal: quantity * unit_price,
        vat,
    }
}

fn doc_with(franchise: bool) -> InvoiceDocument {
    let address = Address {
        line1: "1 rue".to_owned(),
        line2: None,
        postal_code: "75001".to_owned(),
        city: "Paris".to_owned(),
        country: "FR".to_owned(),
    };
    let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    InvoiceDocument {
        kind: DocumentKind::Invoice,
        number: "F-1".to_owned(),
        issue_date: day,
        service: ServiceDate::Day(day),
        due_date: day,
        language: Language::Fr,
        currency: "EUR".to_owned(),
        seller: Seller {
            name: "S".to_owned(),
            legal_form: "SAS".to_owned(),
            share_capital: None,
            address: address.clone(),
            siren: "123456789".to_owned(),
            siret: None,
            rcs_city: "Paris".to_owned(),
            vat_number: Some("FR32123456789".to_owned()),
            email: "s@example.fr".to_owned(),
            vat_franchise: franchise,
            vat_on_debits: false,
            late_penalty_rate: PenaltyRate::BasisPoints(1_000),
            payment_terms: "30 jours".to_owned(),
        },
        buyer: Buyer {
            name: "B".to_owned(),
            email: "b@example.fr".to_owned(),
            business: None,
            billing_address: address,
            delivery_address: None,
        },
        operation: OperationKind::Services,
        lines: vec![],
        totals: Totals {
            subtotal: 0,
            tax: 0,
            total: 0,
            amount_paid: 0,
            amount_due: 0,
        },
        paid: false,
        memo: None,
        document_id: "d".to_owned(),
        created_at: day.and_hms_opt(0, 0, 0).unwrap(),
    }
}

fn with(mut doc: InvoiceDocument, lines: Vec<Line>) -> InvoiceDocument {
    let subtotal = lines.iter().map(|l| l.subtotal).sum();
    let tax = lines.iter().map(|l| l.vat).sum();
    doc.totals = Totals {
        subtotal,
        tax,
        total: subtotal + tax,
        amount_paid: 0,
        amount_due: subtotal + tax,
    };
    doc.lines = lines;
    doc
}

#[test]
fn vat_exactly_half_a_cent_rounds_up() {
    // 10 cents at 5.5 % is 0.55 cent: 1 cent. 9 cents at 5.5 % is 0.495 cent: 0.
    let doc = with(
        doc_with(false),
        vec![line(1, 10, 550, 1), line(1, 9, 550, 0)],
    );
    assert!(check(&doc).is_ok());
    let doc = with(doc_with(false), vec![line(1, 10, 550, 0)]);
    assert!(matches!(
        check(&doc),
        Err(DocumentError::LineVatMismatch { expected: 1, .. })
    ));
}

#[test]
fn a_credit_note_line_may_carry_the_vat_left_one_unit_off_its_own_rounding() {
    let mut note = doc_with(false);
    note.kind = DocumentKind::CreditNote {
        original_number: "BS-2026-000001".to_owned(),
        original_issue_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
    };
    // 10 cents at 5 % is half a cent: 1 cent by rounding, 0 left of the invoice's line.
    assert!(check(&with(note.clone(), vec![line(1, 10, 500, 0)])).is_ok());
    assert!(check(&with(note.clone(), vec![line(1, 10, 500, 2)])).is_ok());
    assert!(matches!(
        check(&with(note.clone(), vec![line(1, 10, 500, 3)])),
        Err(DocumentError::LineVatMismatch { expected: 1, .. })
    ));
    assert!(matches!(
        check(&with(note, vec![line(1, 0, 500, -1)])),
        Err(DocumentError::LineVatMismatch { .. })
    ));
    // An invoice's lines stay exact.
    assert!(matches!(
        check(&with(doc_with(false), vec![line(1, 10, 500, 0)])),
        Err(DocumentError::LineVatMismatch { expected: 1, .. })
    ));
}

#[test]
fn a_credit_within_an_invoice_is_a_negative_quantity_at_a_positive_price() {
    // 3 × 10,00 € less 1 × 2,50 € of unused time; at 5.5 % the credit's 0,1375 € is -0,14 €.
    let doc = with(
        doc_with(false),
        vec![line(3, 1_000, 550, 165), line(-1, 250, 550, -14)],
    );
    assert!(check(&doc).is_ok());
    assert!(matches!(
        check(&with(doc_with(false), vec![line(-1, 250, 550, -13)])),
        Err(DocumentError::LineVatMismatch { expected: -14, .. })
    ));
    assert!(matches!(
        check(&with(doc_with(false), vec![line(0, 250, 550, 0)])),
        Err(DocumentError::InvalidQuantity { .. })
    ));
    assert!(matches!(
        check(&with(doc_with(false), vec![line(1, -250, 550, -14)])),
        Err(DocumentError::NegativeUnitPrice { .. })
    ));
}

#[test]
fn the_breakdown_has_one_group_per_rate_highest_first() {
    let doc = with(
        doc_with(false),
        vec![
            line(1, 1_000, 550, 55),
            line(2, 1_000, 2_000, 400),
            line(1, 500, 2_000, 100),
            line(1, 300, 0, 0),
        ],
    );
    let checked = check(&doc).unwrap();
    let groups: Vec<_> = checked
        .vat_groups
        .iter()
        .map(|g| (g.category, g.rate_bps, g.base, g.vat))
        .collect();
    assert_eq!(
        groups,
        [
            (VatCategory::Standard, 2_000, 2_500, 500),
            (VatCategory::Standard, 550, 1_000, 55),
            (VatCategory::ZeroRated, 0, 300, 0),
        ]
    );
}

#[test]
fn every_line_of_a_franchise_seller_is_exempt() {
    let mut doc = with(doc_with(true), vec![line(3, 1_000, 0, 0)]);
    doc.seller.vat_number = None;
    let checked = check(&doc).unwrap();
    assert_eq!(checked.vat_groups[0].category, VatCategory::Exempt);
    assert_eq!(checked.vat_groups[0].category.code(), "E");
}

#[test]
fn a_siret_must_start_with_the_siren() {
    let mut doc = with(doc_with(false), vec![line(1, 100, 2_000, 20)]);
    doc.seller.siret = Some("98765432100012".to_owned());
    assert!(matches!(
        check(&doc),
        Err(DocumentError::InvalidIdentifier {
            field: "seller.siret",
            ..
        })
    ));
}
