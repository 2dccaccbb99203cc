//! The PDF is PDF/A-3b with Factur-X metadata and the CII embedded as `factur-x.xml`, as read
//! back by pypdf and the factur-x library; and the same input always gives the same bytes.

mod common;

use common::fixtures::{business_invoice, credit_note};
use common::tools::{check, values, write_scratch};
use invoice_documents::{facturx_cii, render_pdf};

/// Runs the PDF check; returns its report and the XML it extracted.
fn inspect(pdf: &[u8]) -> (String, String) {
    let file = write_scratch("facturx.pdf", pdf);
    let xml_out = common::tools::scratch_file("extracted.xml");
    let report = check(&["pdf", &file, &xml_out.to_string_lossy()]);
    let xml = std::fs::read_to_string(xml_out).unwrap();
    (report, xml)
}

fn one(report: &str, key: &str) -> String {
    let found = values(report, key);
    assert_eq!(found.len(), 1, "{key} in\n{report}");
    found[0].clone()
}

#[test]
fn the_pdf_identifies_as_pdfa_3b() {
    let (report, _) = inspect(&render_pdf(&business_invoice()).unwrap());
    assert_eq!(one(&report, "pdfaid:part"), "3");
    assert_eq!(one(&report, "pdfaid:conformance"), "B");
    assert_eq!(one(&report, "header"), "%PDF-1.7");
    // PDF/A: the XMP stream is not compressed, and colours have an output intent.
    assert_eq!(one(&report, "metadata.filter"), "None");
    assert_eq!(one(&report, "output_intents"), "1");
}

#[test]
fn the_xmp_carries_the_factur_x_properties_and_declares_their_schema() {
    let (report, _) = inspect(&render_pdf(&business_invoice()).unwrap());
    assert_eq!(one(&report, "fx:DocumentType"), "INVOICE");
    assert_eq!(one(&report, "fx:DocumentFileName"), "factur-x.xml");
    assert_eq!(one(&report, "fx:Version"), "1.0");
    assert_eq!(one(&report, "fx:ConformanceLevel"), "EN 16931");
    assert!(values(&report, "extension.namespace")
        .contains(&"urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#".to_owned()));
    let properties = values(&report, "extension.property");
    for property in [
        "DocumentFileName",
        "DocumentType",
        "Version",
        "ConformanceLevel",
    ] {
        assert!(properties.contains(&property.to_owned()), "{report}");
    }
    assert_eq!(one(&report, "xmp:CreateDate"), "2026-11-30T09:15:00+00:00");
}

#[test]
fn the_embedded_file_is_factur_x_xml_of_type_text_xml_related_as_data() {
    let (report, _) = inspect(&render_pdf(&business_invoice()).unwrap());
    assert_eq!(one(&report, "extracted"), "factur-x.xml");
    assert_eq!(one(&report, "embedded.key"), "factur-x.xml");
    assert_eq!(one(&report, "embedded.F"), "factur-x.xml");
    assert_eq!(one(&report, "embedded.UF"), "factur-x.xml");
    assert_eq!(one(&report, "embedded.Subtype"), "text/xml");
    assert_eq!(one(&report, "embedded.AFRelationship"), "Data");
    assert_eq!(one(&report, "embedded.ModDate"), "D:20261130091500Z");
    assert_eq!(one(&report, "catalog.AF"), "factur-x.xml");
}

#[test]
fn the_embedded_xml_is_the_cii_and_passes_its_xsd() {
    for doc in [business_invoice(), credit_note()] {
        // The library extracting it also validated it against the EN 16931 XSD.
        let (_, xml) = inspect(&render_pdf(&doc).unwrap());
        assert_eq!(xml, facturx_cii(&doc).unwrap());
    }
}

#[test]
fn the_same_input_renders_byte_identical_pdfs() {
    let first = render_pdf(&business_invoice()).unwrap();
    let second = render_pdf(&business_invoice()).unwrap();
    assert!(first == second, "two renders differ");
    // And the identifiers come from the input: another document id, another file ID.
    let mut other = business_invoice();
    other.document_id = "inv_other".to_owned();
    assert!(render_pdf(&other).unwrap() != first);
}

#[test]
fn every_cross_reference_entry_points_at_its_object_after_the_xmp_edit() {
    // The Factur-X XMP is spliced into krilla's output, shifting the objects after it: each
    // in-use xref entry must still point exactly at `N 0 obj`.
    let pdf = render_pdf(&business_invoice()).unwrap();
    let tail = &pdf[pdf.len() - 40..];
    let tail = std::str::from_utf8(tail).unwrap();
    let startxref: usize = tail
        .split("startxref\n")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .and_then(|n| n.parse().ok())
        .expect("startxref");
    let table = std::str::from_utf8(&pdf[startxref..]).unwrap();
    let mut lines = table.lines();
    assert_eq!(lines.next(), Some("xref"));
    let count: usize = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap();
    for (object, entry) in lines.take(count).enumerate().skip(1) {
        assert!(entry.ends_with(" n\r") || entry.ends_with(" n"), "{entry}");
        let offset: usize = entry[..10].parse().unwrap();
        let header = format!("{object} 0 obj");
        assert!(
            pdf[offset..].starts_with(header.as_bytes()),
            "object {object} not at {offset}"
        );
    }
}
