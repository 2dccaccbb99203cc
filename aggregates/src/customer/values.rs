//! Validated value types for customer data. Each `parse` normalises its input and refuses
//! anything that could not be a real value, naming the field.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ValidationError;

/// An e-mail address, trimmed and lower-cased, so that one mailbox is one account in any case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Longest address SMTP can carry (RFC 5321 path limit).
    const MAX_LEN: usize = 254;

    /// Normalises and validates an address.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let email = raw.trim().to_lowercase();
        let invalid = |why: &str| Err(ValidationError::new("email", why));
        if email.is_empty() {
            return invalid("must not be empty");
        }
        if email.len() > Self::MAX_LEN {
            return invalid("must be at most 254 characters");
        }
        let Some((local, domain)) = email.split_once('@') else {
            return invalid("must be an e-mail address such as name@example.com");
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        if !local_ok || !is_valid_domain(domain) {
            return invalid("must be an e-mail address such as name@example.com");
        }
        Ok(Self(email))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let tld_ok = labels
        .last()
        .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
    labels.len() >= 2
        && tld_ok
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A customer's display name: trimmed, non-empty, printable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomerName(String);

impl CustomerName {
    const MAX_CHARS: usize = 200;

    /// Trims and validates a name.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(ValidationError::new("name", "must not be empty"));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "name",
                "must be at most 200 characters",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "name",
                "must not contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as given, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A telephone number as the customer wrote it (digits, spaces and `+-().`), 6 to 15 digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    /// Trims and validates a phone number.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let phone = raw.trim();
        let allowed = phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        let plus_only_first = phone.rfind('+').is_none_or(|at| at == 0);
        let digits = phone.chars().filter(char::is_ascii_digit).count();
        if !allowed || !plus_only_first || !(6..=15).contains(&digits) {
            return Err(ValidationError::new(
                "phone",
                "must be a telephone number of 6 to 15 digits, such as +33 6 12 34 56 78",
            ));
        }
        Ok(Self(phone.to_owned()))
    }

    /// The number as given, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A bcrypt hash. Its `Debug` never shows the hash, so commands and events can be logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a hash produced by the password hasher.
    pub fn new(hash: String) -> Self {
        Self(hash)
    }

    /// The hash, for verification.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// The language a customer's e-mail is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailLanguage {
    Fr,
    En,
}

impl MailLanguage {
    /// `fr` or `en`.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw.trim() {
            "fr" => Ok(Self::Fr),
            "en" => Ok(Self::En),
            _ => Err(ValidationError::new("language", "must be fr or en")),
        }
    }

    /// The code, as stored and shown.
    pub fn code(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }
}
