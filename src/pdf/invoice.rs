//! The invoice as a PDF: seller, customer, number, dates, lines, tax, totals, a PAID mark.

use aggregates::invoice::InvoiceLine;
use aggregates::money::{format_amount, Currency};

use super::writer::{document, Font, Page, PAGE_HEIGHT, PAGE_WIDTH};

/// Who issues the invoice (from configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seller {
    pub name: String,
    pub address: Vec<String>,
    pub vat_id: Option<String>,
    pub email: Option<String>,
}

/// Everything printed on an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceDocument {
    pub seller: Seller,
    pub customer_name: String,
    pub customer_email: String,
    /// The number, or `None` for a draft.
    pub number: Option<String>,
    pub issued_on: String,
    pub due_on: Option<String>,
    pub currency: Currency,
    pub lines: Vec<InvoiceLine>,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
    pub paid: bool,
    pub memo: Option<String>,
}

const MARGIN: f32 = 50.0;
const LINE_HEIGHT: f32 = 16.0;
/// Lines that fit on a page below the header.
const LINES_PER_PAGE: usize = 30;

fn percent(bps: i64) -> String {
    if bps % 100 == 0 {
        format!("{} %", bps / 100)
    } else {
        format!("{}.{:02} %", bps / 100, bps % 100)
    }
}

/// Renders the invoice as PDF bytes.
pub fn render(invoice: &InvoiceDocument) -> Vec<u8> {
    let money = |amount: i64| format_amount(amount, invoice.currency);
    let title = match &invoice.number {
        Some(number) => format!("Facture {number}"),
        None => "Facture (brouillon)".to_owned(),
    };
    let chunks: Vec<&[InvoiceLine]> = if invoice.lines.is_empty() {
        vec![&[]]
    } else {
        invoice.lines.chunks(LINES_PER_PAGE).collect()
    };
    let mut pages = Vec::new();
    for (index, chunk) in chunks.iter().enumerate() {
        let mut page = Page::default();
        let top = PAGE_HEIGHT - MARGIN;
        page.text(MARGIN, top - 10.0, 20.0, Font::Bold, &title);
        let mut y = top - 40.0;
        page.text(MARGIN, y, 11.0, Font::Bold, &invoice.seller.name);
        for line in &invoice.seller.address {
            y -= 13.0;
            page.text(MARGIN, y, 10.0, Font::Regular, line);
        }
        if let Some(vat) = &invoice.seller.vat_id {
            y -= 13.0;
            page.text(MARGIN, y, 10.0, Font::Regular, &format!("TVA : {vat}"));
        }
        if let Some(email) = &invoice.seller.email {
            y -= 13.0;
            page.text(MARGIN, y, 10.0, Font::Regular, email);
        }
        let right_column = PAGE_WIDTH / 2.0 + 40.0;
        let mut ry = top - 40.0;
        page.text(right_column, ry, 10.0, Font::Bold, "Client");
        ry -= 13.0;
        page.text(
            right_column,
            ry,
            10.0,
            Font::Regular,
            &invoice.customer_name,
        );
        ry -= 13.0;
        page.text(
            right_column,
            ry,
            10.0,
            Font::Regular,
            &invoice.customer_email,
        );
        ry -= 26.0;
        let number = invoice.number.as_deref().unwrap_or("brouillon");
        page.text(
            right_column,
            ry,
            10.0,
            Font::Regular,
            &format!("Numéro : {number}"),
        );
        ry -= 13.0;
        page.text(
            right_column,
            ry,
            10.0,
            Font::Regular,
            &format!("Date : {}", invoice.issued_on),
        );
        if let Some(due) = &invoice.due_on {
            ry -= 13.0;
            page.text(
                right_column,
                ry,
                10.0,
                Font::Regular,
                &format!("Échéance : {due}"),
            );
        }

        let mut y = y.min(ry) - 40.0;
        // Right edges of the numeric columns.
        let (quantity_at, unit_at, tax_at, amount_at) = (300.0, 400.0, 462.0, PAGE_WIDTH - MARGIN);
        page.text(MARGIN, y, 10.0, Font::Bold, "Description");
        page.text_right(quantity_at, y, 10.0, Font::Bold, "Qté");
        page.text_right(unit_at, y, 10.0, Font::Bold, "Prix unitaire");
        page.text_right(tax_at, y, 10.0, Font::Bold, "TVA");
        page.text_right(amount_at, y, 10.0, Font::Bold, "Montant HT");
        y -= 6.0;
        page.rule(MARGIN, PAGE_WIDTH - MARGIN, y);
        for line in chunk.iter() {
            y -= LINE_HEIGHT;
            let description: String = line.description.chars().take(40).collect();
            let amounts = line.amounts();
            page.text(MARGIN, y, 10.0, Font::Regular, &description);
            page.text_right(
                quantity_at,
                y,
                10.0,
                Font::Regular,
                &line.quantity.to_string(),
            );
            page.text_right(unit_at, y, 10.0, Font::Regular, &money(line.unit_amount));
            page.text_right(tax_at, y, 10.0, Font::Regular, &percent(line.tax_rate_bps));
            page.text_right(amount_at, y, 10.0, Font::Regular, &money(amounts.subtotal));
        }
        let last = index + 1 == chunks.len();
        if last {
            y -= 10.0;
            page.rule(320.0, PAGE_WIDTH - MARGIN, y);
            for (label, amount, font) in [
                ("Total HT", invoice.subtotal, Font::Regular),
                ("TVA", invoice.tax, Font::Regular),
                ("Total TTC", invoice.total, Font::Bold),
            ] {
                y -= LINE_HEIGHT;
                page.text(340.0, y, 11.0, font, label);
                page.text_right(PAGE_WIDTH - MARGIN, y, 11.0, font, &money(amount));
            }
            if let Some(memo) = &invoice.memo {
                page.text(MARGIN, y - 40.0, 10.0, Font::Regular, memo);
            }
            if invoice.paid {
                page.stamp(
                    MARGIN + 120.0,
                    y - 130.0,
                    40.0,
                    12.0,
                    (0.8, 0.1, 0.1),
                    "PAYÉE / PAID",
                );
            }
        } else {
            page.text(MARGIN, MARGIN, 9.0, Font::Regular, "Suite page suivante");
        }
        pages.push(page);
    }
    document(&title, &pages)
}
