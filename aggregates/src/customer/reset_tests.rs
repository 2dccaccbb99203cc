//! Given / when / then: password resets (requested, used once, expired, voided by a later
//! password change) and e-mail preferences.

use super::tests::{at, hash, registered_event, CustomerTest};
use super::*;

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
