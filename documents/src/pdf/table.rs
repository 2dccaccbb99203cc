//! The line table: description, quantity, unit price excl. VAT, VAT rate, total excl. VAT.
//!
//! The header row is repeated on every page the table continues on. A row moves to the next
//! page whole when it fits on one; a row taller than a page (a very long description) is split
//! between its lines, its numbers staying on its first line.

use super::fonts::Style::{Bold, Regular};
use super::layout::{leading, Op, Pager, INK, MARGIN_X, RIGHT, RULE, SHADE};
use super::text;
use crate::format;
use crate::mentions::words;
use crate::validate::Checked;

const SIZE: f32 = 9.0;
const HEADER_SIZE: f32 = 8.0;
const PAD: f32 = 4.0;

/// Column widths, left to right; the description takes what the numbers leave.
const QTY_W: f32 = 42.0;
const UNIT_W: f32 = 88.0;
const VAT_W: f32 = 48.0;
const TOTAL_W: f32 = 88.0;

struct Columns {
    /// Right edges of the numeric columns.
    qty: f32,
    unit: f32,
    vat: f32,
    total: f32,
    description_width: f32,
}

fn columns() -> Columns {
    let total = RIGHT;
    let vat = total - TOTAL_W;
    let unit = vat - VAT_W;
    let qty = unit - UNIT_W;
    Columns {
        qty,
        unit,
        vat,
        total,
        description_width: qty - QTY_W - MARGIN_X,
    }
}

/// Lays out the table from the cursor.
pub fn lines_table(pager: &mut Pager, c: &Checked) {
    let cols = columns();
    let row_leading = leading(SIZE);
    header_row(pager, c, &cols);
    let language = c.doc.language;
    for line in &c.doc.lines {
        let description = text::wrap(
            &line.description,
            Regular,
            SIZE,
            cols.description_width - 2.0 * PAD,
        );
        let height = description.len() as f32 * row_leading + 2.0 * PAD;
        // Keep a row whole when it can fit on a page at all.
        if height <= pager.page_capacity() && pager.ensure(height) {
            header_row(pager, c, &cols);
        }
        let numbers = [
            (cols.qty, QTY_W, format::quantity(line.quantity, language)),
            (
                cols.unit,
                UNIT_W,
                format::amount(line.unit_price, &c.currency, language),
            ),
            (cols.vat, VAT_W, format::rate(line.vat_rate_bps, language)),
            (
                cols.total,
                TOTAL_W,
                format::amount(line.subtotal, &c.currency, language),
            ),
        ];
        pager.y += PAD;
        for (i, part) in description.iter().enumerate() {
            if pager.ensure(row_leading + PAD) {
                header_row(pager, c, &cols);
                pager.y += PAD;
            }
            let baseline = pager.y + SIZE;
            pager.text(MARGIN_X + PAD, baseline, part, Regular, SIZE, INK);
            if i == 0 {
                for (right, width, value) in &numbers {
                    let size = text::fit(value, Regular, SIZE, width - 2.0 * PAD);
                    pager.text_right(right - PAD, baseline, value, Regular, size, INK);
                }
            }
            pager.y += row_leading;
        }
        pager.y += PAD;
        pager.rule(MARGIN_X, RIGHT, pager.y, RULE, 0.5);
    }
}

fn header_row(pager: &mut Pager, c: &Checked, cols: &Columns) {
    let l = words(c);
    let cells = [
        (MARGIN_X, cols.description_width, l.col_description, false),
        (cols.qty, QTY_W, l.col_quantity, true),
        (cols.unit, UNIT_W, l.col_unit_price, true),
        (cols.vat, VAT_W, l.col_vat_rate, true),
        (cols.total, TOTAL_W, l.col_line_total, true),
    ];
    let wrapped: Vec<Vec<String>> = cells
        .iter()
        .map(|(_, w, label, _)| text::wrap(label, Bold, HEADER_SIZE, w - 2.0 * PAD))
        .collect();
    let rows = wrapped.iter().map(Vec::len).max().unwrap_or(1) as f32;
    let height = rows * leading(HEADER_SIZE) + 2.0 * PAD;
    pager.ensure(height + leading(SIZE) + 2.0 * PAD);
    pager.push(Op::Rect {
        x: MARGIN_X,
        y: pager.y,
        w: RIGHT - MARGIN_X,
        h: height,
        fill: Some(SHADE),
        stroke: None,
    });
    for ((edge, _, _, right_aligned), lines) in cells.iter().zip(&wrapped) {
        let mut baseline = pager.y + PAD + HEADER_SIZE;
        for line in lines {
            if *right_aligned {
                pager.text_right(edge - PAD, baseline, line, Bold, HEADER_SIZE, INK);
            } else {
                pager.text(edge + PAD, baseline, line, Bold, HEADER_SIZE, INK);
            }
            baseline += leading(HEADER_SIZE);
        }
    }
    pager.y += height;
}
