//! Given / when / then: a customer restored from a snapshot is the customer its events make,
//! and keeps every guarantee its events gave it.

use super::tests::{at, hash, registered_event};
use super::*;
use crate::snapshot_check::{rebuilt_through_every_snapshot, restored_after};

/// A customer's life touching every field of its state.
fn history() -> Vec<CustomerEvent> {
    vec![
        registered_event(),
        CustomerEvent::ProfileUpdated {
            name: "Ada Byron".into(),
            phone: None,
            updated_at: at(60),
        },
        CustomerEvent::StripeEventApplied {
            stripe_event_id: "evt_1".into(),
            event_type: "customer.updated".into(),
            created: at(100),
        },
        CustomerEvent::ProfileUpdated {
            name: "Ada King".into(),
            phone: Some("+33 6 00 00 00 00".into()),
            updated_at: at(100),
        },
        CustomerEvent::StaleStripeEventIgnored {
            stripe_event_id: "evt_0".into(),
            event_type: "customer.updated".into(),
            created: at(50),
            reason: "the profile changed after this event was created".into(),
        },
        CustomerEvent::PasswordResetRequested {
            reset_id: "reset-1".into(),
            expires_at: at(4_000),
            requested_at: at(400),
        },
        CustomerEvent::PasswordChanged {
            password_hash: hash("second"),
            changed_at: at(500),
        },
        CustomerEvent::MailPreferencesChanged {
            language: Some(MailLanguage::En),
            receipts: false,
            changed_at: at(600),
        },
        CustomerEvent::BillingDetailsChanged {
            billing: Some(BillingDetails {
                company_name: Some("Analytical Engines".into()),
                siren: None,
                vat_number: None,
                address: None,
            }),
            changed_at: at(700),
        },
    ]
}

fn stripe_update(id: &str, second: i64, name: &str) -> CustomerCommand {
    CustomerCommand::ApplyStripeEvent(CustomerStripeFact {
        stripe_event_id: id.into(),
        event_type: "customer.updated".into(),
        created: at(second),
        change: StripeCustomerChange::Updated {
            name: Some(CustomerName::parse(name).unwrap()),
            phone: None,
        },
    })
}

#[test]
fn a_customer_rebuilt_from_a_snapshot_and_later_events_equals_one_rebuilt_from_all_events() {
    let customer = rebuilt_through_every_snapshot::<Customer>(&history());
    assert_eq!(customer.name(), Some("Ada King"));
    assert_eq!(customer.language(), Some(MailLanguage::En));
}

#[test]
fn a_stripe_event_applied_before_the_snapshot_still_acts_once() {
    let restored: Customer = restored_after(&history(), 5);
    let again = restored
        .decide(stripe_update("evt_1", 100, "Someone Else"))
        .unwrap();
    assert_eq!(again, vec![]);
    let stale_again = restored
        .decide(stripe_update("evt_0", 50, "Someone Else"))
        .unwrap();
    assert_eq!(stale_again, vec![]);
}

#[test]
fn a_password_reset_voided_before_the_snapshot_stays_void() {
    let restored: Customer = restored_after(&history(), 7);
    assert_eq!(
        restored.check_password_reset("reset-1", at(1_000)),
        Err(CustomerError::PasswordResetExpired)
    );
}
