//! Form bodies and their errors: a forgiving reader of `application/x-www-form-urlencoded`
//! bodies (a malformed body reads as empty fields, which then fail validation like any
//! other), the errors a form shows next to its fields, and the one-time key that makes a form
//! sent twice (a double click, a reload) do its work once.

use std::collections::BTreeMap;

/// A submitted form's fields, in order (a field may repeat: the lines of an invoice).
#[derive(Debug, Default)]
pub struct FormData {
    pairs: Vec<(String, String)>,
}

impl FormData {
    /// Reads a form body.
    pub fn parse(body: &[u8]) -> Self {
        Self {
            pairs: serde_urlencoded::from_bytes(body).unwrap_or_default(),
        }
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> String {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim().to_owned())
            .unwrap_or_default()
    }

    /// The first value of `name` as sent (passwords keep their spaces).
    pub fn raw(&self, name: &str) -> String {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    }

    /// Every value of `name`, in order, trimmed.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.trim().to_owned())
            .collect()
    }

    /// True when the checkbox `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.pairs.iter().any(|(key, _)| key == name)
    }
}

/// The messages a form shows next to its fields, by field name.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    /// Sets the message of `field` (the first one stays).
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }

    /// The message of `field`, empty when it has none (templates test `is_empty()`).
    pub fn get(&self, field: &str) -> &str {
        self.0.get(field).map_or("", String::as_str)
    }

    /// True when any field has a message.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

/// A fresh key for a form: the form sends it back, and the use case does the work once per key.
pub fn form_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The key a form sent back, if it is one [`form_key`] made (anything else gets a fresh one).
pub fn sent_key(form: &FormData) -> String {
    let key = form.get("form_key");
    if uuid::Uuid::parse_str(&key).is_ok() {
        key
    } else {
        form_key()
    }
}

/// Percent-encodes a query-string value.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_read_repeated_and_missing_fields() {
        let form = FormData::parse(b"description=A&description=B+c&quantity=2&ok=on&pw=+x+");
        assert_eq!(form.all("description"), ["A", "B c"]);
        assert_eq!(form.get("quantity"), "2");
        assert_eq!(form.get("missing"), "");
        assert_eq!(form.raw("pw"), " x ");
        assert!(form.checked("ok"));
        assert!(FormData::parse(b"%%%").get("x").is_empty());
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            encode("/invoices?status=open&x"),
            "/invoices%3Fstatus%3Dopen%26x"
        );
    }
}
