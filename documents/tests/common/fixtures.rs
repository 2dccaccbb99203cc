//! Sample documents: a business buyer, a private buyer, a seller under the VAT franchise and a
//! credit note, with amounts computed the way the service computes them.

use chrono::NaiveDate;
use invoice_documents::{
    Address, BusinessDetails, Buyer, DocumentKind, InvoiceDocument, Language, Line, Money,
    OperationKind, PenaltyRate, Seller, ServiceDate, Totals,
};

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A line computed like the service: subtotal = qty × price, VAT rounded half up per line.
pub fn line(description: &str, quantity: i64, unit_price: i64, vat_rate_bps: u32) -> Line {
    let subtotal = quantity * unit_price;
    let vat = (subtotal * i64::from(vat_rate_bps) + 5_000) / 10_000;
    Line {
        description: description.to_owned(),
        quantity,
        unit_price,
        vat_rate_bps,
        subtotal,
        vat,
    }
}

/// Totals of lines, with `amount_paid` already paid.
pub fn totals(lines: &[Line], amount_paid: i64) -> Totals {
    let subtotal = lines.iter().map(|l| l.subtotal).sum();
    let tax = lines.iter().map(|l| l.vat).sum();
    let total = subtotal + tax;
    Totals {
        subtotal,
        tax,
        total,
        amount_paid,
        amount_due: total - amount_paid,
    }
}

pub fn seller() -> Seller {
    Seller {
        name: "Atelier Lumière".to_owned(),
        legal_form: "SAS".to_owned(),
        share_capital: Some(Money {
            amount: 1_000_000,
            currency: "EUR".to_owned(),
        }),
        address: Address {
            line1: "12 rue de la Paix".to_owned(),
            line2: Some("Bâtiment B".to_owned()),
            postal_code: "75002".to_owned(),
            city: "Paris".to_owned(),
            country: "FR".to_owned(),
        },
        siren: "123456789".to_owned(),
        siret: Some("12345678900012".to_owned()),
        rcs_city: "Paris".to_owned(),
        vat_number: Some("FR32123456789".to_owned()),
        email: "facturation@atelier-lumiere.fr".to_owned(),
        vat_franchise: false,
        vat_on_debits: true,
        late_penalty_rate: PenaltyRate::BasisPoints(1_215),
        payment_terms: "Paiement à 30 jours par virement bancaire".to_owned(),
    }
}

pub fn business_buyer() -> Buyer {
    Buyer {
        name: "Jeanne Martin".to_owned(),
        email: "compta@dupont-fils.fr".to_owned(),
        business: Some(BusinessDetails {
            company_name: "Dupont & Fils SARL".to_owned(),
            siren: Some("987654321".to_owned()),
            vat_number: Some("FR45987654321".to_owned()),
        }),
        billing_address: Address {
            line1: "5 avenue des Champs-Élysées".to_owned(),
            line2: None,
            postal_code: "75008".to_owned(),
            city: "Paris".to_owned(),
            country: "FR".to_owned(),
        },
        delivery_address: Some(Address {
            line1: "Entrepôt Nord, 3 quai de Loire".to_owned(),
            line2: None,
            postal_code: "69001".to_owned(),
            city: "Lyon".to_owned(),
            country: "FR".to_owned(),
        }),
    }
}

pub fn private_buyer() -> Buyer {
    Buyer {
        name: "Élodie Lefèvre".to_owned(),
        email: "elodie@example.fr".to_owned(),
        business: None,
        billing_address: Address {
            line1: "8 impasse des Lilas".to_owned(),
            line2: None,
            postal_code: "33000".to_owned(),
            city: "Bordeaux".to_owned(),
            country: "FR".to_owned(),
        },
        delivery_address: None,
    }
}

/// An invoice to a business, in French, with two VAT rates.
pub fn business_invoice() -> InvoiceDocument {
    let lines = vec![
        line(
            "Développement logiciel — sprint de novembre",
            12,
            65_000,
            2_000,
        ),
        line("Café crème « spécial » — 5 € l’unité", 3, 500, 550),
        line("Hébergement mensuel", 1, 4_999, 2_000),
    ];
    let totals = totals(&lines, 0);
    InvoiceDocument {
        kind: DocumentKind::Invoice,
        number: "BS-2026-000003".to_owned(),
        issue_date: date(2026, 11, 30),
        service: ServiceDate::Period {
            start: date(2026, 11, 1),
            end: date(2026, 11, 30),
        },
        due_date: date(2026, 12, 30),
        language: Language::Fr,
        currency: "EUR".to_owned(),
        seller: seller(),
        buyer: business_buyer(),
        operation: OperationKind::Mixed,
        lines,
        totals,
        paid: false,
        memo: Some("Merci pour votre confiance.".to_owned()),
        document_id: "inv_7f3c2a".to_owned(),
        created_at: date(2026, 11, 30).and_hms_opt(9, 15, 0).unwrap(),
    }
}

/// An invoice to a consumer, paid.
pub fn private_invoice() -> InvoiceDocument {
    let lines = vec![line("Cours particulier de piano", 4, 4_500, 2_000)];
    let totals = totals(&lines, 21_600);
    InvoiceDocument {
        kind: DocumentKind::Invoice,
        number: "BS-2026-000004".to_owned(),
        issue_date: date(2026, 12, 1),
        service: ServiceDate::Day(date(2026, 11, 28)),
        due_date: date(2026, 12, 1),
        buyer: private_buyer(),
        operation: OperationKind::Services,
        lines,
        totals,
        paid: true,
        memo: None,
        document_id: "inv_8a1d".to_owned(),
        ..business_invoice()
    }
}

/// An invoice from a micro-entrepreneur under the VAT franchise.
pub fn franchise_invoice() -> InvoiceDocument {
    let mut seller = seller();
    seller.name = "Paul Girard".to_owned();
    seller.legal_form = "EI".to_owned();
    seller.share_capital = None;
    seller.vat_number = None;
    seller.vat_franchise = true;
    seller.vat_on_debits = false;
    seller.rcs_city = "Nantes".to_owned();
    let lines = vec![
        line("Création de logo", 1, 45_000, 0),
        line("Déclinaisons (cartes de visite)", 2, 7_500, 0),
    ];
    let totals = totals(&lines, 0);
    InvoiceDocument {
        number: "PG-2026-000012".to_owned(),
        seller,
        operation: OperationKind::Services,
        lines,
        totals,
        document_id: "inv_franchise".to_owned(),
        ..business_invoice()
    }
}

/// A credit note for part of the business invoice, in English.
pub fn credit_note() -> InvoiceDocument {
    let lines = vec![line(
        "Développement logiciel — sprint de novembre",
        2,
        65_000,
        2_000,
    )];
    let totals = totals(&lines, 0);
    InvoiceDocument {
        kind: DocumentKind::CreditNote {
            original_number: "BS-2026-000003".to_owned(),
            original_issue_date: date(2026, 11, 30),
        },
        number: "AV-2026-000001".to_owned(),
        issue_date: date(2026, 12, 5),
        due_date: date(2026, 12, 5),
        language: Language::En,
        lines,
        totals,
        memo: None,
        document_id: "cn_01".to_owned(),
        ..business_invoice()
    }
}

/// The document with other lines (and the totals they give, nothing paid).
pub fn with_lines(mut doc: InvoiceDocument, lines: Vec<Line>) -> InvoiceDocument {
    doc.totals = totals(&lines, 0);
    doc.paid = false;
    doc.lines = lines;
    doc
}
