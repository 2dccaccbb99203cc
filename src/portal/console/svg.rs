//! Bar charts as inline SVG, drawn by billstream on the server: no chart library, nothing
//! fetched, no script, no inline style (the CSP allows none) — colours come from the
//! stylesheet's classes. Negative bars (a month of refunds) hang below the zero line.

use std::fmt::Write;

/// One bar: its label under it, its value, and the value as people read it.
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub shown: String,
}

const WIDTH: i64 = 720;
const HEIGHT: i64 = 240;
/// Room for the labels under the bars and the values above them.
const MARGIN: i64 = 28;

/// Escapes text for an SVG text node or attribute.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A bar chart titled `title` (read out by screen readers, as is each bar's value).
pub fn bar_chart(title: &str, bars: &[Bar]) -> String {
    let top = bars.iter().map(|bar| bar.value).max().unwrap_or(0).max(0);
    let bottom = bars.iter().map(|bar| bar.value).min().unwrap_or(0).min(0);
    let span = (top - bottom).max(1);
    let plot = HEIGHT - 2 * MARGIN;
    // The y of a value: `top` at MARGIN, `bottom` at HEIGHT − MARGIN.
    let y = |value: i64| MARGIN + (top - value) * plot / span;
    let zero = y(0);
    let slot = WIDTH / (bars.len().max(1) as i64);
    let width = (slot * 3 / 5).max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>"#,
        title = escape(title)
    );
    let _ = write!(
        svg,
        r#"<line class="axis" x1="0" y1="{zero}" x2="{WIDTH}" y2="{zero}"/>"#
    );
    for (index, bar) in bars.iter().enumerate() {
        let x = index as i64 * slot + (slot - width) / 2;
        let (from, to) = (y(bar.value.max(0)), y(bar.value.min(0)));
        let class = if bar.value < 0 { "bar negative" } else { "bar" };
        let middle = x + width / 2;
        let _ = write!(
            svg,
            r#"<g><rect class="{class}" x="{x}" y="{from}" width="{width}" height="{height}"><title>{label}: {shown}</title></rect><text class="value" x="{middle}" y="{above}" text-anchor="middle">{shown}</text><text class="label" x="{middle}" y="{below}" text-anchor="middle">{label}</text></g>"#,
            height = (to - from).max(1),
            label = escape(&bar.label),
            shown = escape(&bar.shown),
            above = from - 6,
            below = HEIGHT - 8,
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: i64) -> Bar {
        Bar {
            label: label.to_owned(),
            value,
            shown: value.to_string(),
        }
    }

    #[test]
    fn bars_stand_on_the_zero_line_and_negative_ones_hang_below_it() {
        let svg = bar_chart(
            "Net <revenue>",
            &[bar("2026-10", 300), bar("2026-11", -100)],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Net &lt;revenue&gt;"));
        // 184 px of plot for 400 units: zero sits at 28 + 300 × 184 / 400 = 166.
        assert!(svg.contains(r#"y1="166""#), "{svg}");
        // Two slots of 360 px, bars 216 px wide in their middle.
        assert!(
            svg.contains(r#"class="bar" x="72" y="28" width="216" height="138""#),
            "{svg}"
        );
        assert!(
            svg.contains(r#"class="bar negative" x="432" y="166" width="216" height="46""#),
            "{svg}"
        );
    }

    #[test]
    fn an_empty_chart_is_still_a_drawing() {
        let svg = bar_chart("Nothing yet", &[]);
        assert!(svg.contains("<title>Nothing yet</title>"));
    }
}
