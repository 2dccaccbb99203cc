//! A small indenting XML writer that escapes every text and attribute value.
//!
//! Element names are `&'static str` (they come from the schemas, never from input); only
//! values are input, and they always pass through `escape`. Characters XML 1.0 cannot carry
//! at all (C0 controls other than tab, newline and carriage return) become spaces.

/// Builds an XML document.
pub struct XmlWriter {
    out: String,
    open: Vec<&'static str>,
}

impl XmlWriter {
    /// Starts a document with the XML declaration.
    pub fn new() -> Self {
        Self {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            open: vec![],
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.open.len() {
            self.out.push_str("  ");
        }
    }

    fn start_tag(&mut self, name: &'static str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attrs {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push_str("=\"");
            escape_into(&mut self.out, value, true);
            self.out.push('"');
        }
        self.out.push('>');
    }

    /// Opens an element whose children follow.
    pub fn open(&mut self, name: &'static str) {
        self.open_with(name, &[]);
    }

    /// Opens an element with attributes.
    pub fn open_with(&mut self, name: &'static str, attrs: &[(&str, &str)]) {
        self.start_tag(name, attrs);
        self.out.push('\n');
        self.open.push(name);
    }

    /// Closes the innermost open element.
    pub fn close(&mut self) {
        if let Some(name) = self.open.pop() {
            self.indent();
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push_str(">\n");
        }
    }

    /// An element holding text.
    pub fn leaf(&mut self, name: &'static str, text: &str) {
        self.leaf_with(name, &[], text);
    }

    /// An element holding text, with attributes.
    pub fn leaf_with(&mut self, name: &'static str, attrs: &[(&str, &str)], text: &str) {
        self.start_tag(name, attrs);
        escape_into(&mut self.out, text, false);
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }

    /// The finished document (closing whatever is still open).
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}

fn escape_into(out: &mut String, value: &str, attribute: bool) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            // Attribute values are normalised by parsers: keep whitespace as typed.
            '\t' | '\n' | '\r' if attribute => out.push_str(&format!("&#{};", c as u32)),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push(' '),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        let mut w = XmlWriter::new();
        w.open_with("a", &[("k", "\"x\" & 'y' <z>")]);
        w.leaf("b", "Dupont & Fils <SARL> \"quoted\"");
        let xml = w.finish();
        assert!(xml.contains("<a k=\"&quot;x&quot; &amp; &apos;y&apos; &lt;z&gt;\">"));
        assert!(xml.contains("<b>Dupont &amp; Fils &lt;SARL&gt; \"quoted\"</b>"));
        assert!(xml.ends_with("</a>\n"));
    }

    #[test]
    fn characters_xml_cannot_carry_become_spaces() {
        let mut w = XmlWriter::new();
        w.leaf("b", "a\u{0}b\u{1B}c\td");
        assert!(w.finish().contains("<b>a b c\td</b>"));
    }
}
