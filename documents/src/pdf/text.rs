//! Turns strings into positioned glyphs: font fallback, shaping, measuring and line wrapping.
//!
//! We shape with rustybuzz ourselves (rather than krilla's single-font `draw_text`) so that one
//! string can mix fonts, and so that the width we wrap and right-align with is exactly the
//! width that gets drawn.

use krilla::text::{GlyphId, KrillaGlyph};

use super::fonts::{marker, FontSet, Style};

/// A run of text drawn with one font.
pub struct Run {
    pub face: usize,
    /// The text the glyphs stand for (what a PDF reader extracts).
    pub text: String,
    pub glyphs: Vec<KrillaGlyph>,
    /// Advance in em (multiply by the font size for points).
    pub advance_em: f32,
}

/// A shaped single line of text.
pub struct Shaped {
    pub runs: Vec<Run>,
    advance_em: f32,
}

impl Shaped {
    /// Width in points at `size`.
    pub fn width(&self, size: f32) -> f32 {
        self.advance_em * size
    }
}

/// Shapes one line (no line breaks are interpreted).
pub fn shape(text: &str, style: Style) -> Shaped {
    let fonts = FontSet::get();
    let runs: Vec<Run> = segments(fonts, text, style)
        .into_iter()
        .map(|(face, text)| shape_run(fonts, face, text))
        .collect();
    let advance_em = runs.iter().map(|r| r.advance_em).sum();
    Shaped { runs, advance_em }
}

/// Width of one line in points.
pub fn width(text: &str, style: Style, size: f32) -> f32 {
    shape(text, style).width(size)
}

/// The size at which `text` fits in `max_width` points: `size`, or smaller when the text is
/// wider (an amount must never spill into the next column, nor be cut).
pub fn fit(text: &str, style: Style, size: f32, max_width: f32) -> f32 {
    let natural = width(text, style, size);
    if natural > max_width {
        size * max_width / natural
    } else {
        size
    }
}

/// Splits `text` into lines no wider than `max_width` points: at spaces when possible (never
/// at the no-break spaces that keep an amount with its unit), inside a word only when the word
/// alone is too wide. Explicit newlines are kept.
pub fn wrap(text: &str, style: Style, size: f32, max_width: f32) -> Vec<String> {
    let mut lines = vec![];
    for paragraph in text.split('\n') {
        let mut current = String::new();
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let candidate = if current.is_empty() {
                word.to_owned()
            } else {
                format!("{current} {word}")
            };
            if width(&candidate, style, size) <= max_width {
                current = candidate;
                continue;
            }
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            // The word alone may still be too wide: cut it between characters.
            for c in word.chars() {
                let mut longer = current.clone();
                longer.push(c);
                if !current.is_empty() && width(&longer, style, size) > max_width {
                    lines.push(std::mem::take(&mut current));
                    current.push(c);
                } else {
                    current = longer;
                }
            }
        }
        lines.push(current);
    }
    lines
}

/// Groups characters by the font that draws them, replacing uncovered ones by markers.
fn segments(fonts: &FontSet, text: &str, style: Style) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = vec![];
    let primary = fonts.primary(style);
    for c in text.chars() {
        // Control characters have no glyph and no meaning on paper.
        let c = if c.is_control() { ' ' } else { c };
        let (face, piece) = match fonts.face_for(style, c) {
            Some(face) => (face, c.to_string()),
            // Invisible formatting characters (zero-width space, joiners, variation
            // selectors, BOM) have nothing to show: drop them rather than mark them.
            None if is_default_ignorable(c) => continue,
            None => (primary, marker(c)),
        };
        match out.last_mut() {
            Some((last, s)) if *last == face => s.push_str(&piece),
            _ => out.push((face, piece)),
        }
    }
    out
}

/// Unicode's default-ignorable code points (DerivedCoreProperties), which render as nothing.
fn is_default_ignorable(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFF8
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

fn shape_run(fonts: &FontSet, face: usize, text: String) -> Run {
    let font = fonts.face(face);
    let units = font.shaper.units_per_em() as f32;
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(&text);
    buffer.guess_segment_properties();
    let output = rustybuzz::shape(&font.shaper, &[], buffer);
    let infos = output.glyph_infos();
    let positions = output.glyph_positions();

    // A glyph stands for the text from its cluster start to the next cluster's start; sorting
    // the starts makes this hold for right-to-left runs too.
    let mut starts: Vec<usize> = infos.iter().map(|i| i.cluster as usize).collect();
    starts.sort_unstable();
    starts.dedup();
    let end_of = |start: usize| {
        starts
            .iter()
            .copied()
            .find(|&s| s > start)
            .unwrap_or(text.len())
    };

    let mut advance = 0.0;
    let glyphs = infos
        .iter()
        .zip(positions)
        .map(|(info, pos)| {
            let start = info.cluster as usize;
            advance += pos.x_advance as f32 / units;
            KrillaGlyph::new(
                GlyphId::new(info.glyph_id),
                pos.x_advance as f32 / units,
                pos.x_offset as f32 / units,
                pos.y_offset as f32 / units,
                pos.y_advance as f32 / units,
                start..end_of(start),
                None,
            )
        })
        .collect();
    Run {
        face,
        text,
        glyphs,
        advance_em: advance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncovered_characters_become_markers_in_the_primary_font() {
        let shaped = shape("A日B", Style::Regular);
        let text: String = shaped.runs.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(text, "A[U+65E5]B");
        assert_eq!(shaped.runs.len(), 1);
    }

    #[test]
    fn invisible_formatting_characters_are_dropped_not_marked() {
        let shaped = shape("a\u{200B}b\u{FEFF}c\u{FE0F}", Style::Regular);
        let text: String = shaped.runs.iter().map(|r| r.text.as_str()).collect();
        assert!(!text.contains("[U+"), "{text}");
        assert!(text.starts_with('a') && text.contains('b') && text.contains('c'));
    }

    #[test]
    fn no_glyph_is_the_missing_glyph() {
        let shaped = shape("Καλημέρα Счёт 日本 «—»", Style::Bold);
        for run in &shaped.runs {
            assert!(run.glyphs.iter().all(|g| g.glyph_id.to_u32() != 0));
        }
    }

    #[test]
    fn wrapping_breaks_at_spaces_and_keeps_every_character() {
        let text = "Développement d'une application de facturation électronique conforme";
        let lines = wrap(text, Style::Regular, 10.0, 120.0);
        assert!(lines.len() > 1);
        for line in &lines {
            assert!(width(line, Style::Regular, 10.0) <= 120.0, "{line}");
        }
        assert_eq!(lines.join(" "), text);
    }

    #[test]
    fn a_word_wider_than_the_line_is_cut_between_characters() {
        let word = "Anticonstitutionnellementanticonstitutionnellement";
        let lines = wrap(word, Style::Regular, 10.0, 60.0);
        assert!(lines.len() > 2);
        assert_eq!(lines.concat(), word);
    }

    #[test]
    fn no_break_spaces_are_not_break_points() {
        let lines = wrap("Total 1\u{202F}234,56\u{A0}€", Style::Regular, 10.0, 60.0);
        assert_eq!(lines, ["Total", "1\u{202F}234,56\u{A0}€"]);
    }
}
