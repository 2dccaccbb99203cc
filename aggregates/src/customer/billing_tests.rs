//! Billing details: SIREN Luhn keys, French VAT keys, countries, and what an empty field means.

use super::*;

fn business(siren: &str, vat: &str) -> RawBilling {
    RawBilling {
        company_name: Some("Dupont SAS".into()),
        siren: Some(siren.into()),
        vat_number: Some(vat.into()),
        address: Some(RawAddress {
            line1: Some("1 rue de la Paix".into()),
            line2: None,
            postal_code: Some("75002".into()),
            city: Some("Paris".into()),
            country: Some("fr".into()),
        }),
    }
}

#[test]
fn a_real_siren_and_its_vat_number_are_accepted_and_normalised() {
    let details = BillingDetails::parse(&business("732 829 320", "fr 44 732829320")).unwrap();
    assert_eq!(details.siren.as_deref(), Some("732829320"));
    assert_eq!(details.vat_number.as_deref(), Some("FR44732829320"));
    assert_eq!(details.address.unwrap().country, "FR");
}

#[test]
fn a_siren_whose_luhn_key_is_wrong_is_refused() {
    let error = BillingDetails::parse(&business("732829321", "FR44732829320")).unwrap_err();
    assert_eq!(error.field, "billing.siren");
}

#[test]
fn a_french_vat_number_whose_key_does_not_match_its_siren_is_refused() {
    let error = BillingDetails::parse(&business("732829320", "FR45732829320")).unwrap_err();
    assert_eq!(error.field, "billing.vat_number");
}

#[test]
fn a_french_vat_number_of_another_siren_is_refused() {
    // 552 100 554 is a valid SIREN with its own key (FR 96 552100554), not this customer's.
    assert_eq!(french_vat_key("552100554"), Some(96));
    let error = BillingDetails::parse(&business("732829320", "FR96552100554")).unwrap_err();
    assert_eq!(error.field, "billing.vat_number");
}

#[test]
fn a_foreign_vat_number_is_checked_for_shape_only() {
    let mut raw = business("732829320", "DE123456789");
    raw.siren = None;
    assert!(BillingDetails::parse(&raw).is_ok());
    raw.vat_number = Some("D1".into());
    assert_eq!(
        BillingDetails::parse(&raw).unwrap_err().field,
        "billing.vat_number"
    );
}

#[test]
fn an_unknown_country_is_refused() {
    let mut raw = business("732829320", "FR44732829320");
    raw.address.as_mut().unwrap().country = Some("UK".into());
    assert_eq!(
        BillingDetails::parse(&raw).unwrap_err().field,
        "billing.address.country"
    );
}

#[test]
fn an_address_needs_its_line_postal_code_and_city() {
    let mut raw = business("732829320", "FR44732829320");
    raw.address.as_mut().unwrap().city = Some("  ".into());
    assert_eq!(
        BillingDetails::parse(&raw).unwrap_err().field,
        "billing.address.city"
    );
}

#[test]
fn a_siren_without_a_company_name_is_refused() {
    let mut raw = business("732829320", "FR44732829320");
    raw.company_name = None;
    assert_eq!(
        BillingDetails::parse(&raw).unwrap_err().field,
        "billing.company_name"
    );
}

#[test]
fn a_private_customer_gives_an_address_only_and_blank_fields_are_absent() {
    let raw = RawBilling {
        company_name: Some(" ".into()),
        siren: Some(String::new()),
        vat_number: None,
        address: Some(RawAddress {
            line1: Some("3 place Bellecour".into()),
            line2: Some(String::new()),
            postal_code: Some("69002".into()),
            city: Some("Lyon".into()),
            country: Some("FR".into()),
        }),
    };
    let details = BillingDetails::parse(&raw).unwrap();
    assert!(!details.is_business());
    assert_eq!(details.address.unwrap().line2, None);
    assert!(BillingDetails::parse(&RawBilling::default())
        .unwrap()
        .is_empty());
}
