//! The input: everything a French invoice or credit note shows, as plain values.
//!
//! Amounts are integer minor units of `InvoiceDocument::currency` (cents for EUR, yen for JPY).
//! Line amounts and totals are computed by the caller and checked here (see `validate`), so the
//! documents print exactly what the books hold.

use chrono::{NaiveDate, NaiveDateTime};

/// One invoice or credit note, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceDocument {
    /// Invoice, or credit note with the invoice it corrects.
    pub kind: DocumentKind,
    /// The document number, unique in its sequence (`BS-2026-000003`, `AV-2026-000001`).
    pub number: String,
    pub issue_date: NaiveDate,
    /// When the goods were delivered or the service rendered (one day or a period).
    pub service: ServiceDate,
    pub due_date: NaiveDate,
    pub language: Language,
    /// ISO 4217 code (`EUR`, `USD`, `JPY`); its minor-unit exponent is looked up.
    pub currency: String,
    pub seller: Seller,
    pub buyer: Buyer,
    /// What the document sells (the 2026 reform asks for it).
    pub operation: OperationKind,
    pub lines: Vec<Line>,
    pub totals: Totals,
    /// Prints a PAID / PAYÉ mark.
    pub paid: bool,
    /// A free note printed under the totals and carried as a note in the XML.
    pub memo: Option<String>,
    /// Identifies the document in the PDF (file ID, XMP ids): the same id and content give
    /// the same bytes. Typically the invoice's aggregate id.
    pub document_id: String,
    /// When the document was created, in UTC: the PDF's and the embedded XML's dates (the
    /// crate reads no clock).
    pub created_at: NaiveDateTime,
}

/// Invoice or credit note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentKind {
    Invoice,
    /// A credit note ("avoir") cancelling all or part of an earlier invoice. Its amounts are
    /// positive: the type says they are credited.
    CreditNote {
        original_number: String,
        original_issue_date: NaiveDate,
    },
}

/// Date of the sale, or period of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceDate {
    Day(NaiveDate),
    Period { start: NaiveDate, end: NaiveDate },
}

/// The language every label and mention is printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Fr,
    En,
}

/// The nature of the operation, a mention the 2026 e-invoicing reform requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Goods,
    Services,
    Mixed,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub line1: String,
    pub line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2 (`FR`).
    pub country: String,
}

/// An amount of money in minor units of a currency (the seller's share capital).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub amount: i64,
    /// ISO 4217 code.
    pub currency: String,
}

/// The late-payment penalty rate, as the seller states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PenaltyRate {
    /// An annual rate in basis points (1 000 = 10 %).
    BasisPoints(u32),
    /// A rate in words ("trois fois le taux d'intérêt légal").
    Text(String),
}

/// The seller: the business issuing the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seller {
    pub name: String,
    /// Legal form ("SAS", "SARL", "EI").
    pub legal_form: String,
    /// Share capital, for companies that have one.
    pub share_capital: Option<Money>,
    pub address: Address,
    /// 9 digits.
    pub siren: String,
    /// 14 digits, the establishment issuing the document.
    pub siret: Option<String>,
    /// The city of the trade register ("Paris" prints "RCS Paris 123 456 789").
    pub rcs_city: String,
    /// Intra-community VAT number ("FR12345678901"); required unless under the franchise.
    pub vat_number: Option<String>,
    pub email: String,
    /// Under the VAT franchise (art. 293 B du CGI): every line at 0 %, category E.
    pub vat_franchise: bool,
    /// The seller opted to pay VAT on debits rather than on receipts.
    pub vat_on_debits: bool,
    pub late_penalty_rate: PenaltyRate,
    /// The agreed payment terms ("Paiement à 30 jours par virement").
    pub payment_terms: String,
}

/// The buyer: who the document is addressed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buyer {
    /// The person's name (or the contact at a business).
    pub name: String,
    pub email: String,
    /// Present when the buyer is a business: then the penalty rate and the 40 € recovery
    /// indemnity are printed, with its SIREN and VAT number.
    pub business: Option<BusinessDetails>,
    pub billing_address: Address,
    /// Printed (and sent in the XML) only when it differs from the billing address.
    pub delivery_address: Option<Address>,
}

/// A business buyer's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessDetails {
    pub company_name: String,
    /// 9 digits; optional for a foreign business.
    pub siren: Option<String>,
    pub vat_number: Option<String>,
}

/// One line as the service computed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub description: String,
    pub quantity: i64,
    /// Unit price excluding VAT, in minor units.
    pub unit_price: i64,
    /// VAT rate in basis points (2 000 = 20 %, 550 = 5.5 %).
    pub vat_rate_bps: u32,
    /// `quantity × unit_price`.
    pub subtotal: i64,
    /// `round_half_up(subtotal × vat_rate_bps / 10 000)`.
    pub vat: i64,
}

/// The document's totals as the service computed them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Sum of the lines' subtotals (total excluding VAT).
    pub subtotal: i64,
    /// Sum of the lines' VAT.
    pub tax: i64,
    /// `subtotal + tax` (total including VAT).
    pub total: i64,
    /// Already paid.
    pub amount_paid: i64,
    /// `total - amount_paid`.
    pub amount_due: i64,
}

impl Buyer {
    /// Whether the buyer is a business (as opposed to a consumer).
    pub fn is_business(&self) -> bool {
        self.business.is_some()
    }

    /// The name the document is addressed to: the company's for a business.
    pub fn display_name(&self) -> &str {
        self.business
            .as_ref()
            .map_or(&self.name, |b| &b.company_name)
    }

    /// The delivery address when it differs from the billing address.
    pub fn distinct_delivery_address(&self) -> Option<&Address> {
        self.delivery_address
            .as_ref()
            .filter(|delivery| **delivery != self.billing_address)
    }
}

impl InvoiceDocument {
    /// Whether this is a credit note.
    pub fn is_credit_note(&self) -> bool {
        matches!(self.kind, DocumentKind::CreditNote { .. })
    }
}
