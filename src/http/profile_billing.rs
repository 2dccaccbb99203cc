//! The billing details part of `/api/auth/profile`: what a client sends (every field checked
//! by the domain's `BillingDetails::parse` before anything changes) and what it reads back.

use aggregates::customer::{BillingDetails, FieldUpdate, RawAddress, RawBilling};
use aggregates::ValidationError;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// A customer's billing details. A business gives its company name, and for a French one its
/// SIREN (Luhn-checked) and VAT number (its key must match the SIREN); anyone may give a
/// billing address. Empty strings count as absent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"company_name": "Dupont SAS", "siren": "732829320", "vat_number": "FR44732829320", "address": {"line1": "1 rue de la Paix", "line2": null, "postal_code": "75002", "city": "Paris", "country": "FR"}}))]
pub struct BillingRequest {
    #[serde(default)]
    company_name: Option<String>,
    /// 9 digits (spaces allowed).
    #[serde(default)]
    siren: Option<String>,
    /// Intra-community VAT number (`FR44732829320`).
    #[serde(default)]
    vat_number: Option<String>,
    #[serde(default)]
    address: Option<AddressRequest>,
}

/// A billing address; `country` is an ISO 3166-1 alpha-2 code.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressRequest {
    #[serde(default)]
    line1: Option<String>,
    #[serde(default)]
    line2: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    country: Option<String>,
}

impl BillingRequest {
    /// The validated details.
    pub fn parse(self) -> Result<BillingDetails, ValidationError> {
        BillingDetails::parse(&RawBilling {
            company_name: self.company_name,
            siren: self.siren,
            vat_number: self.vat_number,
            address: self.address.map(|address| RawAddress {
                line1: address.line1,
                line2: address.line2,
                postal_code: address.postal_code,
                city: address.city,
                country: address.country,
            }),
        })
    }
}

/// Absent: keep; `null`: remove; an object: replace.
pub fn billing_update<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<FieldUpdate<BillingRequest>, D::Error> {
    Ok(match Option::<BillingRequest>::deserialize(deserializer)? {
        Some(billing) => FieldUpdate::Set(billing),
        None => FieldUpdate::Clear,
    })
}

/// The billing details as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct BillingBody {
    company_name: Option<String>,
    siren: Option<String>,
    vat_number: Option<String>,
    address: Option<AddressBody>,
}

/// A billing address as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressBody {
    line1: String,
    line2: Option<String>,
    postal_code: String,
    city: String,
    country: String,
}

impl From<BillingDetails> for BillingBody {
    fn from(billing: BillingDetails) -> Self {
        Self {
            company_name: billing.company_name,
            siren: billing.siren,
            vat_number: billing.vat_number,
            address: billing.address.map(|address| AddressBody {
                line1: address.line1,
                line2: address.line2,
                postal_code: address.postal_code,
                city: address.city,
                country: address.country,
            }),
        }
    }
}
