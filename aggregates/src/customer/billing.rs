//! A customer's billing details: the company (for a business customer), its SIREN and VAT
//! number, and the billing address. Each field is validated here, in the domain, so the API,
//! the portal and the invoices see one definition of a valid SIREN or VAT number.

use serde::{Deserialize, Serialize};

use super::countries;
use crate::ValidationError;

/// Longest free-text field (company name, address line, city).
const MAX_TEXT: usize = 200;

/// Validated billing details, in their stored form (plain strings, normalised).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingDetails {
    /// Present for a business customer.
    pub company_name: Option<String>,
    /// 9 digits, no spaces; its Luhn key checks.
    pub siren: Option<String>,
    /// Upper case, no spaces (`FR44732829320`); a French one's key matches its SIREN.
    pub vat_number: Option<String>,
    pub address: Option<BillingAddress>,
}

/// A validated billing address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingAddress {
    pub line1: String,
    pub line2: Option<String>,
    pub postal_code: String,
    pub city: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
}

/// Billing details as the client sent them, not yet validated. Empty strings count as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawBilling {
    pub company_name: Option<String>,
    pub siren: Option<String>,
    pub vat_number: Option<String>,
    pub address: Option<RawAddress>,
}

/// A billing address as the client sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawAddress {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
}

impl BillingDetails {
    /// Validates every field; the error names the first bad one (`billing.siren`, …).
    pub fn parse(raw: &RawBilling) -> Result<Self, ValidationError> {
        let company_name = text("billing.company_name", raw.company_name.as_deref())?;
        let siren = present(raw.siren.as_deref()).map(parse_siren).transpose()?;
        let vat_number = present(raw.vat_number.as_deref())
            .map(|vat| parse_vat_number(vat, siren.as_deref()))
            .transpose()?;
        if company_name.is_none() && (siren.is_some() || vat_number.is_some()) {
            return Err(ValidationError::new(
                "billing.company_name",
                "must be given with a SIREN or VAT number",
            ));
        }
        let address = raw.address.as_ref().map(parse_address).transpose()?;
        Ok(Self {
            company_name,
            siren,
            vat_number,
            address: address.flatten(),
        })
    }

    /// Whether the details describe a business (a company name is given).
    pub fn is_business(&self) -> bool {
        self.company_name.is_some()
    }

    /// Whether nothing at all is given.
    pub fn is_empty(&self) -> bool {
        self.company_name.is_none()
            && self.siren.is_none()
            && self.vat_number.is_none()
            && self.address.is_none()
    }
}

/// The trimmed value, `None` when absent or blank.
fn present(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|value| !value.is_empty())
}

fn text(field: &str, raw: Option<&str>) -> Result<Option<String>, ValidationError> {
    let Some(value) = present(raw) else {
        return Ok(None);
    };
    if value.chars().count() > MAX_TEXT {
        return Err(ValidationError::new(
            field,
            "must be at most 200 characters",
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(Some(value.to_owned()))
}

fn required(field: &str, raw: Option<&str>) -> Result<String, ValidationError> {
    text(field, raw)?.ok_or_else(|| ValidationError::new(field, "must not be empty"))
}

/// A SIREN: 9 digits (spaces allowed) whose Luhn checksum is right.
pub fn parse_siren(raw: &str) -> Result<String, ValidationError> {
    let siren: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if siren.len() != 9 || !siren.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValidationError::new("billing.siren", "must be 9 digits"));
    }
    if !luhn_valid(&siren) {
        return Err(ValidationError::new(
            "billing.siren",
            "is not a valid SIREN (its check digit is wrong)",
        ));
    }
    Ok(siren)
}

/// The Luhn checksum over ASCII digits: from the right, every second digit doubled.
fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(index, byte)| {
            let digit = u32::from(byte - b'0');
            if index % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                digit
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The two-digit key of the French VAT number of `siren`: (12 + 3 × (SIREN mod 97)) mod 97.
pub fn french_vat_key(siren: &str) -> Option<u64> {
    let number: u64 = siren.parse().ok()?;
    Some((12 + 3 * (number % 97)) % 97)
}

/// An intra-community VAT number: a country prefix and 2 to 12 letters or digits. A French
/// one is `FR`, the key computed from the SIREN, then the SIREN (the customer's, if given).
pub fn parse_vat_number(raw: &str, siren: Option<&str>) -> Result<String, ValidationError> {
    let field = "billing.vat_number";
    let vat: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let (prefix, rest) = vat.split_at(vat.len().min(2));
    let well_formed = prefix.len() == 2
        && prefix.bytes().all(|b| b.is_ascii_uppercase())
        && (2..=12).contains(&rest.len())
        && rest.bytes().all(|b| b.is_ascii_alphanumeric());
    if !well_formed {
        return Err(ValidationError::new(
            field,
            "must be a country prefix and 2 to 12 letters or digits, such as FR44732829320",
        ));
    }
    if prefix != "FR" {
        return Ok(vat);
    }
    let (key, vat_siren) = rest.split_at(2.min(rest.len()));
    if vat_siren.len() != 9 || !vat_siren.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValidationError::new(
            field,
            "a French VAT number is FR, a 2-digit key and the 9-digit SIREN",
        ));
    }
    if key.parse::<u64>().ok() != french_vat_key(vat_siren) {
        return Err(ValidationError::new(
            field,
            "is not a valid French VAT number (its key does not match the SIREN)",
        ));
    }
    if siren.is_some_and(|siren| siren != vat_siren) {
        return Err(ValidationError::new(
            field,
            "does not belong to the SIREN given (a French VAT number contains it)",
        ));
    }
    Ok(vat)
}

/// An address with every part blank is no address; otherwise line 1, postal code, city and
/// an assigned ISO 3166-1 alpha-2 country are required.
fn parse_address(raw: &RawAddress) -> Result<Option<BillingAddress>, ValidationError> {
    let parts = [
        &raw.line1,
        &raw.line2,
        &raw.postal_code,
        &raw.city,
        &raw.country,
    ];
    if parts.iter().all(|part| present(part.as_deref()).is_none()) {
        return Ok(None);
    }
    let line1 = required("billing.address.line1", raw.line1.as_deref())?;
    let line2 = text("billing.address.line2", raw.line2.as_deref())?;
    let postal_code = required("billing.address.postal_code", raw.postal_code.as_deref())?;
    let city = required("billing.address.city", raw.city.as_deref())?;
    let country = required("billing.address.country", raw.country.as_deref())?.to_ascii_uppercase();
    if !countries::is_assigned(&country) {
        return Err(ValidationError::new(
            "billing.address.country",
            "must be an ISO 3166-1 alpha-2 country code, such as FR",
        ));
    }
    let postal_ok = if country == "FR" {
        postal_code.len() == 5 && postal_code.bytes().all(|b| b.is_ascii_digit())
    } else {
        postal_code.chars().count() <= 16
    };
    if !postal_ok {
        return Err(ValidationError::new(
            "billing.address.postal_code",
            "must be a postal code (5 digits in France)",
        ));
    }
    Ok(Some(BillingAddress {
        line1,
        line2,
        postal_code,
        city,
        country,
    }))
}

#[cfg(test)]
#[path = "billing_tests.rs"]
mod tests;
