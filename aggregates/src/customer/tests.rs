//! Given / when / then: the customer's rules, one sentence each.

use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;

type CustomerTest = TestFramework<Customer>;

fn at(second: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_780_000_000 + second, 0).unwrap()
}

fn hash(label: &str) -> PasswordHash {
    PasswordHash::new(format!("$2b$04$hash-of-{label}"))
}

fn register_command() -> CustomerCommand {
    CustomerCommand::Register(RegisterCustomer {
        email: Email::parse("  Ada@Example.COM ").unwrap(),
        name: CustomerName::parse(" Ada Lovelace ").unwrap(),
        phone: Some(Phone::parse("+33 6 12 34 56 78").unwrap()),
        password_hash: hash("first"),
        stripe_customer_id: "cus_test123".into(),
        registered_at: at(0),
    })
}

fn registered_event() -> CustomerEvent {
    CustomerEvent::CustomerRegistered {
        email: "ada@example.com".into(),
        name: "Ada Lovelace".into(),
        phone: Some("+33 6 12 34 56 78".into()),
        password_hash: hash("first"),
        stripe_customer_id: "cus_test123".into(),
        registered_at: at(0),
    }
}

fn update(name: Option<&str>, phone: FieldUpdate<Phone>) -> CustomerCommand {
    CustomerCommand::UpdateProfile(UpdateProfile {
        name: name.map(|n| CustomerName::parse(n).unwrap()),
        phone,
        updated_at: at(60),
    })
}

#[test]
fn registering_a_new_customer_records_normalised_details() {
    CustomerTest::with(())
        .given_no_previous_events()
        .when(register_command())
        .then_expect_events(vec![registered_event()]);
}

#[test]
fn registering_twice_is_refused() {
    CustomerTest::with(())
        .given(vec![registered_event()])
        .when(register_command())
        .then_expect_error(CustomerError::AlreadyRegistered);
}

#[test]
fn updating_the_name_keeps_the_phone() {
    CustomerTest::with(())
        .given(vec![registered_event()])
        .when(update(Some("Ada King"), FieldUpdate::Keep))
        .then_expect_events(vec![CustomerEvent::ProfileUpdated {
            name: "Ada King".into(),
            phone: Some("+33 6 12 34 56 78".into()),
            updated_at: at(60),
        }]);
}

#[test]
fn clearing_the_phone_keeps_the_name() {
    CustomerTest::with(())
        .given(vec![registered_event()])
        .when(update(None, FieldUpdate::Clear))
        .then_expect_events(vec![CustomerEvent::ProfileUpdated {
            name: "Ada Lovelace".into(),
            phone: None,
            updated_at: at(60),
        }]);
}

#[test]
fn an_update_that_changes_nothing_records_nothing() {
    CustomerTest::with(())
        .given(vec![registered_event()])
        .when(update(
            Some("Ada Lovelace"),
            FieldUpdate::Set(Phone::parse("+33 6 12 34 56 78").unwrap()),
        ))
        .then_expect_events(vec![]);
}

#[test]
fn updates_see_earlier_updates() {
    CustomerTest::with(())
        .given(vec![
            registered_event(),
            CustomerEvent::ProfileUpdated {
                name: "Ada King".into(),
                phone: None,
                updated_at: at(30),
            },
        ])
        .when(update(Some("Ada King"), FieldUpdate::Clear))
        .then_expect_events(vec![]);
}

#[test]
fn updating_an_unregistered_customer_is_refused() {
    CustomerTest::with(())
        .given_no_previous_events()
        .when(update(Some("Nobody"), FieldUpdate::Keep))
        .then_expect_error(CustomerError::NotRegistered);
}

#[test]
fn changing_the_password_records_the_new_hash() {
    CustomerTest::with(())
        .given(vec![registered_event()])
        .when(CustomerCommand::ChangePassword(ChangePassword {
            password_hash: hash("second"),
            changed_at: at(90),
        }))
        .then_expect_events(vec![CustomerEvent::PasswordChanged {
            password_hash: hash("second"),
            changed_at: at(90),
        }]);
}

#[test]
fn changing_the_password_of_an_unregistered_customer_is_refused() {
    CustomerTest::with(())
        .given_no_previous_events()
        .when(CustomerCommand::ChangePassword(ChangePassword {
            password_hash: hash("second"),
            changed_at: at(90),
        }))
        .then_expect_error(CustomerError::NotRegistered);
}

#[test]
fn emails_are_trimmed_and_lower_cased() {
    assert_eq!(
        Email::parse("  Ada@Example.COM\t").unwrap().as_str(),
        "ada@example.com"
    );
}

#[test]
fn malformed_emails_are_refused_naming_the_field() {
    for bad in [
        "",
        "   ",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "ada@@example.com",
        "ada@exa mple.com",
        "a..b@example.com",
        "ada@-example.com",
        "ada@example.c0m",
    ] {
        let error = Email::parse(bad).unwrap_err();
        assert_eq!(error.field, "email", "{bad:?} should be refused");
    }
}

#[test]
fn names_must_not_be_blank() {
    assert_eq!(CustomerName::parse("  ").unwrap_err().field, "name");
    assert_eq!(CustomerName::parse(" Ada ").unwrap().as_str(), "Ada");
}

#[test]
fn phones_need_six_to_fifteen_digits() {
    assert!(Phone::parse("+1 (555) 010-9999").is_ok());
    for bad in ["12345", "1234567890123456", "+33 6 abc", "06+12345678"] {
        assert_eq!(Phone::parse(bad).unwrap_err().field, "phone", "{bad:?}");
    }
}

#[test]
fn password_hashes_never_show_in_debug_output() {
    let debug = format!("{:?}", registered_event());
    assert!(!debug.contains("hash-of-first"), "{debug}");
}

#[test]
fn registered_event_payload_keeps_its_stored_shape() {
    // The event store's e-mail uniqueness trigger reads this exact JSON path.
    let payload = serde_json::to_value(registered_event()).unwrap();
    assert_eq!(payload["CustomerRegistered"]["email"], "ada@example.com");
}

fn stripe_update(id: &str, second: i64, name: &str, phone: Option<&str>) -> CustomerCommand {
    CustomerCommand::ApplyStripeEvent(CustomerStripeFact {
        stripe_event_id: id.into(),
        event_type: "customer.updated".into(),
        created: at(second),
        change: StripeCustomerChange::Updated {
            name: Some(CustomerName::parse(name).unwrap()),
            phone: phone.map(|p| Phone::parse(p).unwrap()),
        },
    })
}

#[test]
fn a_stripe_update_changes_the_profile_once() {
    let expected = vec![
        CustomerEvent::StripeEventApplied {
            stripe_event_id: "evt_1".into(),
            event_type: "customer.updated".into(),
            created: at(100),
        },
        CustomerEvent::ProfileUpdated {
            name: "Ada Byron".into(),
            phone: None,
            updated_at: at(100),
        },
    ];
    CustomerTest::with(())
        .given(vec![registered_event()])
        .when(stripe_update("evt_1", 100, "Ada Byron", None))
        .then_expect_events(expected.clone());
    let mut history = vec![registered_event()];
    history.extend(expected);
    CustomerTest::with(())
        .given(history)
        .when(stripe_update("evt_1", 100, "Ada Byron", None))
        .then_expect_events(vec![]);
}

#[test]
fn a_stripe_update_older_than_the_last_change_is_recorded_as_stale() {
    CustomerTest::with(())
        .given(vec![
            registered_event(),
            CustomerEvent::ProfileUpdated {
                name: "Ada King".into(),
                phone: None,
                updated_at: at(200),
            },
        ])
        .when(stripe_update("evt_old", 150, "Ada Lovelace", None))
        .then_expect_events(vec![CustomerEvent::StaleStripeEventIgnored {
            stripe_event_id: "evt_old".into(),
            event_type: "customer.updated".into(),
            created: at(150),
            reason: "the profile changed after this event was created".into(),
        }]);
}

#[test]
fn a_stripe_update_that_matches_the_profile_records_nothing() {
    CustomerTest::with(())
        .given(vec![registered_event()])
        .when(stripe_update(
            "evt_echo",
            100,
            "Ada Lovelace",
            Some("+33 6 12 34 56 78"),
        ))
        .then_expect_events(vec![]);
}

fn reset_requested(reset_id: &str, second: i64) -> CustomerEvent {
    CustomerEvent::PasswordResetRequested {
        reset_id: reset_id.into(),
        expires_at: at(second + 1800),
        requested_at: at(second),
    }
}

/// What a successful reset records.
fn reset_used(reset_id: &str, second: i64) -> Vec<CustomerEvent> {
    vec![
        CustomerEvent::PasswordResetCompleted {
            reset_id: reset_id.into(),
            completed_at: at(second),
        },
        CustomerEvent::PasswordChanged {
            password_hash: hash("reset"),
            changed_at: at(second),
        },
    ]
}

fn reset_password(reset_id: &str, second: i64) -> CustomerCommand {
    CustomerCommand::ResetPassword(ResetPassword {
        reset_id: reset_id.into(),
        password_hash: hash("reset"),
        now: at(second),
    })
}

#[test]
fn requesting_a_password_reset_records_only_its_nonce_and_expiry() {
    CustomerTest::with(())
        .given(vec![registered_event()])
        .when(CustomerCommand::RequestPasswordReset(
            RequestPasswordReset {
                reset_id: "r1".into(),
                expires_at: at(1900),
                requested_at: at(100),
            },
        ))
        .then_expect_events(vec![reset_requested("r1", 100)]);
}

#[test]
fn a_pending_reset_sets_the_password_and_is_used() {
    CustomerTest::with(())
        .given(vec![registered_event(), reset_requested("r1", 100)])
        .when(reset_password("r1", 200))
        .then_expect_events(reset_used("r1", 200));
}

#[test]
fn a_used_reset_is_refused_the_second_time() {
    CustomerTest::with(())
        .given(
            [
                vec![registered_event(), reset_requested("r1", 100)],
                reset_used("r1", 200),
            ]
            .concat(),
        )
        .when(reset_password("r1", 300))
        .then_expect_error(CustomerError::PasswordResetUsed);
}

#[test]
fn a_reset_past_its_expiry_is_refused() {
    CustomerTest::with(())
        .given(vec![registered_event(), reset_requested("r1", 100)])
        .when(reset_password("r1", 1900))
        .then_expect_error(CustomerError::PasswordResetExpired);
}

#[test]
fn a_password_change_after_the_request_voids_the_reset() {
    CustomerTest::with(())
        .given(vec![
            registered_event(),
            reset_requested("r1", 100),
            CustomerEvent::PasswordChanged {
                password_hash: hash("second"),
                changed_at: at(150),
            },
        ])
        .when(reset_password("r1", 200))
        .then_expect_error(CustomerError::PasswordResetExpired);
}

#[test]
fn a_reset_never_requested_is_refused() {
    CustomerTest::with(())
        .given(vec![registered_event(), reset_requested("r1", 100)])
        .when(reset_password("r2", 200))
        .then_expect_error(CustomerError::UnknownPasswordReset);
}

#[test]
fn an_unregistered_customer_cannot_request_a_reset() {
    CustomerTest::with(())
        .given_no_previous_events()
        .when(CustomerCommand::RequestPasswordReset(
            RequestPasswordReset {
                reset_id: "r1".into(),
                expires_at: at(1900),
                requested_at: at(100),
            },
        ))
        .then_expect_error(CustomerError::NotRegistered);
}

fn preferences(language: Option<MailLanguage>, receipts: Option<bool>) -> CustomerCommand {
    CustomerCommand::ChangeMailPreferences(ChangeMailPreferences {
        language,
        receipts,
        changed_at: at(400),
    })
}

#[test]
fn changing_one_mail_preference_records_both_as_they_become() {
    CustomerTest::with(())
        .given(vec![registered_event()])
        .when(preferences(None, Some(false)))
        .then_expect_events(vec![CustomerEvent::MailPreferencesChanged {
            language: None,
            receipts: false,
            changed_at: at(400),
        }]);
}

#[test]
fn mail_preferences_that_change_nothing_record_nothing() {
    CustomerTest::with(())
        .given(vec![
            registered_event(),
            CustomerEvent::MailPreferencesChanged {
                language: Some(MailLanguage::En),
                receipts: false,
                changed_at: at(300),
            },
        ])
        .when(preferences(Some(MailLanguage::En), None))
        .then_expect_events(vec![]);
}

#[test]
fn mail_languages_are_fr_or_en() {
    assert_eq!(MailLanguage::parse(" fr ").unwrap(), MailLanguage::Fr);
    assert_eq!(MailLanguage::parse("de").unwrap_err().field, "language");
    let payload = serde_json::to_value(MailLanguage::En).unwrap();
    assert_eq!(payload, "en");
}
