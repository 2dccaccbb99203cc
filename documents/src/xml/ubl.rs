//! The same invoice as an OASIS UBL 2.1 `Invoice` or `CreditNote`, following the EN 16931
//! UBL binding.
//!
//! Elements follow the UBL 2.1 schema order. The two document types differ only in their root,
//! type-code and line element names, and in where the due date goes: `Invoice` has
//! `cbc:DueDate`; `CreditNote` carries it as `cac:PaymentMeans/cbc:PaymentDueDate`, which
//! needs a payment means code we do not know, so a credit note's due date is left to the
//! payment terms text.

use super::common::{self, compact, Note, EMAIL_SCHEME, EN16931, SIREN_SCHEME, UNIT_CODE};
use super::writer::XmlWriter;
use crate::model::{Address, DocumentKind, ServiceDate};
use crate::validate::{Checked, VatCategory};

const CAC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2";
const CBC: &str = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2";

/// Element names that differ between the two document types.
struct Names {
    root: &'static str,
    namespace: &'static str,
    type_code: &'static str,
    line: &'static str,
    quantity: &'static str,
}

const INVOICE: Names = Names {
    root: "Invoice",
    namespace: "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    type_code: "cbc:InvoiceTypeCode",
    line: "cac:InvoiceLine",
    quantity: "cbc:InvoicedQuantity",
};

const CREDIT_NOTE: Names = Names {
    root: "CreditNote",
    namespace: "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    type_code: "cbc:CreditNoteTypeCode",
    line: "cac:CreditNoteLine",
    quantity: "cbc:CreditedQuantity",
};

/// Writes the UBL XML of a checked document.
pub fn write(c: &Checked) -> String {
    let names = match c.doc.kind {
        DocumentKind::Invoice => &INVOICE,
        DocumentKind::CreditNote { .. } => &CREDIT_NOTE,
    };
    let mut w = XmlWriter::new();
    w.open_with(
        names.root,
        &[
            ("xmlns", names.namespace),
            ("xmlns:cac", CAC),
            ("xmlns:cbc", CBC),
        ],
    );
    w.leaf("cbc:CustomizationID", EN16931);
    w.leaf("cbc:ProfileID", common::billing_mode(c));
    w.leaf("cbc:ID", &c.doc.number);
    w.leaf("cbc:IssueDate", &common::iso_date(c.doc.issue_date));
    if !c.doc.is_credit_note() {
        w.leaf("cbc:DueDate", &common::iso_date(c.doc.due_date));
    }
    w.leaf(names.type_code, super::cii::type_code(c));
    for Note { subject, text } in common::notes(c) {
        // UBL notes have no subject field: the EN 16931 convention prefixes the code.
        w.leaf("cbc:Note", &format!("#{subject}#{text}"));
    }
    w.leaf("cbc:DocumentCurrencyCode", c.currency.code());
    invoice_period(&mut w, c);
    if let DocumentKind::CreditNote {
        original_number,
        original_issue_date,
    } = &c.doc.kind
    {
        w.open("cac:BillingReference");
        w.open("cac:InvoiceDocumentReference");
        w.leaf("cbc:ID", original_number);
        w.leaf("cbc:IssueDate", &common::iso_date(*original_issue_date));
        w.close();
        w.close();
    }
    supplier(&mut w, c);
    customer(&mut w, c);
    delivery(&mut w, c);
    w.open("cac:PaymentTerms");
    w.leaf("cbc:Note", &c.doc.seller.payment_terms);
    w.close();
    tax_total(&mut w, c);
    monetary_total(&mut w, c);
    for index in 0..c.doc.lines.len() {
        line(&mut w, c, names, index);
    }
    w.finish()
}

fn amount(w: &mut XmlWriter, c: &Checked, element: &'static str, minor_units: i64) {
    w.leaf_with(
        element,
        &[("currencyID", c.currency.code())],
        &c.currency.decimal(minor_units),
    );
}

fn invoice_period(w: &mut XmlWriter, c: &Checked) {
    let period = match c.doc.service {
        ServiceDate::Period { start, end } => Some((start, end)),
        ServiceDate::Day(_) => None,
    };
    if period.is_none() && !c.doc.seller.vat_on_debits {
        return;
    }
    w.open("cac:InvoicePeriod");
    if let Some((start, end)) = period {
        w.leaf("cbc:StartDate", &common::iso_date(start));
        w.leaf("cbc:EndDate", &common::iso_date(end));
    }
    if c.doc.seller.vat_on_debits {
        // BT-8 in UBL (UNTDID 2005): 3, VAT due on the invoice date (the debits option).
        w.leaf("cbc:DescriptionCode", "3");
    }
    w.close();
}

fn address(w: &mut XmlWriter, element: &'static str, address: &Address) {
    // Only the country is mandatory: a private buyer may have given no more.
    let present = |value: &str| !value.trim().is_empty();
    w.open(element);
    if present(&address.line1) {
        w.leaf("cbc:StreetName", &address.line1);
    }
    if let Some(line2) = address.line2.as_ref().filter(|l| present(l)) {
        w.leaf("cbc:AdditionalStreetName", line2);
    }
    if present(&address.city) {
        w.leaf("cbc:CityName", &address.city);
    }
    if present(&address.postal_code) {
        w.leaf("cbc:PostalZone", &address.postal_code);
    }
    w.open("cac:Country");
    w.leaf("cbc:IdentificationCode", &address.country);
    w.close();
    w.close();
}

fn tax_scheme(w: &mut XmlWriter, element: &'static str, company_id: &str) {
    w.open(element);
    w.leaf("cbc:CompanyID", company_id);
    w.open("cac:TaxScheme");
    w.leaf("cbc:ID", "VAT");
    w.close();
    w.close();
}

fn supplier(w: &mut XmlWriter, c: &Checked) {
    let seller = &c.doc.seller;
    w.open("cac:AccountingSupplierParty");
    w.open("cac:Party");
    w.leaf_with(
        "cbc:EndpointID",
        &[("schemeID", EMAIL_SCHEME)],
        &seller.email,
    );
    if let Some(siret) = &seller.siret {
        w.open("cac:PartyIdentification");
        w.leaf_with("cbc:ID", &[("schemeID", "0009")], &compact(siret));
        w.close();
    }
    address(w, "cac:PostalAddress", &seller.address);
    match &seller.vat_number {
        Some(vat) => tax_scheme(w, "cac:PartyTaxScheme", vat),
        None => {
            // BT-32, the local tax registration (see the CII writer): TaxScheme is not VAT.
            w.open("cac:PartyTaxScheme");
            w.leaf("cbc:CompanyID", &compact(&seller.siren));
            w.open("cac:TaxScheme");
            w.leaf("cbc:ID", "FC");
            w.close();
            w.close();
        }
    }
    w.open("cac:PartyLegalEntity");
    w.leaf("cbc:RegistrationName", &seller.name);
    w.leaf_with(
        "cbc:CompanyID",
        &[("schemeID", SIREN_SCHEME)],
        &compact(&seller.siren),
    );
    w.leaf(
        "cbc:CompanyLegalForm",
        &format!(
            "{} — {}",
            crate::mentions::legal_form_and_capital(c),
            crate::mentions::rcs(c)
        ),
    );
    w.close();
    w.open("cac:Contact");
    w.leaf("cbc:ElectronicMail", &seller.email);
    w.close();
    w.close();
    w.close();
}

fn customer(w: &mut XmlWriter, c: &Checked) {
    let buyer = &c.doc.buyer;
    w.open("cac:AccountingCustomerParty");
    w.open("cac:Party");
    w.leaf_with(
        "cbc:EndpointID",
        &[("schemeID", EMAIL_SCHEME)],
        &buyer.email,
    );
    address(w, "cac:PostalAddress", &buyer.billing_address);
    if let Some(vat) = buyer.business.as_ref().and_then(|b| b.vat_number.as_ref()) {
        tax_scheme(w, "cac:PartyTaxScheme", vat);
    }
    w.open("cac:PartyLegalEntity");
    w.leaf("cbc:RegistrationName", buyer.display_name());
    if let Some(siren) = buyer.business.as_ref().and_then(|b| b.siren.as_ref()) {
        w.leaf_with(
            "cbc:CompanyID",
            &[("schemeID", SIREN_SCHEME)],
            &compact(siren),
        );
    }
    w.close();
    w.open("cac:Contact");
    if buyer.is_business() {
        w.leaf("cbc:Name", &buyer.name);
    }
    w.leaf("cbc:ElectronicMail", &buyer.email);
    w.close();
    w.close();
    w.close();
}

fn delivery(w: &mut XmlWriter, c: &Checked) {
    let day = match c.doc.service {
        ServiceDate::Day(day) => Some(day),
        ServiceDate::Period { .. } => None,
    };
    let ship_to = c.doc.buyer.distinct_delivery_address();
    if day.is_none() && ship_to.is_none() {
        return;
    }
    w.open("cac:Delivery");
    if let Some(day) = day {
        w.leaf("cbc:ActualDeliveryDate", &common::iso_date(day));
    }
    if let Some(ship_to) = ship_to {
        w.open("cac:DeliveryLocation");
        address(w, "cac:Address", ship_to);
        w.close();
        w.open("cac:DeliveryParty");
        w.open("cac:PartyName");
        w.leaf("cbc:Name", c.doc.buyer.display_name());
        w.close();
        w.close();
    }
    w.close();
}

/// A tax category; the exemption reason goes only in the breakdown (`with_reason`), as the
/// EN 16931 UBL rules ask (UBL-CR-601 warns against it on lines).
fn tax_category(
    w: &mut XmlWriter,
    c: &Checked,
    element: &'static str,
    category: VatCategory,
    bps: u32,
    with_reason: bool,
) {
    w.open(element);
    w.leaf("cbc:ID", category.code());
    w.leaf("cbc:Percent", &common::percent(bps));
    if let Some(reason) = common::exemption_reason(c, category).filter(|_| with_reason) {
        w.leaf("cbc:TaxExemptionReason", reason);
    }
    w.open("cac:TaxScheme");
    w.leaf("cbc:ID", "VAT");
    w.close();
    w.close();
}

fn tax_total(w: &mut XmlWriter, c: &Checked) {
    w.open("cac:TaxTotal");
    amount(w, c, "cbc:TaxAmount", c.doc.totals.tax);
    for group in &c.vat_groups {
        w.open("cac:TaxSubtotal");
        amount(w, c, "cbc:TaxableAmount", group.base);
        amount(w, c, "cbc:TaxAmount", group.vat);
        tax_category(
            w,
            c,
            "cac:TaxCategory",
            group.category,
            group.rate_bps,
            true,
        );
        w.close();
    }
    w.close();
}

fn monetary_total(w: &mut XmlWriter, c: &Checked) {
    let t = &c.doc.totals;
    w.open("cac:LegalMonetaryTotal");
    amount(w, c, "cbc:LineExtensionAmount", t.subtotal);
    amount(w, c, "cbc:TaxExclusiveAmount", t.subtotal);
    amount(w, c, "cbc:TaxInclusiveAmount", t.total);
    amount(w, c, "cbc:PrepaidAmount", t.amount_paid);
    amount(w, c, "cbc:PayableAmount", t.amount_due);
    w.close();
}

fn line(w: &mut XmlWriter, c: &Checked, names: &Names, index: usize) {
    let line = &c.doc.lines[index];
    w.open(names.line);
    w.leaf("cbc:ID", &(index + 1).to_string());
    w.leaf_with(
        names.quantity,
        &[("unitCode", UNIT_CODE)],
        &line.quantity.to_string(),
    );
    amount(w, c, "cbc:LineExtensionAmount", line.subtotal);
    w.open("cac:Item");
    w.leaf("cbc:Name", &line.description);
    tax_category(
        w,
        c,
        "cac:ClassifiedTaxCategory",
        c.category_of(line),
        line.vat_rate_bps,
        false,
    );
    w.close();
    w.open("cac:Price");
    amount(w, c, "cbc:PriceAmount", line.unit_price);
    w.close();
    w.close();
}
