//! Below the line table: the VAT breakdown per rate (left), the totals (right), then the memo
//! and the legal mentions.

use super::fonts::Style::{Bold, Regular};
use super::layout::{leading, Op, Pager, ACCENT, INK, MARGIN_X, MUTED, RIGHT, RULE, SHADE};
use super::text;
use crate::format;
use crate::mentions::{self, words};
use crate::validate::Checked;

const SIZE: f32 = 9.0;
const PAD: f32 = 4.0;
/// The VAT breakdown's columns: rate (left-aligned), then right edges of base and VAT.
const VAT_RATE_X: f32 = MARGIN_X;
const VAT_BASE_RIGHT: f32 = MARGIN_X + 165.0;
const VAT_AMOUNT_RIGHT: f32 = MARGIN_X + 255.0;
/// The totals box.
const TOTALS_X: f32 = 330.0;

/// Lays out the VAT breakdown and the totals side by side.
pub fn totals(pager: &mut Pager, c: &Checked) {
    let row = leading(SIZE) + 2.0 * PAD;
    let vat_rows = c.vat_groups.len() as f32 + 1.0;
    let total_rows = total_lines(c).len() as f32;
    pager.ensure(vat_rows.max(total_rows) * row + 12.0);
    pager.y += 12.0;
    let top = pager.y;
    let vat_bottom = vat_breakdown(pager, c, top);
    let totals_bottom = totals_box(pager, c, top);
    pager.y = vat_bottom.max(totals_bottom) + 16.0;
}

fn vat_breakdown(pager: &mut Pager, c: &Checked, top: f32) -> f32 {
    let l = words(c);
    let language = c.doc.language;
    let row = leading(SIZE) + 2.0 * PAD;
    pager.push(Op::Rect {
        x: VAT_RATE_X,
        y: top,
        w: VAT_AMOUNT_RIGHT - VAT_RATE_X,
        h: row,
        fill: Some(SHADE),
        stroke: None,
    });
    let mut y = top;
    let header_baseline = y + PAD + SIZE * 0.9;
    pager.text(
        VAT_RATE_X + PAD,
        header_baseline,
        l.vat_summary_rate,
        Bold,
        8.0,
        INK,
    );
    pager.text_right(
        VAT_BASE_RIGHT - PAD,
        header_baseline,
        l.vat_summary_base,
        Bold,
        8.0,
        INK,
    );
    pager.text_right(
        VAT_AMOUNT_RIGHT - PAD,
        header_baseline,
        l.vat_summary_amount,
        Bold,
        8.0,
        INK,
    );
    y += row;
    for group in &c.vat_groups {
        let baseline = y + PAD + SIZE * 0.9;
        pager.text(
            VAT_RATE_X + PAD,
            baseline,
            &format::rate(group.rate_bps, language),
            Regular,
            SIZE,
            INK,
        );
        for (right, width, minor_units) in [
            (
                VAT_BASE_RIGHT,
                VAT_BASE_RIGHT - VAT_RATE_X - 40.0,
                group.base,
            ),
            (
                VAT_AMOUNT_RIGHT,
                VAT_AMOUNT_RIGHT - VAT_BASE_RIGHT,
                group.vat,
            ),
        ] {
            let value = format::amount(minor_units, &c.currency, language);
            let size = text::fit(&value, Regular, SIZE, width - 2.0 * PAD);
            pager.text_right(right - PAD, baseline, &value, Regular, size, INK);
        }
        y += row;
        pager.rule(VAT_RATE_X, VAT_AMOUNT_RIGHT, y, RULE, 0.5);
    }
    y
}

/// The totals as (label, amount, emphasised).
fn total_lines(c: &Checked) -> Vec<(&'static str, i64, bool)> {
    let l = words(c);
    let t = &c.doc.totals;
    let (paid_label, due_label) = if c.doc.is_credit_note() {
        (l.refunded, l.amount_to_refund)
    } else {
        (l.amount_paid, l.amount_due)
    };
    let mut lines = vec![
        (l.total_excl_vat, t.subtotal, false),
        (l.total_vat, t.tax, false),
        (l.total_incl_vat, t.total, true),
    ];
    if t.amount_paid != 0 {
        lines.push((paid_label, t.amount_paid, false));
    }
    lines.push((due_label, t.amount_due, true));
    lines
}

fn totals_box(pager: &mut Pager, c: &Checked, top: f32) -> f32 {
    let row = leading(SIZE) + 2.0 * PAD;
    let lines = total_lines(c);
    let last = lines.len() - 1;
    let mut y = top;
    for (i, (label, amount, strong)) in lines.into_iter().enumerate() {
        if i == last {
            pager.push(Op::Rect {
                x: TOTALS_X,
                y,
                w: RIGHT - TOTALS_X,
                h: row,
                fill: Some(SHADE),
                stroke: None,
            });
        }
        let style = if strong { Bold } else { Regular };
        let color = if i == last { ACCENT } else { INK };
        let baseline = y + PAD + SIZE * 0.9;
        pager.text(TOTALS_X + PAD, baseline, label, style, SIZE, color);
        let value = format::amount(amount, &c.currency, c.doc.language);
        let room = RIGHT - TOTALS_X - 4.0 * PAD - text::width(label, style, SIZE);
        let size = text::fit(&value, style, SIZE, room);
        pager.text_right(RIGHT - PAD, baseline, &value, style, size, color);
        y += row;
        if i + 1 < last {
            pager.rule(TOTALS_X, RIGHT, y, RULE, 0.5);
        }
    }
    y
}

/// The memo, then the legal mentions, flowing across pages if needed.
pub fn notes(pager: &mut Pager, c: &Checked) {
    let l = words(c);
    let width = RIGHT - MARGIN_X;
    if let Some(memo) = c.doc.memo.as_ref().filter(|m| !m.trim().is_empty()) {
        let text = format!("{}{}{memo}", l.note, l.colon);
        pager.paragraph(MARGIN_X, width, &text, Regular, SIZE, INK);
        pager.y += 10.0;
    }
    pager.ensure(leading(8.0) * 3.0);
    pager.rule(MARGIN_X, RIGHT, pager.y, RULE, 0.5);
    pager.y += 6.0;
    for mention in mentions::legal_mentions(c) {
        pager.paragraph(MARGIN_X, width, &mention, Regular, 8.0, MUTED);
        pager.y += 1.5;
    }
}
