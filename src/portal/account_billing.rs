//! The billing details form of `/account`: company, SIREN, VAT number and address, checked by
//! the domain's `BillingDetails::parse` (the same rules as the API). A bad value re-shows the
//! form as typed, with the message next to the field.

use aggregates::customer::{BillingDetails, RawAddress, RawBilling};
use aggregates::ValidationError;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::account::page;
use super::forms::{FieldErrors, FormData};
use super::i18n::Catalog;
use super::page::{app_error_page, redirect_with, Flash};
use super::session::SignedIn;
use crate::error::AppError;
use crate::http::AppState;

/// The form's values, as stored or as typed.
#[derive(Debug, Clone, Default)]
pub struct BillingFields {
    pub company_name: String,
    pub siren: String,
    pub vat_number: String,
    pub line1: String,
    pub line2: String,
    pub postal_code: String,
    pub city: String,
    pub country: String,
}

impl BillingFields {
    /// The stored details, or an empty form.
    pub fn from_details(details: Option<BillingDetails>) -> Self {
        let Some(details) = details else {
            return Self::default();
        };
        let address = details
            .address
            .unwrap_or_else(|| aggregates::customer::BillingAddress {
                line1: String::new(),
                line2: None,
                postal_code: String::new(),
                city: String::new(),
                country: String::new(),
            });
        Self {
            company_name: details.company_name.unwrap_or_default(),
            siren: details.siren.unwrap_or_default(),
            vat_number: details.vat_number.unwrap_or_default(),
            line1: address.line1,
            line2: address.line2.unwrap_or_default(),
            postal_code: address.postal_code,
            city: address.city,
            country: address.country,
        }
    }

    fn from_form(form: &FormData) -> Self {
        Self {
            company_name: form.get("billing_company_name"),
            siren: form.get("billing_siren"),
            vat_number: form.get("billing_vat_number"),
            line1: form.get("billing_line1"),
            line2: form.get("billing_line2"),
            postal_code: form.get("billing_postal_code"),
            city: form.get("billing_city"),
            country: form.get("billing_country"),
        }
    }

    fn raw(&self) -> RawBilling {
        let some = |value: &String| Some(value.clone());
        RawBilling {
            company_name: some(&self.company_name),
            siren: some(&self.siren),
            vat_number: some(&self.vat_number),
            address: Some(RawAddress {
                line1: some(&self.line1),
                line2: some(&self.line2),
                postal_code: some(&self.postal_code),
                city: some(&self.city),
                country: some(&self.country),
            }),
        }
    }
}

/// The form input and the message for a refused value.
fn field_error(t: &Catalog, invalid: &ValidationError) -> (&'static str, &'static str) {
    match invalid.field.as_str() {
        "billing.company_name" => ("billing_company_name", t.err_company_name),
        "billing.siren" => ("billing_siren", t.err_siren),
        "billing.vat_number" => ("billing_vat_number", t.err_vat_number),
        "billing.address.line1" => ("billing_line1", t.err_required),
        "billing.address.line2" => ("billing_line2", t.err_invalid),
        "billing.address.postal_code" if invalid.message.starts_with("must not") => {
            ("billing_postal_code", t.err_required)
        }
        "billing.address.postal_code" => ("billing_postal_code", t.err_postal_code),
        "billing.address.city" => ("billing_city", t.err_required),
        "billing.address.country" if invalid.message.starts_with("must not") => {
            ("billing_country", t.err_required)
        }
        "billing.address.country" => ("billing_country", t.err_country),
        _ => ("billing_company_name", t.err_invalid),
    }
}

/// `POST /account/billing`: every field empty removes the details.
pub async fn save_billing(
    State(state): State<AppState>,
    signed_in: SignedIn,
    body: Bytes,
) -> Response {
    let typed = BillingFields::from_form(&FormData::parse(&body));
    let details = match BillingDetails::parse(&typed.raw()) {
        Ok(details) => details,
        Err(invalid) => {
            let mut errors = FieldErrors::default();
            let (input, message) = field_error(signed_in.visitor.t, &invalid);
            errors.add(input, message);
            return match page(&state, &signed_in, errors, String::new(), Some(typed)).await {
                Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, page).into_response(),
                Err(error) => app_error_page(&signed_in.visitor, error),
            };
        }
    };
    let billing = (!details.is_empty()).then_some(details);
    let saved: Result<_, AppError> = state
        .customers
        .change_billing_details(&signed_in.customer_id, billing, None)
        .await;
    match saved {
        Ok(_) => redirect_with("/account", Flash::ProfileSaved),
        Err(error) => app_error_page(&signed_in.visitor, error),
    }
}
