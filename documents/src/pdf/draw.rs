//! Draws laid-out pages with krilla.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::num::NormalizedF32;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;

use super::fonts::FontSet;
use super::layout::{Op, Rgb};
use super::text;

/// Draws one page's operations.
pub fn draw_page(surface: &mut Surface, ops: &[Op]) {
    let fonts = FontSet::get();
    for op in ops {
        match op {
            Op::Text {
                x,
                y,
                text,
                style,
                size,
                color,
            } => {
                surface.set_fill(Some(fill(*color)));
                surface.set_stroke(None);
                let mut x = *x;
                for run in text::shape(text, *style).runs {
                    let font = fonts.face(run.face).pdf.clone();
                    surface.draw_glyphs(
                        Point::from_xy(x, *y),
                        &run.glyphs,
                        font,
                        &run.text,
                        *size,
                        false,
                    );
                    x += run.advance_em * size;
                }
            }
            Op::Rect {
                x,
                y,
                w,
                h,
                fill: fill_color,
                stroke,
            } => {
                let Some(rect) = Rect::from_xywh(*x, *y, *w, *h) else {
                    continue;
                };
                let mut builder = PathBuilder::new();
                builder.push_rect(rect);
                let Some(path) = builder.finish() else {
                    continue;
                };
                surface.set_fill(fill_color.map(fill));
                surface.set_stroke(stroke.map(|(color, width)| line(color, width)));
                surface.draw_path(&path);
            }
            Op::HLine {
                x1,
                x2,
                y,
                color,
                width,
            } => {
                let mut builder = PathBuilder::new();
                builder.move_to(*x1, *y);
                builder.line_to(*x2, *y);
                let Some(path) = builder.finish() else {
                    continue;
                };
                surface.set_fill(None);
                surface.set_stroke(Some(line(*color, *width)));
                surface.draw_path(&path);
            }
        }
    }
}

fn color(c: Rgb) -> rgb::Color {
    rgb::Color::new(c.0, c.1, c.2)
}

fn fill(c: Rgb) -> Fill {
    Fill {
        paint: color(c).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

fn line(c: Rgb, width: f32) -> Stroke {
    Stroke {
        paint: color(c).into(),
        width,
        ..Stroke::default()
    }
}
