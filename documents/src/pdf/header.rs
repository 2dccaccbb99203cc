//! The first page's top: the seller on the left, the title and dates on the right, then the
//! buyer (and the delivery address when it differs from the billing address).

use super::fonts::Style::{Bold, Regular};
use super::layout::{block, Line, Op, Pager, ACCENT, INK, MARGIN_X, MUTED, PAID, RIGHT};
use super::text;
use crate::format;
use crate::mentions::{self, words};
use crate::validate::Checked;

/// Where the right-hand column starts.
const RIGHT_COLUMN: f32 = 318.0;
const LEFT_WIDTH: f32 = RIGHT_COLUMN - MARGIN_X - 18.0;
const RIGHT_WIDTH: f32 = RIGHT - RIGHT_COLUMN;
const BODY: f32 = 8.5;

/// Lays out the header blocks and leaves the cursor below them.
pub fn header(pager: &mut Pager, c: &Checked) {
    let top = pager.y;
    let seller_bottom = block(pager, MARGIN_X, top, LEFT_WIDTH, &seller_lines(c));
    let mut title_bottom = block(pager, RIGHT_COLUMN, top, RIGHT_WIDTH, &title_lines(c));
    if c.doc.paid {
        title_bottom = paid_mark(pager, c, title_bottom + 6.0);
    }
    let parties_top = seller_bottom.max(title_bottom) + 20.0;
    let buyer_bottom = block(
        pager,
        RIGHT_COLUMN,
        parties_top,
        RIGHT_WIDTH,
        &buyer_lines(c),
    );
    let delivery_bottom = match c.doc.buyer.distinct_delivery_address() {
        Some(address) => {
            let l = words(c);
            let mut lines = vec![Line::new(l.delivery_address, Bold, 8.0, ACCENT).then_space(2.0)];
            lines.extend(
                mentions::address_lines(address)
                    .into_iter()
                    .map(|t| Line::new(t, Regular, BODY, INK)),
            );
            block(pager, MARGIN_X, parties_top, LEFT_WIDTH, &lines)
        }
        None => parties_top,
    };
    pager.y = buyer_bottom.max(delivery_bottom) + 22.0;
}

fn seller_lines(c: &Checked) -> Vec<Line> {
    let seller = &c.doc.seller;
    let l = words(c);
    let mut lines = vec![
        Line::new(&seller.name, Bold, 13.0, ACCENT).then_space(2.0),
        Line::new(mentions::legal_form_and_capital(c), Regular, BODY, INK),
    ];
    lines.extend(
        mentions::address_lines(&seller.address)
            .into_iter()
            .map(|t| Line::new(t, Regular, BODY, INK)),
    );
    lines.push(Line::new(
        format!("{}{}{}", l.email, l.colon, seller.email),
        Regular,
        BODY,
        INK,
    ));
    lines.extend(
        mentions::seller_registration(c)
            .into_iter()
            .map(|t| Line::new(t, Regular, BODY, MUTED)),
    );
    lines
}

fn title_lines(c: &Checked) -> Vec<Line> {
    let l = words(c);
    let language = c.doc.language;
    let title = mentions::title(c);
    // The largest size at which the title holds on one line (long numbers wrap at 12 pt).
    let size = [16.0, 15.0, 14.0, 13.0]
        .into_iter()
        .find(|&size| text::width(&title, Bold, size) <= RIGHT_WIDTH)
        .unwrap_or(12.0);
    let mut lines = vec![Line::new(title, Bold, size, ACCENT).then_space(2.0)];
    if let Some(original) = mentions::original_invoice(c) {
        lines.push(Line::new(original, Regular, 9.0, INK).then_space(2.0));
    }
    let (service_label, service_value) = mentions::service_date(c);
    for (label, value) in [
        (l.issue_date, format::date(c.doc.issue_date, language)),
        (service_label, service_value),
        (l.due_date, format::date(c.doc.due_date, language)),
    ] {
        lines.push(Line::new(
            format!("{label}{}{value}", l.colon),
            Regular,
            9.0,
            INK,
        ));
    }
    lines
}

/// A boxed PAID / PAYÉ (REFUNDED / REMBOURSÉ for a credit note) mark; returns the y below it.
fn paid_mark(pager: &mut Pager, c: &Checked, y: f32) -> f32 {
    let l = words(c);
    let mark = if c.doc.is_credit_note() {
        l.refunded_mark
    } else {
        l.paid_mark
    };
    let size = 14.0;
    let w = text::width(mark, Bold, size) + 16.0;
    let h = size + 10.0;
    pager.push(Op::Rect {
        x: RIGHT_COLUMN,
        y,
        w,
        h,
        fill: None,
        stroke: Some((PAID, 1.5)),
    });
    pager.text(
        RIGHT_COLUMN + 8.0,
        y + 5.0 + size * 0.82,
        mark,
        Bold,
        size,
        PAID,
    );
    y + h
}

fn buyer_lines(c: &Checked) -> Vec<Line> {
    let l = words(c);
    let buyer = &c.doc.buyer;
    let mut lines = vec![
        Line::new(
            format!("{} — {}", l.buyer, l.billing_address),
            Bold,
            8.0,
            ACCENT,
        )
        .then_space(2.0),
        Line::new(buyer.display_name(), Bold, 10.0, INK),
    ];
    if buyer.is_business() && buyer.name != buyer.display_name() {
        lines.push(Line::new(&buyer.name, Regular, BODY, INK));
    }
    lines.extend(
        mentions::address_lines(&buyer.billing_address)
            .into_iter()
            .map(|t| Line::new(t, Regular, BODY, INK)),
    );
    lines.push(Line::new(
        format!("{}{}{}", l.email, l.colon, buyer.email),
        Regular,
        BODY,
        INK,
    ));
    lines.extend(
        mentions::buyer_registration(c)
            .into_iter()
            .map(|t| Line::new(t, Regular, BODY, MUTED)),
    );
    lines
}
