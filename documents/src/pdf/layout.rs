//! The page model: A4 geometry, drawing operations, and a cursor that starts a new page when
//! the next block does not fit.
//!
//! Layout produces plain operations first and krilla draws them afterwards, so the total page
//! count is known before the footers ("Page 1/3") are written.

use super::fonts::Style;
use super::text;

/// A4 in points.
pub const PAGE_WIDTH: f32 = 595.28;
pub const PAGE_HEIGHT: f32 = 841.89;
pub const MARGIN_X: f32 = 45.0;
pub const MARGIN_TOP: f32 = 45.0;
pub const MARGIN_BOTTOM: f32 = 36.0;
/// Right edge of the content area.
pub const RIGHT: f32 = PAGE_WIDTH - MARGIN_X;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

pub const INK: Rgb = Rgb(0x22, 0x22, 0x22);
pub const MUTED: Rgb = Rgb(0x55, 0x5B, 0x66);
pub const ACCENT: Rgb = Rgb(0x1F, 0x4E, 0x79);
pub const RULE: Rgb = Rgb(0xBB, 0xC0, 0xC8);
pub const SHADE: Rgb = Rgb(0xEC, 0xEF, 0xF3);
pub const PAID: Rgb = Rgb(0x2E, 0x7D, 0x32);

/// One drawing operation, in points from the top-left corner of the page.
#[derive(Debug, Clone)]
pub enum Op {
    /// Text with its baseline at `y`.
    Text {
        x: f32,
        y: f32,
        text: String,
        style: Style,
        size: f32,
        color: Rgb,
    },
    /// A rectangle, filled and/or stroked.
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        fill: Option<Rgb>,
        stroke: Option<(Rgb, f32)>,
    },
    /// A horizontal rule.
    HLine {
        x1: f32,
        x2: f32,
        y: f32,
        color: Rgb,
        width: f32,
    },
}

/// Line height for a font size.
pub fn leading(size: f32) -> f32 {
    size * 1.32
}

/// Lays out pages top to bottom.
pub struct Pager {
    pages: Vec<Vec<Op>>,
    /// Top of the free space on the current page.
    pub y: f32,
    bottom: f32,
    /// Printed at the top of every page after the first.
    continuation: String,
}

impl Pager {
    /// Starts the first page; content stops `footer_height` above the bottom margin.
    pub fn new(footer_height: f32, continuation: String) -> Self {
        Self {
            pages: vec![vec![]],
            y: MARGIN_TOP,
            bottom: PAGE_HEIGHT - MARGIN_BOTTOM - footer_height,
            continuation,
        }
    }

    /// Height available on a fresh continuation page.
    pub fn page_capacity(&self) -> f32 {
        self.bottom - MARGIN_TOP - leading(9.0) * 2.0
    }

    /// Starts a new page unless `height` fits; returns whether a page was started.
    pub fn ensure(&mut self, height: f32) -> bool {
        if self.y + height <= self.bottom {
            return false;
        }
        self.new_page();
        true
    }

    /// Starts a new page headed by the continuation line.
    pub fn new_page(&mut self) {
        self.pages.push(vec![]);
        self.y = MARGIN_TOP;
        let size = 9.0;
        let line = self.continuation.clone();
        self.text(MARGIN_X, self.y + size, &line, Style::Bold, size, MUTED);
        self.y += leading(size) * 2.0;
    }

    /// Adds an operation to the current page.
    pub fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    /// Left-aligned text, baseline at `y`.
    pub fn text(&mut self, x: f32, y: f32, text: &str, style: Style, size: f32, color: Rgb) {
        if text.is_empty() {
            return;
        }
        self.push(Op::Text {
            x,
            y,
            text: text.to_owned(),
            style,
            size,
            color,
        });
    }

    /// Right-aligned text ending at `right`.
    pub fn text_right(
        &mut self,
        right: f32,
        y: f32,
        text: &str,
        style: Style,
        size: f32,
        color: Rgb,
    ) {
        let x = right - text::width(text, style, size);
        self.text(x, y, text, style, size, color);
    }

    /// Writes wrapped lines from the cursor, breaking pages between lines, and moves the
    /// cursor below them.
    pub fn paragraph(
        &mut self,
        x: f32,
        width: f32,
        text: &str,
        style: Style,
        size: f32,
        color: Rgb,
    ) {
        for line in text::wrap(text, style, size, width) {
            self.ensure(leading(size));
            self.text(x, self.y + size, &line, style, size, color);
            self.y += leading(size);
        }
    }

    /// A horizontal rule across `x1..x2` at `y`.
    pub fn rule(&mut self, x1: f32, x2: f32, y: f32, color: Rgb, width: f32) {
        self.push(Op::HLine {
            x1,
            x2,
            y,
            color,
            width,
        });
    }

    /// The pages laid out so far.
    pub fn finish(self) -> Vec<Vec<Op>> {
        self.pages
    }
}

/// Writes a block of lines at (x, y) and returns the y below it.
pub fn block(pager: &mut Pager, x: f32, y: f32, width: f32, lines: &[Line]) -> f32 {
    let mut y = y;
    for line in lines {
        for wrapped in text::wrap(&line.text, line.style, line.size, width) {
            pager.text(
                x,
                y + line.size,
                &wrapped,
                line.style,
                line.size,
                line.color,
            );
            y += leading(line.size);
        }
        y += line.space_after;
    }
    y
}

/// A line of a block.
pub struct Line {
    pub text: String,
    pub style: Style,
    pub size: f32,
    pub color: Rgb,
    pub space_after: f32,
}

impl Line {
    pub fn new(text: impl Into<String>, style: Style, size: f32, color: Rgb) -> Self {
        Self {
            text: text.into(),
            style,
            size,
            color,
            space_after: 0.0,
        }
    }

    /// Adds vertical space below the line.
    pub fn then_space(mut self, space: f32) -> Self {
        self.space_after = space;
        self
    }
}
