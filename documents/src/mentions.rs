//! The sentences French law asks an invoice to carry, composed with the document's values.
//!
//! The PDF prints them and the XML carries the legal ones as notes, so both say the same thing.
//! Sources: art. 242 nonies A of annex II of the CGI (invoice mentions), art. L. 441-9 and
//! L. 441-10 of the Code de commerce (payment terms, penalties, 40 € indemnity), art. 293 B of
//! the CGI (franchise), and the 2026 e-invoicing reform (buyer SIREN, delivery address, nature
//! of the operation, VAT on debits).

use crate::currency::Currency;
use crate::format;
use crate::labels::{labels, Labels};
use crate::model::{Address, DocumentKind, OperationKind, PenaltyRate, ServiceDate};
use crate::validate::Checked;

/// The labels of the document's language.
pub fn words(c: &Checked) -> &'static Labels {
    labels(c.doc.language)
}

/// "Facture n° BS-2026-000003" / "Avoir n° AV-2026-000001".
pub fn title(c: &Checked) -> String {
    let l = words(c);
    let prefix = match c.doc.kind {
        DocumentKind::Invoice => l.invoice_title,
        DocumentKind::CreditNote { .. } => l.credit_note_title,
    };
    format!("{prefix}\u{A0}{}", c.doc.number)
}

/// For a credit note, the invoice it corrects: "(facture d'origine n° … du …)".
pub fn original_invoice(c: &Checked) -> Option<String> {
    let DocumentKind::CreditNote {
        original_number,
        original_issue_date,
    } = &c.doc.kind
    else {
        return None;
    };
    let date = format::date(*original_issue_date, c.doc.language);
    Some(match c.doc.language {
        crate::Language::Fr => {
            format!("(facture d'origine n°\u{A0}{original_number} du {date})")
        }
        crate::Language::En => {
            format!("(original invoice no.\u{A0}{original_number} of {date})")
        }
    })
}

/// The label and value of the date of the sale or the service period.
pub fn service_date(c: &Checked) -> (&'static str, String) {
    let l = words(c);
    let language = c.doc.language;
    match c.doc.service {
        ServiceDate::Day(day) => {
            let label = match c.doc.operation {
                OperationKind::Goods => l.delivery_date_goods,
                OperationKind::Services => l.delivery_date_services,
                OperationKind::Mixed => l.delivery_date_mixed,
            };
            (label, format::date(day, language))
        }
        ServiceDate::Period { start, end } => (
            l.service_period,
            format!(
                "{} {} {} {}",
                l.period_from,
                format::date(start, language),
                l.period_to,
                format::date(end, language)
            ),
        ),
    }
}

/// "Nature de l'opération : prestation de services".
pub fn operation(c: &Checked) -> String {
    let l = words(c);
    let kind = match c.doc.operation {
        OperationKind::Goods => l.operation_goods,
        OperationKind::Services => l.operation_services,
        OperationKind::Mixed => l.operation_mixed,
    };
    format!("{}{}{kind}", l.operation, l.colon)
}

/// "SAS au capital de 10 000,00 €" / "SAS with a share capital of €10,000.00".
pub fn legal_form_and_capital(c: &Checked) -> String {
    let seller = &c.doc.seller;
    let capital = seller.share_capital.as_ref().and_then(|capital| {
        let currency = Currency::parse(&capital.currency).ok()?;
        Some(format::amount(capital.amount, &currency, c.doc.language))
    });
    match (capital, c.doc.language) {
        (Some(capital), crate::Language::Fr) => {
            format!("{} au capital de {capital}", seller.legal_form)
        }
        (Some(capital), crate::Language::En) => {
            format!("{} with a share capital of {capital}", seller.legal_form)
        }
        (None, _) => seller.legal_form.clone(),
    }
}

/// "RCS Paris 123 456 789".
pub fn rcs(c: &Checked) -> String {
    format!(
        "RCS {} {}",
        c.doc.seller.rcs_city,
        format::siren(&c.doc.seller.siren)
    )
}

/// The seller's registration lines: SIREN/SIRET, RCS, VAT number.
pub fn seller_registration(c: &Checked) -> Vec<String> {
    let l = words(c);
    let seller = &c.doc.seller;
    let mut lines = vec![];
    let mut ids = format!("{}{}{}", l.siren, l.colon, format::siren(&seller.siren));
    if let Some(siret) = &seller.siret {
        ids.push_str(&format!(" — {}{}{siret}", l.siret, l.colon));
    }
    lines.push(ids);
    lines.push(rcs(c));
    if let Some(vat) = &seller.vat_number {
        lines.push(format!("{}{}{vat}", l.vat_number, l.colon));
    }
    lines
}

/// The buyer's business identifiers (SIREN, VAT number), when it is a business.
pub fn buyer_registration(c: &Checked) -> Vec<String> {
    let l = words(c);
    let Some(business) = &c.doc.buyer.business else {
        return vec![];
    };
    let mut lines = vec![];
    if let Some(siren) = &business.siren {
        lines.push(format!("{}{}{}", l.siren, l.colon, format::siren(siren)));
    }
    if let Some(vat) = &business.vat_number {
        lines.push(format!("{}{}{vat}", l.vat_number, l.colon));
    }
    lines
}

/// An address as printed lines; blank parts (a private buyer who gave only a country) are
/// left out.
pub fn address_lines(address: &Address) -> Vec<String> {
    let mut lines = Vec::new();
    for line in [Some(&address.line1), address.line2.as_ref()]
        .into_iter()
        .flatten()
    {
        if !line.trim().is_empty() {
            lines.push(line.clone());
        }
    }
    let place = format!("{} {}", address.postal_code, address.city);
    if !place.trim().is_empty() {
        lines.push(place.trim().to_owned());
    }
    lines.push(address.country.clone());
    lines
}

/// "Conditions de paiement : …".
pub fn payment_terms(c: &Checked) -> String {
    let l = words(c);
    format!(
        "{}{}{}",
        l.payment_terms, l.colon, c.doc.seller.payment_terms
    )
}

/// The late-payment penalty sentence.
pub fn late_penalties(c: &Checked) -> String {
    let l = words(c);
    match &c.doc.seller.late_penalty_rate {
        PenaltyRate::BasisPoints(bps) => {
            let rate = format::rate(*bps, c.doc.language);
            match c.doc.language {
                crate::Language::Fr => {
                    format!("{}{}taux annuel de {rate}", l.late_penalties, l.colon)
                }
                crate::Language::En => {
                    format!("{}{}annual rate of {rate}", l.late_penalties, l.colon)
                }
            }
        }
        PenaltyRate::Text(text) => format!("{}{}{text}", l.late_penalties, l.colon),
    }
}

/// The legal mentions printed at the foot of the document, in order.
pub fn legal_mentions(c: &Checked) -> Vec<String> {
    let l = words(c);
    let doc = c.doc;
    let mut lines = vec![payment_terms(c)];
    if doc.buyer.is_business() {
        lines.push(late_penalties(c));
        lines.push(l.recovery_indemnity.to_owned());
    }
    lines.push(l.no_early_payment_discount.to_owned());
    if doc.seller.vat_franchise {
        lines.push(l.vat_franchise.to_owned());
    }
    if doc.seller.vat_on_debits {
        lines.push(l.vat_on_debits.to_owned());
    }
    lines.push(operation(c));
    lines
}

/// "Page 1/3".
pub fn page_number(c: &Checked, page: usize, pages: usize) -> String {
    format!("{} {page}/{pages}", words(c).page)
}
