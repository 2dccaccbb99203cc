//! Money: integer minor units with an ISO 4217 currency. Never floats.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::ValidationError;

/// A supported ISO 4217 currency, lower-case as Stripe writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(&'static str);

/// Currencies billstream accepts, with their number of decimal places (Stripe's minor units).
const SUPPORTED: &[(&str, u32)] = &[
    ("aud", 2),
    ("brl", 2),
    ("cad", 2),
    ("chf", 2),
    ("clp", 0),
    ("czk", 2),
    ("dkk", 2),
    ("eur", 2),
    ("gbp", 2),
    ("hkd", 2),
    ("jpy", 0),
    ("krw", 0),
    ("mxn", 2),
    ("nok", 2),
    ("nzd", 2),
    ("pln", 2),
    ("sek", 2),
    ("sgd", 2),
    ("usd", 2),
    ("vnd", 0),
];

impl Currency {
    /// Parses a lower-case ISO code from the supported list.
    pub fn parse(field: &str, raw: &str) -> Result<Self, ValidationError> {
        SUPPORTED
            .iter()
            .find(|(code, _)| *code == raw)
            .map(|(code, _)| Self(code))
            .ok_or_else(|| {
                let codes: Vec<&str> = SUPPORTED.iter().map(|(code, _)| *code).collect();
                ValidationError::new(
                    field,
                    format!(
                        "must be a lower-case ISO 4217 code among: {}",
                        codes.join(", ")
                    ),
                )
            })
    }

    /// The code (`eur`).
    pub fn code(&self) -> &'static str {
        self.0
    }

    /// Decimal places of the minor unit: 2 for eur, 0 for jpy (a zero-decimal currency).
    pub fn decimals(&self) -> u32 {
        SUPPORTED
            .iter()
            .find(|(code, _)| *code == self.0)
            .map_or(2, |(_, decimals)| *decimals)
    }
}

impl TryFrom<String> for Currency {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse("currency", &value)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.0.to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A positive amount a customer can be charged: 1 to 99,999,999 minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Amount(i64);

impl Amount {
    /// The largest single charge (Stripe's limit for most currencies).
    pub const MAX: i64 = 99_999_999;

    /// Validates a charge amount in minor units.
    pub fn parse(field: &str, minor_units: i64) -> Result<Self, ValidationError> {
        if (1..=Self::MAX).contains(&minor_units) {
            Ok(Self(minor_units))
        } else {
            Err(ValidationError::new(
                field,
                "must be an integer number of minor units from 1 to 99999999",
            ))
        }
    }

    /// Minor units.
    pub fn minor_units(&self) -> i64 {
        self.0
    }
}

/// Formats minor units for people: `12.34 EUR`, `500 JPY`.
pub fn format_amount(minor_units: i64, currency: Currency) -> String {
    let decimals = currency.decimals();
    let code = currency.code().to_uppercase();
    if decimals == 0 {
        return format!("{minor_units} {code}");
    }
    let scale = 10_i64.pow(decimals);
    let sign = if minor_units < 0 { "-" } else { "" };
    let abs = minor_units.unsigned_abs();
    format!(
        "{sign}{}.{:0width$} {code}",
        abs / scale as u64,
        abs % scale as u64,
        width = decimals as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_currencies_parse_and_others_are_refused() {
        assert_eq!(Currency::parse("currency", "eur").unwrap().code(), "eur");
        for bad in ["EUR", "xyz", "", "euro"] {
            assert_eq!(
                Currency::parse("currency", bad).unwrap_err().field,
                "currency"
            );
        }
    }

    #[test]
    fn zero_decimal_currencies_are_known() {
        assert_eq!(Currency::parse("c", "jpy").unwrap().decimals(), 0);
        assert_eq!(Currency::parse("c", "eur").unwrap().decimals(), 2);
    }

    #[test]
    fn amounts_are_bounded() {
        assert!(Amount::parse("amount", 1).is_ok());
        assert!(Amount::parse("amount", 99_999_999).is_ok());
        for bad in [0, -5, 100_000_000] {
            assert_eq!(Amount::parse("amount", bad).unwrap_err().field, "amount");
        }
    }

    #[test]
    fn amounts_format_with_the_currency_decimals() {
        let eur = Currency::parse("c", "eur").unwrap();
        let jpy = Currency::parse("c", "jpy").unwrap();
        assert_eq!(format_amount(1234, eur), "12.34 EUR");
        assert_eq!(format_amount(5, eur), "0.05 EUR");
        assert_eq!(format_amount(-250, eur), "-2.50 EUR");
        assert_eq!(format_amount(500, jpy), "500 JPY");
    }
}
