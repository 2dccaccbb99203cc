//! Given / when / then: Stripe's events applied to a payment — once per event id, stale ones
//! recorded as stale, refunds reconciled by their list or their cumulative amount.

use serde_json::json;

use super::tests::{at, created, declined, refunded, succeeded, PaymentTest};
use super::*;

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
