//! A minimal PDF 1.4 writer: one or more pages of text and rules in the standard Helvetica
//! fonts (WinAnsi encoding), uncompressed, with an exact cross-reference table. Enough for an
//! invoice, with no dependency.

use std::fmt::Write as _;

/// A4 in points.
pub const PAGE_WIDTH: f32 = 595.0;
pub const PAGE_HEIGHT: f32 = 842.0;

/// Which of the two standard fonts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Font {
    Regular,
    Bold,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Self::Regular => "F1",
            Self::Bold => "F2",
        }
    }
}

/// The drawing operations of one page.
#[derive(Debug, Default)]
pub struct Page {
    content: String,
}

impl Page {
    /// Text at (x, y) from the bottom-left corner, in points.
    pub fn text(&mut self, x: f32, y: f32, size: f32, font: Font, text: &str) -> &mut Self {
        let _ = writeln!(
            self.content,
            "BT /{} {size} Tf {x:.2} {y:.2} Td ({}) Tj ET",
            font.resource(),
            escape(text)
        );
        self
    }

    /// Text ending at `right` (approximate width: Helvetica averages 0.5 em per character).
    pub fn text_right(
        &mut self,
        right: f32,
        y: f32,
        size: f32,
        font: Font,
        text: &str,
    ) -> &mut Self {
        let width = text.chars().count() as f32 * size * 0.5;
        self.text(right - width, y, size, font, text)
    }

    /// Rotated, coloured text (a stamp).
    pub fn stamp(
        &mut self,
        x: f32,
        y: f32,
        size: f32,
        degrees: f32,
        rgb: (f32, f32, f32),
        text: &str,
    ) -> &mut Self {
        let (sin, cos) = degrees.to_radians().sin_cos();
        let _ = writeln!(
            self.content,
            "q {} {} {} rg BT /F2 {size} Tf {cos:.4} {sin:.4} {:.4} {cos:.4} {x:.2} {y:.2} Tm ({}) Tj ET Q",
            rgb.0,
            rgb.1,
            rgb.2,
            -sin,
            escape(text)
        );
        self
    }

    /// A horizontal rule.
    pub fn rule(&mut self, x1: f32, x2: f32, y: f32) -> &mut Self {
        let _ = writeln!(self.content, "0.5 w {x1:.2} {y:.2} m {x2:.2} {y:.2} l S");
        self
    }
}

/// Escapes a string for a PDF literal and maps it to WinAnsi: Latin-1 characters are kept
/// (as octal escapes above ASCII), the euro sign has its own code, anything else becomes `?`.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '(' | ')' | '\\' => {
                escaped.push('\\');
                escaped.push(c);
            }
            ' '..='~' => escaped.push(c),
            '€' => escaped.push_str("\\200"),
            c if (c as u32) >= 0xA0 && (c as u32) <= 0xFF => {
                let _ = write!(escaped, "\\{:03o}", c as u32);
            }
            _ => escaped.push('?'),
        }
    }
    escaped
}

/// Assembles pages into a PDF file.
pub fn document(title: &str, pages: &[Page]) -> Vec<u8> {
    // Objects: 1 catalog, 2 pages, 3 regular font, 4 bold font, 5 info, then per page a page
    // object and its content stream.
    let mut objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        String::new(), // the page tree, once the kids are known
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".into(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
            .into(),
        format!("<< /Title ({}) /Producer (billstream) >>", escape(title)),
    ];
    let mut kids = Vec::new();
    for page in pages {
        let page_id = objects.len() + 1;
        let content_id = page_id + 1;
        kids.push(format!("{page_id} 0 R"));
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
             /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {content_id} 0 R >>"
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{}endstream",
            page.content.len(),
            page.content
        ));
    }
    objects[1] = format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        pages.len()
    );

    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", index + 1).as_bytes());
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_mapped_to_winansi() {
        assert_eq!(escape("a (b) \\ c"), "a \\(b\\) \\\\ c");
        assert_eq!(escape("Créé 12 €"), "Cr\\351\\351 12 \\200");
        assert_eq!(escape("日本"), "??");
    }
}
