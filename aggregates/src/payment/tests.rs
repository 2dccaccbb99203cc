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

pub(super) fn stripe(
    id: &str,
    event_type: &str,
    second: i64,
    outcome: Option<Outcome>,
) -> PaymentCommand {
    PaymentCommand::ApplyStripeEvent(PaymentStripeFact {
        stripe_event_id: id.into(),
        event_type: event_type.into(),
        created: at(second),
        outcome,
        charge: None,
    })
}

pub(super) fn charge_event(
    id: &str,
    second: i64,
    captured: i64,
    refunded: i64,
    refunds: &[(&str, i64)],
) -> PaymentCommand {
    PaymentCommand::ApplyStripeEvent(PaymentStripeFact {
        stripe_event_id: id.into(),
        event_type: "charge.refunded".into(),
        created: at(second),
        outcome: None,
        charge: Some(ChargeFact {
            charge_id: "ch_1".into(),
            amount_captured: captured,
            amount_refunded: refunded,
            refunds: refunds
                .iter()
                .map(|(id, amount)| ChargeRefund {
                    refund_id: (*id).to_owned(),
                    amount: *amount,
                    request_id: None,
                })
                .collect(),
        }),
    })
}

pub(super) fn applied(id: &str, event_type: &str, second: i64) -> PaymentEvent {
    PaymentEvent::StripeEventApplied {
        stripe_event_id: id.into(),
        event_type: event_type.into(),
        created: at(second),
    }
}

pub(super) fn stripe_success(second: i64) -> PaymentEvent {
    PaymentEvent::PaymentSucceeded {
        attempt: None,
        amount_received: 2_000,
        at: at(second),
    }
}

#[test]
fn a_stripe_success_for_a_pending_payment_is_applied() {
    PaymentTest::with(())
        .given(vec![created()])
        .when(stripe(
            "evt_1",
            "payment_intent.succeeded",
            30,
            Some(Outcome::Succeeded {
                amount_received: 2_000,
            }),
        ))
        .then_expect_events(vec![
            applied("evt_1", "payment_intent.succeeded", 30),
            stripe_success(30),
        ]);
}

#[test]
fn a_stripe_event_applied_once_is_not_applied_again() {
    PaymentTest::with(())
        .given(vec![
            created(),
            applied("evt_1", "payment_intent.succeeded", 30),
            stripe_success(30),
        ])
        .when(stripe(
            "evt_1",
            "payment_intent.succeeded",
            30,
            Some(Outcome::Succeeded {
                amount_received: 2_000,
            }),
        ))
        .then_expect_events(vec![]);
}

#[test]
fn a_failure_created_before_an_applied_success_is_recorded_as_stale() {
    PaymentTest::with(())
        .given(vec![
            created(),
            applied("evt_s", "payment_intent.succeeded", 30),
            stripe_success(30),
        ])
        .when(stripe(
            "evt_f",
            "payment_intent.payment_failed",
            20,
            Some(declined()),
        ))
        .then_expect_events(vec![PaymentEvent::StaleStripeEventIgnored {
            stripe_event_id: "evt_f".into(),
            event_type: "payment_intent.payment_failed".into(),
            created: at(20),
            reason: "the payment is already succeeded".into(),
        }]);
}

#[test]
fn a_stale_event_delivered_again_records_nothing() {
    PaymentTest::with(())
        .given(vec![
            created(),
            stripe_success(30),
            PaymentEvent::StaleStripeEventIgnored {
                stripe_event_id: "evt_f".into(),
                event_type: "payment_intent.payment_failed".into(),
                created: at(20),
                reason: "the payment is already succeeded".into(),
            },
        ])
        .when(stripe(
            "evt_f",
            "payment_intent.payment_failed",
            20,
            Some(declined()),
        ))
        .then_expect_events(vec![]);
}

#[test]
fn an_older_requires_action_does_not_undo_a_newer_failure() {
    PaymentTest::with(())
        .given(vec![
            created(),
            PaymentEvent::PaymentFailed {
                attempt: None,
                failure_code: "payment_intent_authentication_failure".into(),
                decline_code: None,
                failure_message: "failed".into(),
                at: at(40),
            },
        ])
        .when(stripe(
            "evt_ra",
            "payment_intent.requires_action",
            35,
            Some(Outcome::RequiresAction {
                next_action: json!({"type": "use_stripe_sdk"}),
            }),
        ))
        .then_expect_events(vec![PaymentEvent::StaleStripeEventIgnored {
            stripe_event_id: "evt_ra".into(),
            event_type: "payment_intent.requires_action".into(),
            created: at(35),
            reason: "it says requires_action but a newer event already made the payment failed"
                .into(),
        }]);
}

#[test]
fn a_newer_success_after_a_failure_is_a_real_transition() {
    PaymentTest::with(())
        .given(vec![
            created(),
            PaymentEvent::PaymentFailed {
                attempt: Some(1),
                failure_code: "card_declined".into(),
                decline_code: None,
                failure_message: "declined".into(),
                at: at(10),
            },
        ])
        .when(stripe(
            "evt_s",
            "payment_intent.succeeded",
            50,
            Some(Outcome::Succeeded {
                amount_received: 2_000,
            }),
        ))
        .then_expect_events(vec![
            applied("evt_s", "payment_intent.succeeded", 50),
            stripe_success(50),
        ]);
}

#[test]
fn a_refund_event_moves_a_succeeded_payment_on() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1)])
        .when(charge_event("evt_r", 60, 2_000, 2_000, &[("re_1", 2_000)]))
        .then_expect_events(vec![
            applied("evt_r", "charge.refunded", 60),
            PaymentEvent::PaymentRefunded {
                refund_id: "re_1".into(),
                amount: 2_000,
                at: at(60),
            },
        ]);
}

#[test]
fn a_refund_arriving_before_the_success_records_the_capture_first() {
    PaymentTest::with(())
        .given(vec![created()])
        .when(charge_event("evt_r", 60, 2_000, 500, &[("re_1", 500)]))
        .then_expect_events(vec![
            applied("evt_r", "charge.refunded", 60),
            stripe_success(60),
            PaymentEvent::PaymentRefunded {
                refund_id: "re_1".into(),
                amount: 500,
                at: at(60),
            },
        ]);
}

#[test]
fn a_refund_already_recorded_by_the_api_is_not_counted_twice() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1), refunded("re_1", 500)])
        .when(charge_event("evt_r", 60, 2_000, 500, &[("re_1", 500)]))
        .then_expect_events(vec![]);
}

#[test]
fn a_refund_without_a_list_is_reconciled_by_the_cumulative_amount() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1), refunded("re_1", 500)])
        .when(charge_event("evt_r", 60, 2_000, 800, &[]))
        .then_expect_events(vec![
            applied("evt_r", "charge.refunded", 60),
            PaymentEvent::RefundReconciled {
                charge_id: "ch_1".into(),
                amount: 300,
                at: at(60),
            },
        ]);
}
