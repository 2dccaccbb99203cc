//! French invoices and credit notes as documents: PDF/A-3b with embedded Factur-X (EN 16931
//! CII) XML, plain CII XML, and UBL 2.1 XML.
//!
//! A pure library: the caller passes an [`InvoiceDocument`] (plain values, amounts in integer
//! minor units) and gets bytes or strings back. No clock, no randomness, no IO: the same input
//! always gives byte-identical output. Input whose amounts do not add up is refused with a
//! [`DocumentError`] before anything is rendered.

mod currency;
mod error;
pub mod format;
mod labels;
mod mentions;
mod model;
mod pdf;
mod validate;
mod xml;

pub use currency::Currency;
pub use error::DocumentError;
pub use model::{
    Address, BusinessDetails, Buyer, DocumentKind, InvoiceDocument, Language, Line, Money,
    OperationKind, PenaltyRate, Seller, ServiceDate, Totals,
};
pub use pdf::{render_pdf, FACTURX_FILE_NAME};
pub use xml::{facturx_cii, ubl};
