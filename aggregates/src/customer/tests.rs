//! Given / when / then: the customer's rules, one sentence each.

use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;

pub(super) type CustomerTest = TestFramework<Customer>;

pub(super) fn at(second: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_780_000_000 + second, 0).unwrap()
}

pub(super) fn hash(label: &str) -> PasswordHash {
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

pub(super) fn registered_event() -> CustomerEvent {
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

fn sign_out(token: &str) -> CustomerCommand {
    CustomerCommand::SignOut(SignOut {
        token_id: token.into(),
        expires_at: at(3_600),
        at: at(120),
    })
}

#[test]
fn signing_out_records_the_token_that_ended() {
    CustomerTest::with(())
        .given(vec![registered_event()])
        .when(sign_out("jti-1"))
        .then_expect_events(vec![CustomerEvent::SignedOut {
            token_id: "jti-1".into(),
            expires_at: at(3_600),
            signed_out_at: at(120),
        }]);
}

#[test]
fn signing_out_of_an_account_never_opened_is_refused() {
    CustomerTest::with(())
        .given_no_previous_events()
        .when(sign_out("jti-1"))
        .then_expect_error(CustomerError::NotRegistered);
}
