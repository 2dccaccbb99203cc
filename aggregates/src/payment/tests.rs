//! Given / when / then: the payment's rules.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use serde_json::json;

use super::*;
use crate::money::{Amount, Currency};

pub(super) type PaymentTest = TestFramework<Payment>;

pub(super) fn at(second: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_780_000_000 + second, 0).unwrap()
}

pub(super) fn create() -> PaymentCommand {
    PaymentCommand::Create(CreatePayment {
        customer_id: "cust-1".into(),
        payment_intent_id: "pi_1".into(),
        client_secret: "pi_1_secret_x".into(),
        amount: Amount::parse("amount", 2_000).unwrap(),
        currency: Currency::parse("currency", "eur").unwrap(),
        description: Some("Order 42".into()),
        metadata: BTreeMap::from([("order".into(), "42".into())]),
        created_at: at(0),
    })
}

pub(super) fn created() -> PaymentEvent {
    PaymentEvent::PaymentCreated {
        customer_id: "cust-1".into(),
        payment_intent_id: "pi_1".into(),
        client_secret: "pi_1_secret_x".into(),
        amount: 2_000,
        currency: "eur".into(),
        description: Some("Order 42".into()),
        metadata: BTreeMap::from([("order".into(), "42".into())]),
        created_at: at(0),
    }
}

pub(super) fn outcome(attempt: Option<u32>, outcome: Outcome) -> PaymentCommand {
    PaymentCommand::RecordOutcome(RecordOutcome {
        attempt,
        outcome,
        at: at(10),
    })
}

pub(super) fn succeeded(attempt: u32) -> PaymentEvent {
    PaymentEvent::PaymentSucceeded {
        attempt: Some(attempt),
        amount_received: 2_000,
        at: at(10),
    }
}

pub(super) fn declined() -> Outcome {
    Outcome::Failed {
        code: "card_declined".into(),
        decline_code: Some("insufficient_funds".into()),
        message: "Your card has insufficient funds.".into(),
    }
}

pub(super) fn refunded(id: &str, amount: i64) -> PaymentEvent {
    PaymentEvent::PaymentRefunded {
        refund_id: id.into(),
        amount,
        at: at(20),
    }
}

#[test]
fn creating_a_payment_records_its_intent() {
    PaymentTest::with(())
        .given_no_previous_events()
        .when(create())
        .then_expect_events(vec![created()]);
}

#[test]
fn creating_the_same_payment_again_records_nothing() {
    PaymentTest::with(())
        .given(vec![created()])
        .when(create())
        .then_expect_events(vec![]);
}

#[test]
fn creating_a_different_payment_under_the_same_id_is_refused() {
    let PaymentCommand::Create(mut other) = create() else {
        unreachable!()
    };
    other.amount = Amount::parse("amount", 999).unwrap();
    PaymentTest::with(())
        .given(vec![created()])
        .when(PaymentCommand::Create(other))
        .then_expect_error(PaymentError::AlreadyCreated);
}

#[test]
fn a_successful_confirmation_records_the_captured_amount() {
    PaymentTest::with(())
        .given(vec![created()])
        .when(outcome(
            Some(1),
            Outcome::Succeeded {
                amount_received: 2_000,
            },
        ))
        .then_expect_events(vec![succeeded(1)]);
}

#[test]
fn a_decline_records_its_codes() {
    PaymentTest::with(())
        .given(vec![created()])
        .when(outcome(Some(1), declined()))
        .then_expect_events(vec![PaymentEvent::PaymentFailed {
            attempt: Some(1),
            failure_code: "card_declined".into(),
            decline_code: Some("insufficient_funds".into()),
            failure_message: "Your card has insufficient funds.".into(),
            at: at(10),
        }]);
}

#[test]
fn a_failed_payment_can_be_confirmed_again() {
    PaymentTest::with(())
        .given(vec![
            created(),
            PaymentEvent::PaymentFailed {
                attempt: Some(1),
                failure_code: "card_declined".into(),
                decline_code: None,
                failure_message: "declined".into(),
                at: at(5),
            },
        ])
        .when(outcome(
            Some(2),
            Outcome::Succeeded {
                amount_received: 2_000,
            },
        ))
        .then_expect_events(vec![succeeded(2)]);
}

#[test]
fn the_same_attempt_recorded_twice_records_once() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1)])
        .when(outcome(
            Some(1),
            Outcome::Succeeded {
                amount_received: 2_000,
            },
        ))
        .then_expect_events(vec![]);
}

#[test]
fn confirming_a_succeeded_payment_again_is_refused() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1)])
        .when(outcome(Some(2), declined()))
        .then_expect_error(PaymentError::AlreadyFinal("succeeded"));
}

#[test]
fn a_status_check_never_moves_a_final_payment_back() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1)])
        .when(outcome(None, declined()))
        .then_expect_events(vec![]);
}

#[test]
fn a_status_check_completes_an_authenticated_payment() {
    PaymentTest::with(())
        .given(vec![
            created(),
            PaymentEvent::PaymentRequiresAction {
                attempt: Some(1),
                next_action: json!({"type": "use_stripe_sdk"}),
                at: at(5),
            },
        ])
        .when(outcome(
            None,
            Outcome::Succeeded {
                amount_received: 2_000,
            },
        ))
        .then_expect_events(vec![PaymentEvent::PaymentSucceeded {
            attempt: None,
            amount_received: 2_000,
            at: at(10),
        }]);
}

#[test]
fn a_status_check_reporting_the_current_status_records_nothing() {
    PaymentTest::with(())
        .given(vec![
            created(),
            PaymentEvent::PaymentRequiresAction {
                attempt: Some(1),
                next_action: json!({"type": "use_stripe_sdk"}),
                at: at(5),
            },
        ])
        .when(outcome(
            None,
            Outcome::RequiresAction {
                next_action: json!({"type": "use_stripe_sdk"}),
            },
        ))
        .then_expect_events(vec![]);
}

#[test]
fn outcomes_for_an_unknown_payment_are_refused() {
    PaymentTest::with(())
        .given_no_previous_events()
        .when(outcome(Some(1), Outcome::Processing))
        .then_expect_error(PaymentError::NotCreated);
}
