//! Adds the Factur-X XMP properties (and their PDF/A extension schema) to the PDF krilla wrote.
//!
//! Factur-X requires the XMP metadata to say `fx:DocumentType=INVOICE`,
//! `fx:DocumentFileName=factur-x.xml`, `fx:Version=1.0` and `fx:ConformanceLevel=EN 16931`,
//! and PDF/A requires every non-standard XMP property to be declared in a
//! `pdfaExtension:schemas` entry. krilla writes its own XMP with no hook for custom
//! properties, so we edit its output: the XMP stream is uncompressed (PDF/A demands it) and the
//! file has a classic cross-reference table, so the edit is a splice of the packet, its
//! `/Length`, and the shift of the byte offsets that follow. krilla is pinned to an exact
//! version, and every assumption about its output is checked: a mismatch is an error, never a
//! corrupt file.

use crate::DocumentError;

/// The Factur-X XMP namespace (version 1.0 of the standard).
pub const FX_NAMESPACE: &str = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#";

const SCHEMAS_END: &str = "</rdf:Bag></pdfaExtension:schemas>";
const RDF_END: &str = "</rdf:RDF>";

/// The Factur-X entry of the `pdfaExtension:schemas` bag.
fn schema_entry() -> String {
    let property = |name: &str, description: &str| {
        format!(
            "<rdf:li rdf:parseType=\"Resource\"><pdfaProperty:name>{name}</pdfaProperty:name>\
             <pdfaProperty:valueType>Text</pdfaProperty:valueType>\
             <pdfaProperty:category>external</pdfaProperty:category>\
             <pdfaProperty:description>{description}</pdfaProperty:description></rdf:li>"
        )
    };
    format!(
        "<rdf:li rdf:parseType=\"Resource\">\
         <pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>\
         <pdfaSchema:namespaceURI>{FX_NAMESPACE}</pdfaSchema:namespaceURI>\
         <pdfaSchema:prefix>fx</pdfaSchema:prefix>\
         <pdfaSchema:property><rdf:Seq>{}{}{}{}</rdf:Seq></pdfaSchema:property></rdf:li>",
        property("DocumentFileName", "Name of the embedded XML invoice file"),
        property(
            "DocumentType",
            "Type of the hybrid document, in capital letters"
        ),
        property(
            "Version",
            "Version of the Factur-X standard of the embedded XML"
        ),
        property("ConformanceLevel", "Conformance level of the embedded XML"),
    )
}

/// The Factur-X properties themselves.
fn fx_description() -> String {
    format!(
        "<rdf:Description rdf:about=\"\" xmlns:fx=\"{FX_NAMESPACE}\">\
         <fx:DocumentType>INVOICE</fx:DocumentType>\
         <fx:DocumentFileName>{}</fx:DocumentFileName>\
         <fx:Version>1.0</fx:Version>\
         <fx:ConformanceLevel>EN 16931</fx:ConformanceLevel></rdf:Description>",
        super::FACTURX_FILE_NAME
    )
}

fn unexpected(what: &str) -> DocumentError {
    DocumentError::Pdf(format!("unexpected PDF structure from krilla: {what}"))
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// Inserts the Factur-X schema and properties into an XMP packet.
fn extend_xmp(xmp: &str) -> Result<String, DocumentError> {
    if xmp.matches(SCHEMAS_END).count() != 1 || xmp.matches(RDF_END).count() != 1 {
        return Err(unexpected("XMP without exactly one extension-schema bag"));
    }
    Ok(xmp
        .replacen(SCHEMAS_END, &format!("{}{SCHEMAS_END}", schema_entry()), 1)
        .replacen(RDF_END, &format!("{}{RDF_END}", fx_description()), 1))
}

/// Returns the PDF with the Factur-X XMP properties added; see the module documentation.
pub fn add_xmp_extension(pdf: Vec<u8>) -> Result<Vec<u8>, DocumentError> {
    let packet_start =
        find(&pdf, b"<?xpacket begin", 0).ok_or_else(|| unexpected("no XMP packet"))?;
    let end_marker: &[u8] = b"<?xpacket end=\"r\"?>";
    let packet_end = find(&pdf, end_marker, packet_start)
        .ok_or_else(|| unexpected("unterminated XMP packet"))?
        + end_marker.len();
    let stream_keyword = packet_start
        .checked_sub(7)
        .and_then(|s| pdf.get(s..packet_start));
    if stream_keyword != Some(b"stream\n".as_slice())
        || pdf.get(packet_end..packet_end + 10) != Some(b"\nendstream".as_slice())
    {
        return Err(unexpected("XMP packet is not a whole stream"));
    }
    let xmp = std::str::from_utf8(&pdf[packet_start..packet_end])
        .map_err(|_| unexpected("XMP is not UTF-8"))?;
    let new_xmp = extend_xmp(xmp)?;

    // The stream dictionary opens with its length: `<</Length 4215/Type/Metadata...`.
    let length_key: &[u8] = b"<</Length ";
    let length_start = rfind(&pdf[..packet_start], length_key)
        .ok_or_else(|| unexpected("XMP stream without /Length"))?
        + length_key.len();
    let length_end = length_start
        + pdf[length_start..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .ok_or_else(|| unexpected("bad /Length"))?;
    let old_length: usize = parse(&pdf[length_start..length_end])?;
    if old_length != xmp.len() || find(&pdf[length_end..packet_start], b"/Metadata", 0).is_none() {
        return Err(unexpected("XMP stream length or type mismatch"));
    }
    let new_length = new_xmp.len().to_string();

    let startxref_key: &[u8] = b"startxref\n";
    let startxref_at = rfind(&pdf, startxref_key).ok_or_else(|| unexpected("no startxref"))?;
    let xref_start: usize = parse(
        pdf[startxref_at + startxref_key.len()..]
            .split(|b| *b == b'\n')
            .next()
            .unwrap_or_default(),
    )?;
    if xref_start < packet_end || !pdf[xref_start..].starts_with(b"xref\n") {
        return Err(unexpected("cross-reference table not after the XMP stream"));
    }

    // Everything after the /Length digits moves by this many bytes.
    let shift = (new_length.len() + new_xmp.len()) as i64
        - ((length_end - length_start) + xmp.len()) as i64;
    let xref = shift_xref(&pdf[xref_start..startxref_at], length_start, shift)?;

    let mut out = Vec::with_capacity(pdf.len() + shift.max(0) as usize);
    out.extend_from_slice(&pdf[..length_start]);
    out.extend_from_slice(new_length.as_bytes());
    out.extend_from_slice(&pdf[length_end..packet_start]);
    out.extend_from_slice(new_xmp.as_bytes());
    out.extend_from_slice(&pdf[packet_end..xref_start]);
    out.extend_from_slice(&xref);
    out.extend_from_slice(startxref_key);
    out.extend_from_slice(format!("{}\n%%EOF", xref_start as i64 + shift).as_bytes());
    Ok(out)
}

fn parse(digits: &[u8]) -> Result<usize, DocumentError> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| unexpected("not a number"))
}

/// Rewrites a classic cross-reference table (and its trailer), moving in-use entries that lie
/// past `after` by `shift` bytes. Entries are the fixed 20-byte `oooooooooo ggggg n\r\n`.
fn shift_xref(section: &[u8], after: usize, shift: i64) -> Result<Vec<u8>, DocumentError> {
    let trailer_at = find(section, b"trailer", 0).ok_or_else(|| unexpected("no trailer"))?;
    let (table, trailer) = section.split_at(trailer_at);
    let mut lines = table.split_inclusive(|b| *b == b'\n');
    let mut out = Vec::with_capacity(section.len());
    let header = lines.next().ok_or_else(|| unexpected("empty xref"))?;
    let subsection = lines
        .next()
        .ok_or_else(|| unexpected("no xref subsection"))?;
    if header != b"xref\n" || !subsection.starts_with(b"0 ") {
        return Err(unexpected("xref with several subsections"));
    }
    out.extend_from_slice(header);
    out.extend_from_slice(subsection);
    for entry in lines {
        if entry.len() != 20 {
            return Err(unexpected("malformed xref entry"));
        }
        let offset = parse(&entry[..10])?;
        if entry[17] == b'n' && offset > after {
            let moved = offset as i64 + shift;
            out.extend_from_slice(format!("{moved:010}").as_bytes());
            out.extend_from_slice(&entry[10..]);
        } else {
            out.extend_from_slice(entry);
        }
    }
    out.extend_from_slice(trailer);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_factur_x_schema_and_properties_go_inside_the_existing_rdf() {
        let xmp = "<x:xmpmeta><rdf:RDF><rdf:Description><pdfaExtension:schemas><rdf:Bag>\
                   <rdf:li>krilla</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>\
                   </rdf:RDF></x:xmpmeta>";
        let out = extend_xmp(xmp).unwrap();
        let schema = out
            .find("<pdfaSchema:prefix>fx</pdfaSchema:prefix>")
            .unwrap();
        assert!(schema < out.find(SCHEMAS_END).unwrap());
        let fx = out
            .find("<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>")
            .unwrap();
        assert!(out.find(SCHEMAS_END).unwrap() < fx && fx < out.find(RDF_END).unwrap());
    }

    #[test]
    fn xmp_without_an_extension_bag_is_refused() {
        assert!(extend_xmp("<rdf:RDF></rdf:RDF>").is_err());
    }

    #[test]
    fn only_in_use_entries_after_the_edit_move() {
        let section = b"xref\n0 3\n0000000000 65535 f\r\n0000000010 00000 n\r\n\
                        0000000500 00000 n\r\ntrailer\n<<>>\n";
        let out = shift_xref(section, 100, 25).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("0000000000 65535 f\r\n"));
        assert!(text.contains("0000000010 00000 n\r\n"));
        assert!(text.contains("0000000525 00000 n\r\n"));
        assert!(text.ends_with("trailer\n<<>>\n"));
    }
}
