//! The seller printed on every invoice, read with the rest of `Config`.
//!
//! With no `SELLER_*` variable at all, the built-in demo seller (complete, fictitious details)
//! issues the invoices, so a zero-configuration start works. As soon as one `SELLER_*`
//! variable is set the seller is configured, and every detail French law requires on an
//! invoice must be there: a missing or invalid one stops the start-up, naming the variable.
//!
//! | Variable | Required | Meaning |
//! |---|---|---|
//! | `SELLER_NAME` | yes | company name |
//! | `SELLER_LEGAL_FORM` | yes | `SAS`, `SARL`, `EI`… |
//! | `SELLER_CAPITAL` | no | share capital in euros (`10000` or `10000.50`) |
//! | `SELLER_SIREN` | yes | 9 digits, Luhn-checked |
//! | `SELLER_SIRET` | no | 14 digits starting with the SIREN |
//! | `SELLER_RCS` | yes | city of the trade register (`Paris`) |
//! | `SELLER_VAT_ID` | unless franchise | French VAT number, its key matching the SIREN |
//! | `SELLER_EMAIL` | yes | printed as the contact |
//! | `SELLER_ADDRESS_LINE1`, `SELLER_ADDRESS_POSTAL_CODE`, `SELLER_ADDRESS_CITY` | yes | address |
//! | `SELLER_ADDRESS_LINE2` | no | address, second line |
//! | `SELLER_ADDRESS_COUNTRY` | no (`FR`) | ISO 3166-1 alpha-2 |
//! | `SELLER_VAT_FRANCHISE` | no (`false`) | under art. 293 B du CGI: no VAT charged |
//! | `SELLER_VAT_ON_DEBITS` | no (`false`) | opted to pay VAT on debits |
//! | `SELLER_LATE_PENALTY_RATE` | yes | annual late-payment penalty rate in percent (`10.15`) |
//! | `SELLER_PAYMENT_TERMS` | no | payment terms printed under the totals |

use aggregates::customer::{parse_siren, parse_vat_number};
use invoice_documents::{Address, Money, PenaltyRate, Seller};

use super::ConfigError;

/// Every variable that configures the seller (one set: all required ones must be).
const VARIABLES: [&str; 17] = [
    "SELLER_NAME",
    "SELLER_LEGAL_FORM",
    "SELLER_CAPITAL",
    "SELLER_SIREN",
    "SELLER_SIRET",
    "SELLER_RCS",
    "SELLER_VAT_ID",
    "SELLER_EMAIL",
    "SELLER_ADDRESS_LINE1",
    "SELLER_ADDRESS_LINE2",
    "SELLER_ADDRESS_POSTAL_CODE",
    "SELLER_ADDRESS_CITY",
    "SELLER_ADDRESS_COUNTRY",
    "SELLER_VAT_FRANCHISE",
    "SELLER_VAT_ON_DEBITS",
    "SELLER_LATE_PENALTY_RATE",
    "SELLER_PAYMENT_TERMS",
];

/// Payment terms when none are configured: billstream collects by card or on the hosted page.
const DEFAULT_TERMS: &str = "Paiement à la date d'échéance / Payment by the due date";

/// The built-in demo seller: complete and fictitious (its SIREN passes the Luhn check and
/// its VAT key matches, but no such company exists).
pub fn demo_seller() -> Seller {
    Seller {
        name: "billstream demo".into(),
        legal_form: "SAS".into(),
        share_capital: Some(Money {
            amount: 1_000_000,
            currency: "EUR".into(),
        }),
        address: Address {
            line1: "1 rue de l'Exemple".into(),
            line2: None,
            postal_code: "75001".into(),
            city: "Paris".into(),
            country: "FR".into(),
        },
        siren: "123456782".into(),
        siret: Some("12345678200011".into()),
        rcs_city: "Paris".into(),
        vat_number: Some("FR11123456782".into()),
        email: "facturation@billstream.example".into(),
        vat_franchise: false,
        vat_on_debits: false,
        late_penalty_rate: PenaltyRate::BasisPoints(1_015),
        payment_terms: DEFAULT_TERMS.into(),
    }
}

/// The demo seller when no `SELLER_*` variable is set, else the configured one.
pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Seller, ConfigError> {
    if VARIABLES.iter().all(|name| get(name).is_none()) {
        return Ok(demo_seller());
    }
    let required = |variable: &'static str| {
        get(variable).ok_or(ConfigError::Missing {
            variable,
            reason: "required on every invoice once a SELLER_* variable is set",
        })
    };
    let invalid =
        |variable: &'static str, reason: String| ConfigError::Invalid { variable, reason };
    let flag = |variable: &'static str| match get(variable).as_deref() {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(_) => Err(invalid(variable, "expected true or false".into())),
    };
    let name = required("SELLER_NAME")?;
    let legal_form = required("SELLER_LEGAL_FORM")?;
    let siren = parse_siren(&required("SELLER_SIREN")?)
        .map_err(|error| invalid("SELLER_SIREN", error.message))?;
    let siret = get("SELLER_SIRET")
        .map(|siret| siret.replace(' ', ""))
        .map(|siret| {
            let ok = siret.len() == 14
                && siret.bytes().all(|b| b.is_ascii_digit())
                && siret.starts_with(&siren);
            ok.then_some(siret).ok_or_else(|| {
                invalid(
                    "SELLER_SIRET",
                    "expected 14 digits starting with the SIREN".into(),
                )
            })
        })
        .transpose()?;
    let vat_franchise = flag("SELLER_VAT_FRANCHISE")?;
    let vat_number = match get("SELLER_VAT_ID") {
        Some(vat) => Some(
            parse_vat_number(&vat, Some(&siren))
                .map_err(|error| invalid("SELLER_VAT_ID", error.message))?,
        ),
        None if vat_franchise => None,
        None => {
            return Err(ConfigError::Missing {
                variable: "SELLER_VAT_ID",
                reason: "required unless SELLER_VAT_FRANCHISE=true",
            })
        }
    };
    let country = get("SELLER_ADDRESS_COUNTRY").unwrap_or_else(|| "FR".into());
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid(
            "SELLER_ADDRESS_COUNTRY",
            "expected an ISO 3166-1 alpha-2 code such as FR".into(),
        ));
    }
    Ok(Seller {
        name,
        legal_form,
        share_capital: get("SELLER_CAPITAL")
            .map(|capital| {
                euros(&capital)
                    .map(|amount| Money {
                        amount,
                        currency: "EUR".into(),
                    })
                    .ok_or_else(|| invalid("SELLER_CAPITAL", "expected euros such as 10000".into()))
            })
            .transpose()?,
        address: Address {
            line1: required("SELLER_ADDRESS_LINE1")?,
            line2: get("SELLER_ADDRESS_LINE2"),
            postal_code: required("SELLER_ADDRESS_POSTAL_CODE")?,
            city: required("SELLER_ADDRESS_CITY")?,
            country,
        },
        siren,
        siret,
        rcs_city: required("SELLER_RCS")?,
        vat_number,
        email: required("SELLER_EMAIL")?,
        vat_franchise,
        vat_on_debits: flag("SELLER_VAT_ON_DEBITS")?,
        late_penalty_rate: PenaltyRate::BasisPoints(
            hundredths(&required("SELLER_LATE_PENALTY_RATE")?)
                .and_then(|bps| u32::try_from(bps).ok())
                .filter(|bps| (1..=10_000).contains(bps))
                .ok_or_else(|| {
                    invalid(
                        "SELLER_LATE_PENALTY_RATE",
                        "expected an annual rate in percent such as 10.15".into(),
                    )
                })?,
        ),
        payment_terms: get("SELLER_PAYMENT_TERMS").unwrap_or_else(|| DEFAULT_TERMS.into()),
    })
}

/// `12`, `12.5` or `12.50` (a comma works too) in hundredths: 1200, 1250, 1250.
fn hundredths(raw: &str) -> Option<i64> {
    let raw = raw.replace(',', ".");
    let (whole, fraction) = raw.split_once('.').unwrap_or((&raw, ""));
    if whole.is_empty() || fraction.len() > 2 {
        return None;
    }
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(fraction)
}

/// Euros (spaces allowed, `10 000`) in cents.
fn euros(raw: &str) -> Option<i64> {
    hundredths(&raw.replace(' ', ""))
}

#[cfg(test)]
#[path = "seller_tests.rs"]
mod tests;
