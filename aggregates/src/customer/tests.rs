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
