//! Reading invoice documents as a person or an accounting system would: `pdftotext` (Debian's
//! poppler-utils) for the text a PDF shows, and the `factur-x` package (test venv) for the
//! Factur-X XML it embeds, checked against the EN 16931 XML schema.

use std::process::Command;

use super::processes::repo_dir;
use super::processes::scratch_dir;
use super::venv::venv_python;

/// The text of a PDF, laid out as on the page (`pdftotext -layout`), so a table row stays on
/// one line. Panics when poppler-utils is missing or the PDF cannot be read.
pub fn pdftotext(pdf: &[u8]) -> String {
    let file = pdf_file(pdf);
    let output = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(file.path())
        .arg("-")
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "pdftotext could not run ({error}): install Debian's poppler-utils \
                 (apt-get install poppler-utils), or run scripts/test"
            )
        });
    assert!(
        output.status.success(),
        "pdftotext refused the PDF: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("pdftotext writes UTF-8")
}

/// What `facturx_check` found in a PDF.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct FacturxReport {
    /// The embedded file's name (`factur-x.xml`), when there is one.
    pub xml_filename: Option<String>,
    /// The embedded XML.
    pub xml: Option<String>,
    /// The Factur-X profile the XML declares (`minimum` … `en16931`, `extended`).
    pub profile: Option<String>,
    /// Why the XML is not valid against the EN 16931 schema (or why there is none).
    pub xsd_error: Option<String>,
}

impl FacturxReport {
    /// Whether the PDF embeds Factur-X XML that is valid against the EN 16931 schema.
    pub fn is_valid(&self) -> bool {
        self.xml.is_some() && self.xsd_error.is_none()
    }
}

/// Extracts the Factur-X XML embedded in `pdf` and validates it against the EN 16931 XSD, with
/// `tests/support/facturx_check.py`. Panics when the check itself cannot run.
pub fn facturx_check(pdf: &[u8]) -> FacturxReport {
    let file = pdf_file(pdf);
    let python = venv_python();
    let output = Command::new(&python)
        .arg(repo_dir().join("tests/support/facturx_check.py"))
        .arg(file.path())
        .output()
        .unwrap_or_else(|error| panic!("{} could not run: {error}", python.display()));
    assert!(
        output.status.success(),
        "facturx_check.py failed on the PDF:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "facturx_check.py answered no report ({error}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

/// The PDF in a file of its own, for tools that read files.
fn pdf_file(pdf: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".pdf")
        .tempfile_in(scratch_dir())
        .expect("a temporary PDF file");
    std::io::Write::write_all(&mut file, pdf).expect("the PDF is written");
    file
}
