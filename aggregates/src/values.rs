//! Value types shared by several aggregates and use cases: a payment-method id, a free-text
//! description, and a client's metadata. Each parses the client's raw input once, with the
//! rule in one place, and names the field it refuses.

use std::collections::BTreeMap;

use crate::ValidationError;

/// Whether raw card numbers may stand in for a payment method: only the offline sandbox
/// accepts them (its test cards); with a real provider, card data never reaches billstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardNumbers {
    Accepted,
    Refused,
}

/// A payment method as the provider names it (`pm_card_visa`, `pm_1Nx…`), or, in the sandbox,
/// a test card number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentMethodId(String);

impl PaymentMethodId {
    /// Longest id accepted.
    pub const MAX_LEN: usize = 255;

    /// Parses the `payment_method` field.
    pub fn parse(raw: &str, card_numbers: CardNumbers) -> Result<Self, ValidationError> {
        const FIELD: &str = "payment_method";
        if raw.trim().is_empty() || raw.len() > Self::MAX_LEN {
            return Err(ValidationError::new(
                FIELD,
                "must be a payment method id such as pm_card_visa",
            ));
        }
        let looks_like_card_number = raw
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
            && raw.chars().any(|c| c.is_ascii_digit());
        if looks_like_card_number && card_numbers == CardNumbers::Refused {
            return Err(ValidationError::new(
                FIELD,
                "card numbers are accepted only by the sandbox; send a PaymentMethod id (pm_…)",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An optional free-text description: trimmed, empty means none, at most 1,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    /// Longest description, in characters.
    pub const MAX_CHARS: usize = 1_000;

    /// Parses an optional `description` field.
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, ValidationError> {
        let Some(text) = raw.map(str::trim).filter(|text| !text.is_empty()) else {
            return Ok(None);
        };
        if text.chars().count() > Self::MAX_CHARS {
            return Err(ValidationError::new(
                "description",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Some(Self(text.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A client's key-value metadata, within Stripe's limits (50 keys, keys up to 40 characters
/// without square brackets, values up to 500). Keys starting with `billstream_` are reserved
/// for billstream's own bookkeeping at the provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata(BTreeMap<String, String>);

impl Metadata {
    pub const MAX_KEYS: usize = 50;
    pub const MAX_KEY_CHARS: usize = 40;
    pub const MAX_VALUE_CHARS: usize = 500;
    /// The prefix of the keys billstream keeps for itself.
    pub const RESERVED_PREFIX: &'static str = "billstream_";

    /// Parses the `metadata` field.
    pub fn parse(raw: BTreeMap<String, String>) -> Result<Self, ValidationError> {
        if raw.len() > Self::MAX_KEYS {
            return Err(ValidationError::new(
                "metadata",
                format!("must have at most {} keys", Self::MAX_KEYS),
            ));
        }
        for (key, value) in &raw {
            if key.is_empty()
                || key.chars().count() > Self::MAX_KEY_CHARS
                || key.contains(['[', ']'])
            {
                return Err(ValidationError::new(
                    format!("metadata.{key}"),
                    "keys must be 1 to 40 characters without square brackets",
                ));
            }
            if key.starts_with(Self::RESERVED_PREFIX) {
                return Err(ValidationError::new(
                    format!("metadata.{key}"),
                    "keys starting with billstream_ are reserved",
                ));
            }
            if value.chars().count() > Self::MAX_VALUE_CHARS {
                return Err(ValidationError::new(
                    format!("metadata.{key}"),
                    "values must be at most 500 characters",
                ));
            }
        }
        Ok(Self(raw))
    }

    /// Metadata from the provider, less billstream's reserved keys (no limit is enforced: the
    /// provider already did).
    pub fn from_provider(raw: BTreeMap<String, String>) -> Self {
        Self(
            raw.into_iter()
                .filter(|(key, _)| !key.starts_with(Self::RESERVED_PREFIX))
                .collect(),
        )
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_are_payment_methods_only_in_the_sandbox() {
        assert!(PaymentMethodId::parse("4242 4242 4242 4242", CardNumbers::Accepted).is_ok());
        let refused = PaymentMethodId::parse("4242424242424242", CardNumbers::Refused).unwrap_err();
        assert_eq!(refused.field, "payment_method");
        assert!(PaymentMethodId::parse("pm_card_visa", CardNumbers::Refused).is_ok());
    }

    #[test]
    fn an_empty_or_oversized_payment_method_is_refused() {
        assert!(PaymentMethodId::parse("  ", CardNumbers::Accepted).is_err());
        assert!(PaymentMethodId::parse(&"p".repeat(256), CardNumbers::Accepted).is_err());
    }

    #[test]
    fn a_blank_description_is_none_and_a_long_one_is_refused() {
        assert_eq!(Description::parse_optional(Some("  ")).unwrap(), None);
        assert_eq!(
            Description::parse_optional(Some(" Order 1 "))
                .unwrap()
                .unwrap()
                .as_str(),
            "Order 1"
        );
        assert!(Description::parse_optional(Some(&"d".repeat(1_001))).is_err());
    }

    #[test]
    fn reserved_and_oversized_metadata_is_refused() {
        let reserved = BTreeMap::from([("billstream_payment_id".to_owned(), "x".to_owned())]);
        assert!(Metadata::parse(reserved).is_err());
        let long_value = BTreeMap::from([("k".to_owned(), "v".repeat(501))]);
        assert_eq!(Metadata::parse(long_value).unwrap_err().field, "metadata.k");
        let provider = BTreeMap::from([
            ("billstream_payment_id".to_owned(), "p".to_owned()),
            ("order".to_owned(), "1".to_owned()),
        ]);
        assert_eq!(Metadata::from_provider(provider).as_map().len(), 1);
    }
}
