//! French invoices and credit notes as documents: PDF/A-3b with embedded Factur-X (EN 16931
//! CII) XML, plain CII XML, and UBL 2.1 XML.
//!
//! A pure library: the caller passes an [`InvoiceDocument`] (plain values, amounts in integer
//! minor units) and gets bytes or strings back. No clock, no randomness, no IO: the same input
//! always gives byte-identical output (the PDF's dates come from `created_at`, its identifiers
//! from `document_id` and the content). Input whose amounts do not add up, or that lacks what
//! a legal French invoice needs, is refused with a [`DocumentError`] by every output before
//! anything is rendered.
//!
//! - [`render_pdf`]: A4 PDF/A-3b, every mention French law requires, in French or English;
//!   the CII embedded as `factur-x.xml` (AFRelationship `Data`, `text/xml`) and declared in
//!   the XMP (Factur-X 1.0, conformance level EN 16931).
//! - [`facturx_cii`]: the same CII on its own (guideline `urn:cen.eu:en16931:2017`).
//! - [`ubl`]: a UBL 2.1 `Invoice` or `CreditNote` with the same content and totals.
//!
//! Text is drawn in DejaVu Sans, compiled in from the `dejavu` crate: Latin with every accent,
//! Greek, Cyrillic, typographic punctuation and €. A character no bundled font covers (CJK,
//! for instance) prints as a visible `[U+65E5]` marker with its code point, never as "?".

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
