//! The invoice as XML: Factur-X / EN 16931 CII (also embedded in the PDF), and UBL 2.1.

pub mod cii;
mod common;
pub mod ubl;
mod writer;

use crate::{validate, DocumentError, InvoiceDocument};

/// The Factur-X (EN 16931 profile) Cross Industry Invoice XML.
pub fn facturx_cii(doc: &InvoiceDocument) -> Result<String, DocumentError> {
    Ok(cii::write(&validate::check(doc)?))
}

/// The UBL 2.1 `Invoice` (or `CreditNote`) XML.
pub fn ubl(doc: &InvoiceDocument) -> Result<String, DocumentError> {
    Ok(ubl::write(&validate::check(doc)?))
}
