//! The Factur-X XML: a UN/CEFACT Cross Industry Invoice (D16B) of the EN 16931 profile.
//!
//! Elements follow the order of the Factur-X 1.0 EN 16931 XSD. Amounts are written with the
//! currency's decimals and equal the input to the minor unit; a credit note (type 381) keeps
//! positive amounts and references the invoice it corrects (BG-3).

use super::common::{self, compact, Note, EMAIL_SCHEME, EN16931, SIREN_SCHEME, UNIT_CODE};
use super::writer::XmlWriter;
use crate::model::{Address, DocumentKind, ServiceDate};
use crate::validate::Checked;

const NAMESPACES: [(&str, &str); 4] = [
    (
        "xmlns:rsm",
        "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    ),
    (
        "xmlns:qdt",
        "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    ),
    (
        "xmlns:ram",
        "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    ),
    (
        "xmlns:udt",
        "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    ),
];

/// Writes the CII XML of a checked document.
pub fn write(c: &Checked) -> String {
    let mut w = XmlWriter::new();
    w.open_with("rsm:CrossIndustryInvoice", &NAMESPACES);

    w.open("rsm:ExchangedDocumentContext");
    w.open("ram:BusinessProcessSpecifiedDocumentContextParameter");
    w.leaf("ram:ID", common::billing_mode(c));
    w.close();
    w.open("ram:GuidelineSpecifiedDocumentContextParameter");
    w.leaf("ram:ID", EN16931);
    w.close();
    w.close();

    w.open("rsm:ExchangedDocument");
    w.leaf("ram:ID", &c.doc.number);
    w.leaf("ram:TypeCode", type_code(c));
    date(&mut w, "ram:IssueDateTime", c.doc.issue_date);
    for Note { subject, text } in common::notes(c) {
        w.open("ram:IncludedNote");
        w.leaf("ram:Content", &text);
        w.leaf("ram:SubjectCode", subject);
        w.close();
    }
    w.close();

    w.open("rsm:SupplyChainTradeTransaction");
    for (index, _) in c.doc.lines.iter().enumerate() {
        line_item(&mut w, c, index);
    }
    agreement(&mut w, c);
    delivery(&mut w, c);
    settlement(&mut w, c);
    w.close();

    w.finish()
}

/// UNTDID 1001: 380 commercial invoice, 381 credit note.
pub fn type_code(c: &Checked) -> &'static str {
    match c.doc.kind {
        DocumentKind::Invoice => "380",
        DocumentKind::CreditNote { .. } => "381",
    }
}

fn date(w: &mut XmlWriter, element: &'static str, value: chrono::NaiveDate) {
    w.open(element);
    w.leaf_with(
        "udt:DateTimeString",
        &[("format", "102")],
        &common::date_102(value),
    );
    w.close();
}

fn amount(c: &Checked, minor_units: i64) -> String {
    c.currency.decimal(minor_units)
}

fn line_item(w: &mut XmlWriter, c: &Checked, index: usize) {
    let line = &c.doc.lines[index];
    let category = c.category_of(line);
    w.open("ram:IncludedSupplyChainTradeLineItem");
    w.open("ram:AssociatedDocumentLineDocument");
    w.leaf("ram:LineID", &(index + 1).to_string());
    w.close();
    w.open("ram:SpecifiedTradeProduct");
    w.leaf("ram:Name", &line.description);
    w.close();
    w.open("ram:SpecifiedLineTradeAgreement");
    w.open("ram:NetPriceProductTradePrice");
    w.leaf("ram:ChargeAmount", &amount(c, line.unit_price));
    w.close();
    w.close();
    w.open("ram:SpecifiedLineTradeDelivery");
    w.leaf_with(
        "ram:BilledQuantity",
        &[("unitCode", UNIT_CODE)],
        &line.quantity.to_string(),
    );
    w.close();
    w.open("ram:SpecifiedLineTradeSettlement");
    w.open("ram:ApplicableTradeTax");
    w.leaf("ram:TypeCode", "VAT");
    w.leaf("ram:CategoryCode", category.code());
    w.leaf(
        "ram:RateApplicablePercent",
        &common::percent(line.vat_rate_bps),
    );
    w.close();
    w.open("ram:SpecifiedTradeSettlementLineMonetarySummation");
    w.leaf("ram:LineTotalAmount", &amount(c, line.subtotal));
    w.close();
    w.close();
    w.close();
}

fn address(w: &mut XmlWriter, address: &Address) {
    // Only the country is mandatory (BT-55 / BT-40): a private buyer may have given no more.
    let present = |value: &str| !value.trim().is_empty();
    w.open("ram:PostalTradeAddress");
    if present(&address.postal_code) {
        w.leaf("ram:PostcodeCode", &address.postal_code);
    }
    if present(&address.line1) {
        w.leaf("ram:LineOne", &address.line1);
    }
    if let Some(line2) = address.line2.as_ref().filter(|l| present(l)) {
        w.leaf("ram:LineTwo", line2);
    }
    if present(&address.city) {
        w.leaf("ram:CityName", &address.city);
    }
    w.leaf("ram:CountryID", &address.country);
    w.close();
}

fn email(w: &mut XmlWriter, email: &str) {
    if email.trim().is_empty() {
        return;
    }
    w.open("ram:URIUniversalCommunication");
    w.leaf_with("ram:URIID", &[("schemeID", EMAIL_SCHEME)], email);
    w.close();
}

fn vat_id(w: &mut XmlWriter, scheme: &str, id: &str) {
    w.open("ram:SpecifiedTaxRegistration");
    w.leaf_with("ram:ID", &[("schemeID", scheme)], id);
    w.close();
}

fn agreement(w: &mut XmlWriter, c: &Checked) {
    let seller = &c.doc.seller;
    let buyer = &c.doc.buyer;
    w.open("ram:ApplicableHeaderTradeAgreement");

    w.open("ram:SellerTradeParty");
    if let Some(siret) = &seller.siret {
        // ICD 0009: SIRET, the establishment's identifier.
        w.leaf_with("ram:GlobalID", &[("schemeID", "0009")], &compact(siret));
    }
    w.leaf("ram:Name", &seller.name);
    w.open("ram:SpecifiedLegalOrganization");
    w.leaf_with(
        "ram:ID",
        &[("schemeID", SIREN_SCHEME)],
        &compact(&seller.siren),
    );
    w.close();
    address(w, &seller.address);
    email(w, &seller.email);
    match &seller.vat_number {
        Some(vat) => vat_id(w, "VA", vat),
        // A seller under the franchise has no VAT number; EN 16931 (BR-E-2) then asks for
        // its local tax registration (BT-32): the SIREN, which identifies it to the tax office.
        None => vat_id(w, "FC", &compact(&seller.siren)),
    }
    w.close();

    w.open("ram:BuyerTradeParty");
    w.leaf("ram:Name", buyer.display_name());
    if let Some(siren) = buyer.business.as_ref().and_then(|b| b.siren.as_ref()) {
        w.open("ram:SpecifiedLegalOrganization");
        w.leaf_with("ram:ID", &[("schemeID", SIREN_SCHEME)], &compact(siren));
        w.close();
    }
    if buyer.is_business() {
        w.open("ram:DefinedTradeContact");
        w.leaf("ram:PersonName", &buyer.name);
        w.close();
    }
    address(w, &buyer.billing_address);
    email(w, &buyer.email);
    if let Some(vat) = buyer.business.as_ref().and_then(|b| b.vat_number.as_ref()) {
        vat_id(w, "VA", vat);
    }
    w.close();

    w.close();
}

fn delivery(w: &mut XmlWriter, c: &Checked) {
    w.open("ram:ApplicableHeaderTradeDelivery");
    if let Some(ship_to) = c.doc.buyer.distinct_delivery_address() {
        w.open("ram:ShipToTradeParty");
        w.leaf("ram:Name", c.doc.buyer.display_name());
        address(w, ship_to);
        w.close();
    }
    if let ServiceDate::Day(day) = c.doc.service {
        w.open("ram:ActualDeliverySupplyChainEvent");
        date(w, "ram:OccurrenceDateTime", day);
        w.close();
    }
    w.close();
}

fn settlement(w: &mut XmlWriter, c: &Checked) {
    let totals = &c.doc.totals;
    let currency = c.currency.code();
    w.open("ram:ApplicableHeaderTradeSettlement");
    w.leaf("ram:InvoiceCurrencyCode", currency);
    for group in &c.vat_groups {
        w.open("ram:ApplicableTradeTax");
        w.leaf("ram:CalculatedAmount", &amount(c, group.vat));
        w.leaf("ram:TypeCode", "VAT");
        if let Some(reason) = common::exemption_reason(c, group.category) {
            w.leaf("ram:ExemptionReason", reason);
        }
        w.leaf("ram:BasisAmount", &amount(c, group.base));
        w.leaf("ram:CategoryCode", group.category.code());
        if c.doc.seller.vat_on_debits {
            // BT-8 code 5: VAT becomes due on the invoice date (the debits option).
            w.leaf("ram:DueDateTypeCode", "5");
        }
        w.leaf(
            "ram:RateApplicablePercent",
            &common::percent(group.rate_bps),
        );
        w.close();
    }
    if let ServiceDate::Period { start, end } = c.doc.service {
        w.open("ram:BillingSpecifiedPeriod");
        date(w, "ram:StartDateTime", start);
        date(w, "ram:EndDateTime", end);
        w.close();
    }
    w.open("ram:SpecifiedTradePaymentTerms");
    w.leaf("ram:Description", &c.doc.seller.payment_terms);
    date(w, "ram:DueDateDateTime", c.doc.due_date);
    w.close();

    w.open("ram:SpecifiedTradeSettlementHeaderMonetarySummation");
    w.leaf("ram:LineTotalAmount", &amount(c, totals.subtotal));
    w.leaf("ram:TaxBasisTotalAmount", &amount(c, totals.subtotal));
    w.leaf_with(
        "ram:TaxTotalAmount",
        &[("currencyID", currency)],
        &amount(c, totals.tax),
    );
    w.leaf("ram:GrandTotalAmount", &amount(c, totals.total));
    w.leaf("ram:TotalPrepaidAmount", &amount(c, totals.amount_paid));
    w.leaf("ram:DuePayableAmount", &amount(c, totals.amount_due));
    w.close();

    if let DocumentKind::CreditNote {
        original_number,
        original_issue_date,
    } = &c.doc.kind
    {
        w.open("ram:InvoiceReferencedDocument");
        w.leaf("ram:IssuerAssignedID", original_number);
        w.open("ram:FormattedIssueDateTime");
        w.leaf_with(
            "qdt:DateTimeString",
            &[("format", "102")],
            &common::date_102(*original_issue_date),
        );
        w.close();
        w.close();
    }
    w.close();
}
