//! The fonts compiled into the crate, and which one draws each character.
//!
//! DejaVu Sans (from the `dejavu` crate, so nothing is read from the system or downloaded)
//! covers Latin with every accent, Greek, Cyrillic, typographic punctuation and €. Each style
//! has a chain of fonts tried in order: bold text falls back to the regular face for the
//! characters the bold face lacks. A character no font covers is never drawn as a missing
//! glyph (PDF/A forbids `.notdef`, and a "?" would silently change the text): it is replaced
//! by the visible marker `[U+XXXX]` with its code point, in the primary font.

use std::sync::OnceLock;

use krilla::text::Font;

/// A text style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Regular,
    Bold,
}

/// One font: the face used for shaping and measuring, and the same data for krilla to embed.
pub struct FontFace {
    pub shaper: rustybuzz::Face<'static>,
    pub pdf: Font,
}

/// Every font face, loaded once per process.
pub struct FontSet {
    faces: Vec<FontFace>,
}

const REGULAR: usize = 0;
const BOLD: usize = 1;

impl FontSet {
    /// The fonts, parsed on first use.
    pub fn get() -> &'static FontSet {
        static FONTS: OnceLock<FontSet> = OnceLock::new();
        FONTS.get_or_init(|| FontSet {
            faces: vec![load(dejavu::sans::regular()), load(dejavu::sans::bold())],
        })
    }

    /// The faces tried, in order, for a style.
    pub fn chain(&self, style: Style) -> &'static [usize] {
        match style {
            Style::Regular => &[REGULAR],
            Style::Bold => &[BOLD, REGULAR],
        }
    }

    /// A face by index.
    pub fn face(&self, index: usize) -> &FontFace {
        &self.faces[index]
    }

    /// The first face of the style's chain that has a glyph for `c`, if any.
    pub fn face_for(&self, style: Style, c: char) -> Option<usize> {
        self.chain(style)
            .iter()
            .copied()
            .find(|&i| self.faces[i].shaper.glyph_index(c).is_some())
    }

    /// The style's primary face (markers and spaces are drawn with it).
    pub fn primary(&self, style: Style) -> usize {
        self.chain(style)[0]
    }
}

fn load(data: &'static [u8]) -> FontFace {
    // The font files are compiled in and known to parse; a failure here is a build defect.
    let shaper = rustybuzz::Face::from_slice(data, 0).expect("bundled font parses");
    let pdf = Font::new(data.into(), 0).expect("bundled font loads in krilla");
    FontFace { shaper, pdf }
}

/// The marker drawn instead of a character no font covers.
pub fn marker(c: char) -> String {
    format!("[U+{:04X}]", c as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_font_covers_latin_greek_cyrillic_and_typography() {
        let fonts = FontSet::get();
        let text = "Café crème « spécial » — 5 € l’unité … Καλημέρα κόσμε Счёт-фактура \
                    Straße Zażółć gęślą jaźń ÀÉÎÕÜ œŒæÆ \u{A0}\u{202F}";
        for style in [Style::Regular, Style::Bold] {
            for c in text.chars() {
                assert!(fonts.face_for(style, c).is_some(), "{c:?} in {style:?}");
            }
        }
    }

    #[test]
    fn japanese_is_not_covered_and_gets_a_marker() {
        let fonts = FontSet::get();
        assert_eq!(fonts.face_for(Style::Regular, '日'), None);
        assert_eq!(marker('日'), "[U+65E5]");
        assert_eq!(marker('\u{1F600}'), "[U+1F600]");
    }
}
