//! ISO 4217 currencies: minor-unit exponent and printed symbol.
//!
//! Only the facts this crate prints are kept: the exponent (how many decimals a minor unit
//! has) and, for the few currencies with an unambiguous symbol, that symbol. Every other code
//! prints as its code ("1 234,56 CHF").

use crate::DocumentError;

/// A validated currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    code: [u8; 3],
    exponent: u32,
}

/// Currencies whose minor unit is the unit itself (ISO 4217 exponent 0).
const EXPONENT_0: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
    "VUV", "XAF", "XOF", "XPF",
];

/// Currencies with three decimals (ISO 4217 exponent 3).
const EXPONENT_3: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];

/// Currencies with four decimals (ISO 4217 exponent 4).
const EXPONENT_4: &[&str] = &["CLF", "UYW"];

impl Currency {
    /// Parses an ISO 4217 alphabetic code (three upper-case ASCII letters).
    pub fn parse(code: &str) -> Result<Self, DocumentError> {
        let bytes: [u8; 3] = code
            .as_bytes()
            .try_into()
            .ok()
            .filter(|b: &[u8; 3]| b.iter().all(u8::is_ascii_uppercase))
            .ok_or_else(|| DocumentError::InvalidCurrency(code.to_owned()))?;
        let exponent = if EXPONENT_0.contains(&code) {
            0
        } else if EXPONENT_3.contains(&code) {
            3
        } else if EXPONENT_4.contains(&code) {
            4
        } else {
            2
        };
        Ok(Self {
            code: bytes,
            exponent,
        })
    }

    /// The ISO code.
    pub fn code(&self) -> &str {
        // Checked ASCII at construction.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Number of decimals of the minor unit.
    pub fn exponent(&self) -> u32 {
        self.exponent
    }

    /// The printed symbol, when the currency has an unambiguous one.
    pub fn symbol(&self) -> Option<&'static str> {
        match self.code() {
            "EUR" => Some("€"),
            "USD" => Some("$"),
            "GBP" => Some("£"),
            "JPY" => Some("¥"),
            _ => None,
        }
    }

    /// The amount as a plain decimal string with the currency's decimals (`1234.56`, `-0.05`,
    /// `1000` for JPY): the form XML invoices carry.
    pub fn decimal(&self, minor_units: i64) -> String {
        let sign = if minor_units < 0 { "-" } else { "" };
        let magnitude = minor_units.unsigned_abs();
        if self.exponent == 0 {
            return format!("{sign}{magnitude}");
        }
        let scale = 10u64.pow(self.exponent);
        format!(
            "{sign}{}.{:0width$}",
            magnitude / scale,
            magnitude % scale,
            width = self.exponent as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euro_has_two_decimals_and_a_symbol() {
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(eur.exponent(), 2);
        assert_eq!(eur.symbol(), Some("€"));
        assert_eq!(eur.decimal(123_456), "1234.56");
        assert_eq!(eur.decimal(5), "0.05");
        assert_eq!(eur.decimal(-5), "-0.05");
    }

    #[test]
    fn yen_has_no_decimals() {
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(jpy.exponent(), 0);
        assert_eq!(jpy.decimal(1000), "1000");
    }

    #[test]
    fn dinar_has_three_decimals_and_no_symbol() {
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(kwd.exponent(), 3);
        assert_eq!(kwd.symbol(), None);
        assert_eq!(kwd.decimal(1_234_567), "1234.567");
    }

    #[test]
    fn a_code_that_is_not_three_capital_letters_is_refused() {
        for bad in ["eur", "EURO", "E1R", "", "€"] {
            assert!(Currency::parse(bad).is_err(), "{bad}");
        }
    }
}
