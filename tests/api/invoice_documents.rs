//! The legal document of an invoice, end to end: a PDF/A-3 with embedded Factur-X XML that the
//! `factur-x` validator accepts (EN 16931), its text read back exactly with pdftotext, the
//! mentions French law requires for a business customer, a private customer and a seller under
//! the VAT franchise, XML totals equal to the invoice's, and a configured seller missing a
//! detail refused at start-up. That it is issued once is `invoice_issuance`.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::support::pdf_tools::{facturx_check, pdftotext};
use crate::support::processes::repo_dir;

const FRENCH_LINE: &str = "Café crème « spécial » — 5 € l’unité";
const GREEK_LINE: &str = "Ελληνικά: Καλημέρα κόσμε";
const CYRILLIC_LINE: &str = "Кириллица: Добрый день, мир";

/// Whitespace runs (the narrow and plain no-break spaces of French amounts too) as one space.
pub(crate) fn normalized(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn assert_mentions(text: &str, mentions: &[&str]) {
    for mention in mentions {
        let mention = normalized(mention);
        assert!(text.contains(&mention), "missing {mention:?} in:\n{text}");
    }
}

pub(crate) async fn customer(app: &TestApp, email: &str, name: &str) -> String {
    app.register(email, "correct horse", name).await["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub(crate) async fn set_billing(app: &TestApp, token: &str, billing: Value) {
    let response = app
        .patch_json("/api/auth/profile", &json!({ "billing": billing }), token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

pub(crate) fn business_billing() -> Value {
    json!({
        "company_name": "Dupont & Fils SARL",
        "siren": "732829320",
        "vat_number": "FR44732829320",
        "address": {"line1": "5 avenue des Champs-Élysées", "postal_code": "75008",
                    "city": "Paris", "country": "FR"}
    })
}

/// Creates and finalizes an invoice of the three test lines at `tax_rate_bps`; returns it.
pub(crate) async fn finalized_invoice(app: &TestApp, token: &str, tax_rate_bps: i64) -> Value {
    let items: Vec<Value> = [
        (FRENCH_LINE, 3, 500),
        (GREEK_LINE, 1, 123_456),
        (CYRILLIC_LINE, 2, 999),
    ]
    .iter()
    .map(|(description, quantity, unit_amount)| {
        json!({"description": description, "quantity": quantity,
                   "unit_amount": unit_amount, "tax_rate_bps": tax_rate_bps})
    })
    .collect();
    let response = app
        .post_json(
            "/api/invoices/create",
            &json!({"currency": "eur", "items": items, "finalize": true, "due_days": 30}),
            Some(token),
        )
        .await;
    let status = response.status();
    let invoice: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{invoice}");
    assert_eq!(invoice["status"], "open", "{invoice}");
    invoice
}

pub(crate) async fn download(app: &TestApp, token: &str, invoice_id: &str, what: &str) -> Vec<u8> {
    let response = app
        .get(&format!("/api/invoices/{invoice_id}/{what}"), Some(token))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{what}");
    response.bytes().await.unwrap().to_vec()
}

/// The text of the first element named `tag` (with or without attributes).
fn element(xml: &str, tag: &str) -> String {
    let start = xml
        .find(&format!("<{tag}>"))
        .or_else(|| xml.find(&format!("<{tag} ")))
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"));
    let open_end = start + xml[start..].find('>').unwrap() + 1;
    let close = open_end + xml[open_end..].find(&format!("</{tag}>")).unwrap();
    xml[open_end..close].to_owned()
}

/// Saves page 1 of `pdf` as `name` (PNG, with poppler-utils' pdftoppm): into docs/screenshots
/// for the README when UPDATE_SCREENSHOTS is set, else under target/ (a test run must not leave
/// the tree changed).
fn save_page_picture(pdf: &[u8], name: &str) {
    let dir = if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        repo_dir().join("docs/screenshots")
    } else {
        repo_dir().join("target/screenshots")
    };
    std::fs::create_dir_all(&dir).unwrap();
    let input = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(input.path(), pdf).unwrap();
    let output = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile"])
        .arg(input.path())
        .arg(dir.join(name))
        .output()
        .expect("pdftoppm (poppler-utils) runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn euros(cents: &Value) -> String {
    let cents = cents.as_i64().unwrap();
    format!("{}.{:02}", cents / 100, cents % 100)
}

#[tokio::test]
async fn a_business_customer_s_invoice_is_a_valid_factur_x_pdf_with_every_mention() {
    let app = spawn_app().await;
    let token = customer(&app, "pro@example.com", "Claire Dubois").await;
    set_billing(&app, &token, business_billing()).await;
    let invoice = finalized_invoice(&app, &token, 2_000).await;
    let id = invoice["invoice_id"].as_str().unwrap();
    let pdf = download(&app, &token, id, "pdf").await;

    let report = facturx_check(&pdf);
    assert!(report.is_valid(), "{report:?}");
    assert_eq!(report.xml_filename.as_deref(), Some("factur-x.xml"));
    assert_eq!(report.profile.as_deref(), Some("en16931"));

    save_page_picture(&pdf, "invoice-document");
    let raw = pdftotext(&pdf);
    for line in [FRENCH_LINE, GREEK_LINE, CYRILLIC_LINE] {
        assert!(
            raw.contains(line),
            "{line:?} is not read back exactly from:\n{raw}"
        );
    }
    let text = normalized(&raw);
    assert_mentions(
        &text,
        &[
            invoice["number"].as_str().unwrap(),
            // The demo seller's identity.
            "billstream demo — SAS au capital de 10 000,00 €",
            "SIREN : 123 456 782",
            "RCS Paris 123 456 782",
            "N° TVA intracommunautaire : FR11123456782",
            // The buyer, a business.
            "Dupont & Fils SARL",
            "5 avenue des Champs-Élysées",
            "75008 Paris",
            "SIREN : 732 829 320",
            "N° TVA intracommunautaire : FR44732829320",
            // Penalties, the indemnity, no discount.
            "Pénalités de retard : taux annuel de 10,15 %",
            "Indemnité forfaitaire pour frais de recouvrement de 40 €",
            "Pas d'escompte pour paiement anticipé",
            "Nature de l'opération : prestation de services",
        ],
    );
}

#[tokio::test]
async fn a_private_customer_s_invoice_has_no_business_mentions() {
    let app = spawn_app().await;
    let token = customer(&app, "private@example.com", "Élodie Lefèvre").await;
    let invoice = finalized_invoice(&app, &token, 2_000).await;
    let pdf = download(&app, &token, invoice["invoice_id"].as_str().unwrap(), "pdf").await;
    assert!(facturx_check(&pdf).is_valid());
    let text = normalized(&pdftotext(&pdf));
    assert_mentions(
        &text,
        &[
            "Élodie Lefèvre",
            "Pas d'escompte pour paiement anticipé",
            "N° TVA intracommunautaire : FR11123456782",
        ],
    );
    assert!(!text.contains("recouvrement"), "{text}");
    assert!(!text.contains("Pénalités"), "{text}");
}

#[tokio::test]
async fn a_seller_under_the_franchise_prints_that_vat_is_not_applicable() {
    let app = spawn_app_with(&[
        ("SELLER_NAME", "Paul Girard"),
        ("SELLER_LEGAL_FORM", "EI"),
        ("SELLER_SIREN", "100000009"),
        ("SELLER_RCS", "Nantes"),
        ("SELLER_EMAIL", "paul@girard.example"),
        ("SELLER_ADDRESS_LINE1", "2 rue Kervégan"),
        ("SELLER_ADDRESS_POSTAL_CODE", "44000"),
        ("SELLER_ADDRESS_CITY", "Nantes"),
        ("SELLER_VAT_FRANCHISE", "true"),
        ("SELLER_LATE_PENALTY_RATE", "12"),
    ])
    .await;
    let token = customer(&app, "client@example.com", "Claire Dubois").await;
    set_billing(&app, &token, business_billing()).await;
    let invoice = finalized_invoice(&app, &token, 0).await;
    let pdf = download(&app, &token, invoice["invoice_id"].as_str().unwrap(), "pdf").await;
    assert!(facturx_check(&pdf).is_valid());
    let text = normalized(&pdftotext(&pdf));
    assert_mentions(
        &text,
        &[
            "Paul Girard",
            "RCS Nantes 100 000 009",
            "TVA non applicable, art. 293 B du CGI",
            "Total TVA 0,00 €",
        ],
    );
}

#[tokio::test]
async fn the_xml_totals_equal_the_invoice_s_to_the_cent() {
    let app = spawn_app().await;
    let token = customer(&app, "totals@example.com", "Claire Dubois").await;
    let invoice = finalized_invoice(&app, &token, 550).await;
    let id = invoice["invoice_id"].as_str().unwrap();
    let cii = String::from_utf8(download(&app, &token, id, "facturx.xml").await).unwrap();
    assert_eq!(
        element(&cii, "ram:TaxBasisTotalAmount"),
        euros(&invoice["subtotal"])
    );
    assert_eq!(element(&cii, "ram:TaxTotalAmount"), euros(&invoice["tax"]));
    assert_eq!(
        element(&cii, "ram:GrandTotalAmount"),
        euros(&invoice["total"])
    );
    assert_eq!(
        element(&cii, "ram:DuePayableAmount"),
        euros(&invoice["total"])
    );
    let ubl = String::from_utf8(download(&app, &token, id, "ubl.xml").await).unwrap();
    assert_eq!(
        element(&ubl, "cbc:TaxExclusiveAmount"),
        euros(&invoice["subtotal"])
    );
    assert_eq!(
        element(&ubl, "cbc:TaxInclusiveAmount"),
        euros(&invoice["total"])
    );
    assert_eq!(element(&ubl, "cbc:PayableAmount"), euros(&invoice["total"]));
    // The PDF embeds the same CII.
    let pdf = download(&app, &token, id, "pdf").await;
    assert_eq!(facturx_check(&pdf).xml.as_deref(), Some(cii.as_str()));
}

#[test]
fn a_configured_seller_missing_a_required_detail_stops_the_binary_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_billstream"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("seller.db").display()),
        )
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("SELLER_NAME", "Atelier Dupont")
        .env("SELLER_LEGAL_FORM", "SARL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SELLER_SIREN"), "{stderr}");
}
