//! The seller's configuration: the demo seller without variables, every required detail
//! named when missing, identifiers checked.

use std::collections::HashMap;

use super::*;

fn seller_from(vars: &[(&str, &str)]) -> Result<Seller, ConfigError> {
    let vars: HashMap<&str, &str> = vars.iter().copied().collect();
    from_lookup(&|name| vars.get(name).map(|value| (*value).to_owned()))
}

const COMPLETE: [(&str, &str); 10] = [
    ("SELLER_NAME", "Atelier Dupont"),
    ("SELLER_LEGAL_FORM", "SARL"),
    ("SELLER_SIREN", "732 829 320"),
    ("SELLER_RCS", "Lyon"),
    ("SELLER_VAT_ID", "FR44732829320"),
    ("SELLER_EMAIL", "compta@dupont.example"),
    ("SELLER_ADDRESS_LINE1", "3 place Bellecour"),
    ("SELLER_ADDRESS_POSTAL_CODE", "69002"),
    ("SELLER_ADDRESS_CITY", "Lyon"),
    ("SELLER_LATE_PENALTY_RATE", "12,5"),
];

#[test]
fn without_any_variable_the_demo_seller_issues_the_invoices() {
    assert_eq!(seller_from(&[]).unwrap(), demo_seller());
    assert!(parse_siren(&demo_seller().siren).is_ok());
    let demo = demo_seller();
    assert!(parse_vat_number(demo.vat_number.as_deref().unwrap(), Some(&demo.siren)).is_ok());
}

#[test]
fn a_complete_seller_is_read_with_its_rate_and_capital() {
    let mut vars = COMPLETE.to_vec();
    vars.push(("SELLER_CAPITAL", "7 500"));
    let seller = seller_from(&vars).unwrap();
    assert_eq!(seller.siren, "732829320");
    assert_eq!(seller.late_penalty_rate, PenaltyRate::BasisPoints(1_250));
    assert_eq!(seller.share_capital.unwrap().amount, 750_000);
    assert_eq!(seller.address.country, "FR");
}

#[test]
fn each_missing_required_detail_is_named() {
    for (missing, _) in COMPLETE {
        let vars: Vec<_> = COMPLETE
            .iter()
            .copied()
            .filter(|(n, _)| *n != missing)
            .collect();
        let error = seller_from(&vars).unwrap_err();
        assert!(
            matches!(&error, ConfigError::Missing { variable, .. } if *variable == missing),
            "{missing}: {error}"
        );
        assert!(error.to_string().contains(missing), "{error}");
    }
}

#[test]
fn a_seller_under_the_franchise_needs_no_vat_number() {
    let mut vars: Vec<_> = COMPLETE
        .iter()
        .copied()
        .filter(|(n, _)| *n != "SELLER_VAT_ID")
        .collect();
    vars.push(("SELLER_VAT_FRANCHISE", "true"));
    let seller = seller_from(&vars).unwrap();
    assert!(seller.vat_franchise);
    assert_eq!(seller.vat_number, None);
}

#[test]
fn bad_identifiers_are_refused_naming_their_variable() {
    for (variable, value) in [
        ("SELLER_SIREN", "732829321"),
        ("SELLER_VAT_ID", "FR45732829320"),
        ("SELLER_SIRET", "12345678200011"),
        ("SELLER_LATE_PENALTY_RATE", "ten"),
        ("SELLER_CAPITAL", "-5"),
        ("SELLER_VAT_FRANCHISE", "maybe"),
    ] {
        let mut vars: Vec<_> = COMPLETE
            .iter()
            .copied()
            .filter(|(n, _)| *n != variable)
            .collect();
        vars.push((variable, value));
        let error = seller_from(&vars).unwrap_err();
        assert!(
            matches!(&error, ConfigError::Invalid { variable: v, .. } if *v == variable),
            "{variable}: {error}"
        );
    }
}
