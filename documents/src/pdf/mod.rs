//! The PDF: a PDF/A-3b document with the Factur-X (EN 16931) CII XML embedded as
//! `factur-x.xml`.
//!
//! Layout produces operations page by page (`layout`, `header`, `table`, `summary`), krilla
//! draws and writes them (`draw`), and `facturx` adds the Factur-X XMP extension schema that
//! krilla has no API for. Nothing depends on a clock or randomness: the PDF's dates come from
//! `created_at` and its identifiers from `document_id` and the content.

mod draw;
mod facturx;
mod fonts;
mod header;
mod layout;
mod summary;
mod table;
mod text;

use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::embed::{AssociationKind, EmbeddedFile, MimeType};
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::{Document, SerializeSettings};

use chrono::{Datelike, NaiveDateTime, Timelike};

use self::fonts::Style::Regular;
use self::layout::{
    leading, Op, Pager, MARGIN_BOTTOM, MARGIN_X, MUTED, PAGE_HEIGHT, PAGE_WIDTH, RIGHT, RULE,
};
use crate::mentions::{self, words};
use crate::validate::{self, Checked};
use crate::{DocumentError, InvoiceDocument, Language};

/// The embedded XML's file name, fixed by the Factur-X specification.
pub const FACTURX_FILE_NAME: &str = "factur-x.xml";

/// Renders the document as PDF/A-3b with its Factur-X XML embedded.
pub fn render_pdf(doc: &InvoiceDocument) -> Result<Vec<u8>, DocumentError> {
    let checked = validate::check(doc)?;
    let xml = crate::xml::cii::write(&checked);
    let pages = compose(&checked);

    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A3_B)
        .finish()
        .map_err(|e| DocumentError::Pdf(format!("{e:?}")))?;
    let mut document = Document::new_with(SerializeSettings {
        configuration,
        ..SerializeSettings::default()
    });
    for ops in &pages {
        let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
            .ok_or_else(|| DocumentError::Pdf("invalid page size".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        draw::draw_page(&mut surface, ops);
        surface.finish();
        page.finish();
    }
    let created = pdf_date(doc.created_at);
    document.set_metadata(metadata(&checked, created));
    document
        .embed_file(EmbeddedFile {
            path: FACTURX_FILE_NAME.to_owned(),
            mime_type: MimeType::new("text/xml"),
            description: Some("Factur-X invoice (EN 16931)".to_owned()),
            association_kind: AssociationKind::Data,
            data: xml.into_bytes().into(),
            modification_date: Some(created),
            compress: Some(true),
            location: None,
        })
        .ok_or_else(|| DocumentError::Pdf("the Factur-X XML could not be embedded".into()))?;
    let pdf = document
        .finish()
        .map_err(|e| DocumentError::Pdf(format!("{e:?}")))?;
    facturx::add_xmp_extension(pdf)
}

fn metadata(c: &Checked, created: DateTime) -> Metadata {
    let language = match c.doc.language {
        Language::Fr => "fr-FR",
        Language::En => "en",
    };
    Metadata::new()
        .title(mentions::title(c))
        .authors(vec![c.doc.seller.name.clone()])
        .language(language.to_owned())
        .creator("billstream invoice-documents".to_owned())
        .creation_date(created)
        .document_id(c.doc.document_id.clone())
}

fn pdf_date(at: NaiveDateTime) -> DateTime {
    // Years beyond u16 or before 0 are not invoice dates; clamp rather than fail.
    let year = u16::try_from(at.year()).unwrap_or(0);
    DateTime::new(year)
        .month(at.month() as u8)
        .day(at.day() as u8)
        .hour(at.hour() as u8)
        .minute(at.minute() as u8)
        .second(at.second() as u8)
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

/// Lays out every page, then adds each page's footer once the page count is known.
fn compose(c: &Checked) -> Vec<Vec<Op>> {
    let footer = footer_lines(c);
    let footer_height = footer.len() as f32 * leading(FOOTER_SIZE) + 10.0;
    let l = words(c);
    let continuation = format!("{} — {}", mentions::title(c), l.continued);
    let mut pager = Pager::new(footer_height, continuation);
    header::header(&mut pager, c);
    table::lines_table(&mut pager, c);
    summary::totals(&mut pager, c);
    summary::notes(&mut pager, c);
    let mut pages = pager.finish();
    let count = pages.len();
    for (index, ops) in pages.iter_mut().enumerate() {
        let mut footer_pager = Pager::new(0.0, String::new());
        let top = PAGE_HEIGHT - MARGIN_BOTTOM - footer_height + 6.0;
        footer_pager.rule(MARGIN_X, RIGHT, top - 4.0, RULE, 0.5);
        let mut y = top;
        for line in &footer {
            footer_pager.text(MARGIN_X, y + FOOTER_SIZE, line, Regular, FOOTER_SIZE, MUTED);
            y += leading(FOOTER_SIZE);
        }
        let number = mentions::page_number(c, index + 1, count);
        footer_pager.text_right(
            RIGHT,
            y - leading(FOOTER_SIZE) + FOOTER_SIZE,
            &number,
            Regular,
            FOOTER_SIZE,
            MUTED,
        );
        ops.extend(footer_pager.finish().into_iter().flatten());
    }
    pages
}

const FOOTER_SIZE: f32 = 7.0;

/// The seller's identity, repeated at the foot of every page.
fn footer_lines(c: &Checked) -> Vec<String> {
    let seller = &c.doc.seller;
    let address = mentions::address_lines(&seller.address).join(", ");
    let mut parts = vec![
        seller.name.clone(),
        mentions::legal_form_and_capital(c),
        address,
    ];
    parts.extend(mentions::seller_registration(c));
    let identity = parts.join(" — ");
    // Leave room for the page number on the right.
    text::wrap(&identity, Regular, FOOTER_SIZE, RIGHT - MARGIN_X - 50.0)
}
