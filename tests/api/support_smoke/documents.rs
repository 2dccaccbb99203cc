//! The document and contract tools: pdftotext, factur-x, schemathesis.

use crate::support::pdf_tools::{facturx_check, pdftotext};
use crate::support::processes::repo_dir;
use crate::support::schemathesis::{run_schemathesis, schemathesis_version};

/// A one-page PDF 1.4 showing `text` in Helvetica (ASCII, no parentheses or backslashes).
fn tiny_pdf(text: &str) -> Vec<u8> {
    let stream = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
         /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
            .to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        format!(
            "<< /Length {} >>\nstream\n{stream}\nendstream",
            stream.len()
        ),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n{object}\nendobj\n", index + 1).bytes());
    }
    let xref = pdf.len();
    pdf.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
    for offset in offsets {
        pdf.extend(format!("{offset:010} 00000 n \n").bytes());
    }
    pdf.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .bytes(),
    );
    pdf
}

#[test]
fn pdftotext_reads_back_the_text_of_a_tiny_pdf() {
    let text = pdftotext(&tiny_pdf("Invoice 2026-0001 total 12.00 EUR"));
    assert!(
        text.contains("Invoice 2026-0001 total 12.00 EUR"),
        "{text:?}"
    );
}

#[test]
fn facturx_check_says_a_pdf_without_embedded_xml_carries_none() {
    let report = facturx_check(&tiny_pdf("No XML here"));
    assert!(!report.is_valid());
    assert_eq!(report.xml_filename, None);
    assert_eq!(report.xml, None);
    assert_eq!(report.profile, None);
    assert_eq!(
        report.xsd_error.as_deref(),
        Some("the PDF carries no Factur-X XML")
    );
}

#[tokio::test]
async fn schemathesis_prints_the_version_pinned_in_the_requirements() {
    let requirements = std::fs::read_to_string(repo_dir().join("tests/requirements.txt"))
        .expect("tests/requirements.txt");
    let pinned = requirements
        .lines()
        .find_map(|line| line.strip_prefix("schemathesis=="))
        .expect("schemathesis is pinned");
    let version = schemathesis_version().await;
    assert!(version.ends_with(&format!("version {pinned}")), "{version}");
}

/// A one-operation OpenAPI document and the API it describes, on 127.0.0.1:0.
async fn serve_tiny_api() -> String {
    use axum::routing::get;
    use axum::Json;
    let spec = serde_json::json!({
        "openapi": "3.0.3",
        "info": {"title": "smoke", "version": "1"},
        "paths": {"/ping": {"get": {"responses": {"200": {
            "description": "alive",
            "content": {"application/json": {"schema": {
                "type": "object",
                "properties": {"ok": {"type": "boolean"}},
                "required": ["ok"],
            }}},
        }}}}},
    });
    let app = axum::Router::new()
        .route("/openapi.json", get(move || async move { Json(spec) }))
        .route(
            "/ping",
            get(|| async { Json(serde_json::json!({"ok": true})) }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

#[tokio::test]
async fn schemathesis_passes_an_api_that_keeps_its_openapi_contract() {
    let base = serve_tiny_api().await;
    let output = run_schemathesis(
        &base,
        &format!("{base}/openapi.json"),
        &["--max-examples", "5", "--checks", "all"],
    )
    .await;
    assert!(
        output.status.success(),
        "st run failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
