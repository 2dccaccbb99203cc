//! Customers' billing details through `PATCH /api/auth/profile`: validated (SIREN Luhn key,
//! French VAT key, ISO countries) before anything changes, recorded, and shown in the profile.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, TestApp};

fn business() -> Value {
    json!({
        "company_name": "Dupont & Fils SARL",
        "siren": "732 829 320",
        "vat_number": "fr44732829320",
        "address": {
            "line1": "5 avenue des Champs-Élysées",
            "line2": null,
            "postal_code": "75008",
            "city": "Paris",
            "country": "fr"
        }
    })
}

async fn customer(app: &TestApp) -> String {
    app.register("billing@example.com", "correct horse", "Claire Dubois")
        .await["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn valid_billing_details_are_normalised_recorded_and_shown_in_the_profile() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let response = app
        .patch_json("/api/auth/profile", &json!({"billing": business()}), &token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let profile = app.get_json("/api/auth/profile", Some(&token)).await;
    assert_eq!(profile["billing"]["siren"], "732829320");
    assert_eq!(profile["billing"]["vat_number"], "FR44732829320");
    assert_eq!(profile["billing"]["address"]["country"], "FR");
    assert_eq!(profile["billing"]["company_name"], "Dupont & Fils SARL");
    // Sending the same details again records nothing more.
    let events = app.event_count().await;
    app.patch_json("/api/auth/profile", &json!({"billing": business()}), &token)
        .await;
    assert_eq!(app.event_count().await, events);
    // `null` removes them.
    let response = app
        .patch_json("/api/auth/profile", &json!({"billing": null}), &token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let profile = app.get_json("/api/auth/profile", Some(&token)).await;
    assert_eq!(profile["billing"], Value::Null);
}

#[tokio::test]
async fn bad_billing_details_are_refused_naming_the_field_and_nothing_changes() {
    let app = spawn_app().await;
    let token = customer(&app).await;
    let bad = [
        ("siren", json!("732829321"), "billing.siren"),
        ("vat_number", json!("FR45732829320"), "billing.vat_number"),
        ("vat_number", json!("FR96552100554"), "billing.vat_number"),
    ];
    for (field, value, named) in bad {
        let mut billing = business();
        billing[field] = value;
        let body = assert_error(
            app.patch_json(
                "/api/auth/profile",
                &json!({"name": "Someone Else", "billing": billing}),
                &token,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
        )
        .await;
        assert_eq!(body["error"]["field"], named, "{body}");
    }
    let mut billing = business();
    billing["address"]["country"] = json!("UK");
    let body = assert_error(
        app.patch_json("/api/auth/profile", &json!({"billing": billing}), &token)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_error",
    )
    .await;
    assert_eq!(body["error"]["field"], "billing.address.country");
    // An unknown field is refused like everywhere else.
    let mut billing = business();
    billing["iban"] = json!("FR76");
    assert_error(
        app.patch_json("/api/auth/profile", &json!({"billing": billing}), &token)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_error",
    )
    .await;
    let profile = app.get_json("/api/auth/profile", Some(&token)).await;
    assert_eq!(profile["name"], "Claire Dubois");
    assert_eq!(profile["billing"], Value::Null);
}
