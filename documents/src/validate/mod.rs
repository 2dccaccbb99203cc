//! Checks a document before anything is rendered, and derives what every output shares: the
//! currency and the VAT breakdown.
//!
//! The service computes each line as `subtotal = quantity × unit_price` and
//! `vat = round_half_up(subtotal × bps / 10 000)` (half away from zero for a credit line's
//! negative quantity), and the totals as the sums of the lines.
//! We recompute all of it and refuse any difference (but one minor unit of a credit note
//! line's VAT, see `check_line`): a legal document must never print a total that the lines do
//! not add up to.

use std::collections::BTreeMap;

use crate::currency::Currency;
use crate::model::{DocumentKind, InvoiceDocument, Line, ServiceDate};
use crate::DocumentError;

/// The VAT category of EN 16931 (UNTDID 5305) a line falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum VatCategory {
    /// Standard or reduced rate.
    Standard,
    /// 0 % charged by a VAT-registered seller.
    ZeroRated,
    /// Exempt: the seller is under the franchise of art. 293 B du CGI.
    Exempt,
}

impl VatCategory {
    /// The UNTDID 5305 code.
    pub fn code(self) -> &'static str {
        match self {
            VatCategory::Standard => "S",
            VatCategory::ZeroRated => "Z",
            VatCategory::Exempt => "E",
        }
    }
}

/// The totals of one VAT category and rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VatGroup {
    pub category: VatCategory,
    pub rate_bps: u32,
    /// Sum of the subtotals of its lines.
    pub base: i64,
    /// Sum of the VAT of its lines.
    pub vat: i64,
}

/// A document that passed every check, with what the renderers derive from it.
#[derive(Debug, Clone)]
pub struct Checked<'a> {
    pub doc: &'a InvoiceDocument,
    pub currency: Currency,
    /// One entry per (category, rate), highest rate first.
    pub vat_groups: Vec<VatGroup>,
}

impl Checked<'_> {
    /// The VAT category of a line.
    pub fn category_of(&self, line: &Line) -> VatCategory {
        category(self.doc, line)
    }
}

/// Checks the document; see the module documentation.
pub fn check(doc: &InvoiceDocument) -> Result<Checked<'_>, DocumentError> {
    let currency = Currency::parse(&doc.currency)?;
    if currency.exponent() > 2 {
        return Err(DocumentError::CurrencyTooPrecise(doc.currency.clone()));
    }
    check_parties(doc)?;
    if let ServiceDate::Period { start, end } = doc.service {
        if end < start {
            return Err(DocumentError::InvalidServicePeriod { start, end });
        }
    }
    if doc.lines.is_empty() {
        return Err(DocumentError::NoLines);
    }
    let mut groups: BTreeMap<(VatCategory, std::cmp::Reverse<u32>), VatGroup> = BTreeMap::new();
    for (index, line) in doc.lines.iter().enumerate() {
        check_line(doc, index + 1, line)?;
        let category = category(doc, line);
        let group = groups
            .entry((category, std::cmp::Reverse(line.vat_rate_bps)))
            .or_insert(VatGroup {
                category,
                rate_bps: line.vat_rate_bps,
                base: 0,
                vat: 0,
            });
        group.base = group
            .base
            .checked_add(line.subtotal)
            .ok_or(DocumentError::Overflow)?;
        group.vat = group
            .vat
            .checked_add(line.vat)
            .ok_or(DocumentError::Overflow)?;
    }
    check_totals(doc)?;
    Ok(Checked {
        doc,
        currency,
        vat_groups: groups.into_values().collect(),
    })
}

fn category(doc: &InvoiceDocument, line: &Line) -> VatCategory {
    if doc.seller.vat_franchise {
        VatCategory::Exempt
    } else if line.vat_rate_bps == 0 {
        VatCategory::ZeroRated
    } else {
        VatCategory::Standard
    }
}

fn check_parties(doc: &InvoiceDocument) -> Result<(), DocumentError> {
    let required = [
        ("number", doc.number.as_str()),
        ("document_id", doc.document_id.as_str()),
        ("seller.name", doc.seller.name.as_str()),
        ("seller.legal_form", doc.seller.legal_form.as_str()),
        ("seller.rcs_city", doc.seller.rcs_city.as_str()),
        ("seller.payment_terms", doc.seller.payment_terms.as_str()),
        ("seller.address.line1", doc.seller.address.line1.as_str()),
        ("seller.address.city", doc.seller.address.city.as_str()),
        ("buyer.name", doc.buyer.name.as_str()),
    ];
    for (field, value) in required {
        if value.trim().is_empty() {
            return Err(DocumentError::MissingField { field });
        }
    }
    // A business buyer's address is always known; a private buyer may have given only a
    // country (EN 16931 requires no more, BT-55).
    if doc.buyer.is_business() {
        let address = &doc.buyer.billing_address;
        for (field, value) in [
            ("buyer.billing_address.line1", address.line1.as_str()),
            ("buyer.billing_address.city", address.city.as_str()),
        ] {
            if value.trim().is_empty() {
                return Err(DocumentError::MissingField { field });
            }
        }
    }
    if let DocumentKind::CreditNote {
        original_number, ..
    } = &doc.kind
    {
        if original_number.trim().is_empty() {
            return Err(DocumentError::MissingField {
                field: "kind.original_number",
            });
        }
    }
    document_number("number", &doc.number)?;
    if let DocumentKind::CreditNote {
        original_number, ..
    } = &doc.kind
    {
        document_number("kind.original_number", original_number)?;
    }
    if let Some(capital) = &doc.seller.share_capital {
        Currency::parse(&capital.currency)?;
    }
    digits("seller.siren", &doc.seller.siren, 9)?;
    if let Some(siret) = &doc.seller.siret {
        digits("seller.siret", siret, 14)?;
        let compact = |s: &str| s.replace(' ', "");
        if !compact(siret).starts_with(&compact(&doc.seller.siren)) {
            return Err(DocumentError::InvalidIdentifier {
                field: "seller.siret",
                value: siret.clone(),
                expected: "the SIREN followed by 5 digits",
            });
        }
    }
    if let Some(siren) = doc.buyer.business.as_ref().and_then(|b| b.siren.as_ref()) {
        digits("buyer.business.siren", siren, 9)?;
    }
    for (field, country) in [
        ("seller.address.country", &doc.seller.address.country),
        (
            "buyer.billing_address.country",
            &doc.buyer.billing_address.country,
        ),
    ] {
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(DocumentError::InvalidIdentifier {
                field,
                value: country.clone(),
                expected: "an ISO 3166-1 alpha-2 code",
            });
        }
    }
    let has_vat_number = doc
        .seller
        .vat_number
        .as_ref()
        .is_some_and(|n| !n.trim().is_empty());
    if !doc.seller.vat_franchise && !has_vat_number {
        return Err(DocumentError::MissingSellerVatNumber);
    }
    Ok(())
}

/// Document numbers as the French e-invoicing rules accept them (BR-FR-01, BR-FR-02): at most
/// 35 characters among letters, digits and `+ - _ /`.
fn document_number(field: &'static str, number: &str) -> Result<(), DocumentError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '_' | '/');
    if number.len() <= 35 && number.chars().all(allowed) {
        Ok(())
    } else {
        Err(DocumentError::InvalidIdentifier {
            field,
            value: number.to_owned(),
            expected: "at most 35 letters, digits or + - _ /",
        })
    }
}

fn digits(field: &'static str, value: &str, count: usize) -> Result<(), DocumentError> {
    let compact: String = value.chars().filter(|c| *c != ' ').collect();
    if compact.len() == count && compact.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(DocumentError::InvalidIdentifier {
            field,
            value: value.to_owned(),
            expected: if count == 9 { "9 digits" } else { "14 digits" },
        })
    }
}

fn check_line(doc: &InvoiceDocument, index: usize, line: &Line) -> Result<(), DocumentError> {
    if line.description.trim().is_empty() {
        return Err(DocumentError::MissingField {
            field: "lines[].description",
        });
    }
    // A credit within an invoice (a plan change's unused time) is a negative quantity at a
    // non-negative price: EN 16931 forbids a negative item price (BR-27), not a quantity.
    if line.quantity == 0 {
        return Err(DocumentError::InvalidQuantity {
            line: index,
            quantity: line.quantity,
        });
    }
    if line.unit_price < 0 {
        return Err(DocumentError::NegativeUnitPrice {
            line: index,
            unit_price: line.unit_price,
        });
    }
    if line.vat_rate_bps > 10_000 {
        return Err(DocumentError::InvalidVatRate {
            line: index,
            rate_bps: line.vat_rate_bps,
        });
    }
    if doc.seller.vat_franchise && line.vat_rate_bps != 0 {
        return Err(DocumentError::VatUnderFranchise {
            line: index,
            rate_bps: line.vat_rate_bps,
        });
    }
    let subtotal = i128::from(line.quantity) * i128::from(line.unit_price);
    let subtotal = i64::try_from(subtotal).map_err(|_| DocumentError::Overflow)?;
    if subtotal != line.subtotal {
        return Err(DocumentError::LineSubtotalMismatch {
            line: index,
            expected: subtotal,
            given: line.subtotal,
        });
    }
    // Half away from zero: a credit line's VAT is the opposite of the same charge's.
    let base = i128::from(subtotal) * i128::from(line.vat_rate_bps);
    let vat = if base < 0 {
        -((-base + 5_000) / 10_000)
    } else {
        (base + 5_000) / 10_000
    };
    let vat = i64::try_from(vat).map_err(|_| DocumentError::Overflow)?;
    // A credit note's line that takes the last part of an invoice line credits the VAT that
    // is left of it, which can be one minor unit off its own rounding (3 × 0,10 € at 5 % is
    // 0,02 € of VAT; credited one unit at a time, 0,01 + 0,01 + 0,00). EN 16931 allows it:
    // BR-CO-17 accepts a VAT amount within one unit of its rate applied to the base.
    let tolerance = if doc.is_credit_note() { 1 } else { 0 };
    let wrong_sign = (line.vat < 0 && subtotal >= 0) || (line.vat > 0 && subtotal <= 0);
    if wrong_sign || (vat - line.vat).abs() > tolerance {
        return Err(DocumentError::LineVatMismatch {
            line: index,
            expected: vat,
            given: line.vat,
        });
    }
    Ok(())
}

fn check_totals(doc: &InvoiceDocument) -> Result<(), DocumentError> {
    let sum = |f: fn(&Line) -> i64| -> Result<i64, DocumentError> {
        doc.lines
            .iter()
            .try_fold(0i64, |acc, line| acc.checked_add(f(line)))
            .ok_or(DocumentError::Overflow)
    };
    let totals = &doc.totals;
    let subtotal = sum(|l| l.subtotal)?;
    let tax = sum(|l| l.vat)?;
    let total = subtotal.checked_add(tax).ok_or(DocumentError::Overflow)?;
    if totals.amount_paid < 0 {
        return Err(DocumentError::NegativeAmountPaid(totals.amount_paid));
    }
    let due = total
        .checked_sub(totals.amount_paid)
        .ok_or(DocumentError::Overflow)?;
    for (field, expected, given) in [
        ("subtotal", subtotal, totals.subtotal),
        ("tax", tax, totals.tax),
        ("total", total, totals.total),
        ("amount_due", due, totals.amount_due),
    ] {
        if expected != given {
            return Err(DocumentError::TotalMismatch {
                field,
                expected,
                given,
            });
        }
    }
    if doc.paid && totals.amount_due != 0 {
        return Err(DocumentError::PaidWithAmountDue {
            amount_due: totals.amount_due,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
