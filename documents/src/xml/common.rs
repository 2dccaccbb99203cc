//! What the CII and UBL writers share: number and date forms, the legal notes, and the
//! French billing-mode code.

use chrono::NaiveDate;

use crate::mentions::{self, words};
use crate::model::OperationKind;
use crate::validate::{Checked, VatCategory};

/// The EN 16931 specification identifier (BT-24).
pub const EN16931: &str = "urn:cen.eu:en16931:2017";
/// Unit code for "one" (UN/ECE Recommendation 20): quantities are counts of items.
pub const UNIT_CODE: &str = "C62";
/// Scheme of a SIREN (ISO 6523 ICD 0002).
pub const SIREN_SCHEME: &str = "0002";
/// Electronic address scheme for an e-mail address.
pub const EMAIL_SCHEME: &str = "EM";

/// A VAT rate in percent, as a plain decimal without useless zeros: `20`, `5.5`, `2.1`.
pub fn percent(bps: u32) -> String {
    let whole = bps / 100;
    match bps % 100 {
        0 => whole.to_string(),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}

/// CII date, format 102: `20261130`.
pub fn date_102(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

/// UBL date: `2026-11-30`.
pub fn iso_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// An invoice note (BG-1): its UNTDID 4451 subject code and text.
pub struct Note {
    pub subject: &'static str,
    pub text: String,
}

/// The notes both syntaxes carry: the memo, the seller's legal identity, and the mentions
/// French law requires in text (the French CTC rules expect them under the subject codes
/// PMD, PMT and AAB, each at most once; TXD for tax mentions).
pub fn notes(c: &Checked) -> Vec<Note> {
    let l = words(c);
    let doc = c.doc;
    let mut notes = vec![];
    if let Some(memo) = doc.memo.as_ref().filter(|m| !m.trim().is_empty()) {
        notes.push(Note {
            subject: "AAI",
            text: memo.clone(),
        });
    }
    notes.push(Note {
        subject: "REG",
        text: format!(
            "{} — {}",
            mentions::legal_form_and_capital(c),
            mentions::rcs(c)
        ),
    });
    if doc.buyer.is_business() {
        notes.push(Note {
            subject: "PMD",
            text: mentions::late_penalties(c),
        });
        notes.push(Note {
            subject: "PMT",
            text: l.recovery_indemnity.to_owned(),
        });
    }
    notes.push(Note {
        subject: "AAB",
        text: l.no_early_payment_discount.to_owned(),
    });
    let mut tax = vec![];
    if doc.seller.vat_franchise {
        tax.push(l.vat_franchise);
    }
    if doc.seller.vat_on_debits {
        tax.push(l.vat_on_debits);
    }
    if !tax.is_empty() {
        notes.push(Note {
            subject: "TXD",
            text: tax.join(". "),
        });
    }
    notes
}

/// The French billing mode (BT-23, "cadre de facturation"): B for goods, S for services, M for
/// both; 1 for an invoice to be paid, 2 for one already paid.
pub fn billing_mode(c: &Checked) -> &'static str {
    match (c.doc.operation, c.doc.paid) {
        (OperationKind::Goods, false) => "B1",
        (OperationKind::Services, false) => "S1",
        (OperationKind::Mixed, false) => "M1",
        (OperationKind::Goods, true) => "B2",
        (OperationKind::Services, true) => "S2",
        (OperationKind::Mixed, true) => "M2",
    }
}

/// The exemption reason a VAT category needs (BR-E-10), if any.
pub fn exemption_reason(c: &Checked, category: VatCategory) -> Option<&'static str> {
    match category {
        VatCategory::Exempt => Some(words(c).vat_franchise),
        VatCategory::Standard | VatCategory::ZeroRated => None,
    }
}

/// An identifier without the spaces people type in it ("123 456 789").
pub fn compact(id: &str) -> String {
    id.chars().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percents_have_no_useless_zeros() {
        assert_eq!(percent(2000), "20");
        assert_eq!(percent(550), "5.5");
        assert_eq!(percent(210), "2.1");
        assert_eq!(percent(105), "1.05");
        assert_eq!(percent(0), "0");
    }

    #[test]
    fn dates_use_each_syntax_form() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        assert_eq!(date_102(d), "20260309");
        assert_eq!(iso_date(d), "2026-03-09");
    }
}
