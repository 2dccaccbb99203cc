//! Given / when / then: refunds are requested (reserving their amount), then settled by the
//! provider's verdict — or by the provider's event when the verdict got lost.

use super::stripe_fact_tests::applied;
use super::tests::{at, created, refunded, succeeded, PaymentTest};
use super::*;

fn request(id: &str, amount: Option<i64>) -> PaymentCommand {
    PaymentCommand::RequestRefund(RequestRefund {
        refund_id: id.into(),
        amount,
        at: at(20),
    })
}

fn requested(id: &str, amount: i64) -> PaymentEvent {
    PaymentEvent::RefundRequested {
        refund_id: id.into(),
        amount,
        at: at(20),
    }
}

fn settle(id: &str, outcome: RefundOutcome) -> PaymentCommand {
    PaymentCommand::SettleRefund(SettleRefund {
        refund_id: id.into(),
        outcome,
        at: at(20),
    })
}

fn made(provider_id: &str, amount: i64) -> RefundOutcome {
    RefundOutcome::Succeeded {
        provider_refund_id: provider_id.into(),
        amount,
    }
}

fn refund_succeeded(id: &str, provider_id: &str, amount: i64, second: i64) -> PaymentEvent {
    PaymentEvent::RefundSucceeded {
        refund_id: id.into(),
        provider_refund_id: provider_id.into(),
        amount,
        at: at(second),
    }
}

fn charge_listing(refund_id: &str, amount: i64, request_id: Option<&str>) -> PaymentCommand {
    PaymentCommand::ApplyStripeEvent(PaymentStripeFact {
        stripe_event_id: "evt_r".into(),
        event_type: "charge.refunded".into(),
        created: at(60),
        outcome: None,
        charge: Some(ChargeFact {
            charge_id: "ch_1".into(),
            amount_captured: 2_000,
            amount_refunded: amount,
            refunds: vec![ChargeRefund {
                refund_id: refund_id.into(),
                amount,
                request_id: request_id.map(str::to_owned),
            }],
        }),
    })
}

#[test]
fn a_refund_request_reserves_its_amount() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1)])
        .when(request("r1", Some(500)))
        .then_expect_events(vec![requested("r1", 500)]);
}

#[test]
fn a_request_without_an_amount_takes_all_that_remains_refundable() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1), requested("r1", 500)])
        .when(request("r2", None))
        .then_expect_events(vec![requested("r2", 1_500)]);
}

#[test]
fn pending_requests_count_against_what_may_still_be_refunded() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1), requested("r1", 1_500)])
        .when(request("r2", Some(501)))
        .then_expect_error(PaymentError::RefundExceedsCaptured { refundable: 500 });
}

#[test]
fn refunds_never_exceed_what_was_captured() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1), refunded("re_1", 1_500)])
        .when(request("r2", Some(501)))
        .then_expect_error(PaymentError::RefundExceedsCaptured { refundable: 500 });
}

#[test]
fn a_refund_of_nothing_is_refused() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1)])
        .when(request("r1", Some(0)))
        .then_expect_error(PaymentError::RefundExceedsCaptured { refundable: 2_000 });
}

#[test]
fn the_same_request_made_twice_reserves_once() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1), requested("r1", 500)])
        .when(request("r1", Some(500)))
        .then_expect_events(vec![]);
}

#[test]
fn a_payment_that_has_not_succeeded_cannot_be_refunded() {
    PaymentTest::with(())
        .given(vec![created()])
        .when(request("r1", Some(500)))
        .then_expect_error(PaymentError::NotRefundable("requires_payment_method"));
}

#[test]
fn a_fully_refunded_payment_cannot_be_refunded_again() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1), refunded("re_1", 2_000)])
        .when(request("r2", Some(1)))
        .then_expect_error(PaymentError::NotRefundable("refunded"));
}

#[test]
fn a_made_refund_releases_its_reservation_and_counts_once() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1), requested("r1", 500)])
        .when(settle("r1", made("re_1", 500)))
        .then_expect_events(vec![
            refund_succeeded("r1", "re_1", 500, 20),
            refunded("re_1", 500),
        ]);
}

#[test]
fn a_refused_refund_releases_its_reservation() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1), requested("r1", 2_000)])
        .when(settle(
            "r1",
            RefundOutcome::Failed {
                reason: "declined".into(),
            },
        ))
        .then_expect_events(vec![PaymentEvent::RefundFailed {
            refund_id: "r1".into(),
            reason: "declined".into(),
            at: at(20),
        }]);
    let mut payment = Payment::default();
    for event in [
        created(),
        succeeded(1),
        requested("r1", 2_000),
        PaymentEvent::RefundFailed {
            refund_id: "r1".into(),
            reason: "declined".into(),
            at: at(20),
        },
    ] {
        payment.apply(event);
    }
    assert_eq!(payment.refundable_amount(), 2_000);
}

#[test]
fn a_verdict_recorded_twice_records_once() {
    PaymentTest::with(())
        .given(vec![
            created(),
            succeeded(1),
            requested("r1", 500),
            refund_succeeded("r1", "re_1", 500, 20),
            refunded("re_1", 500),
        ])
        .when(settle("r1", made("re_1", 500)))
        .then_expect_events(vec![]);
}

#[test]
fn a_verdict_on_a_refund_never_requested_is_refused() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1)])
        .when(settle("r9", made("re_9", 500)))
        .then_expect_error(PaymentError::UnknownRefund);
}

#[test]
fn the_providers_event_settles_a_request_whose_answer_was_lost() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1), requested("r1", 500)])
        .when(charge_listing("re_1", 500, Some("r1")))
        .then_expect_events(vec![
            applied("evt_r", "charge.refunded", 60),
            refund_succeeded("r1", "re_1", 500, 60),
            PaymentEvent::PaymentRefunded {
                refund_id: "re_1".into(),
                amount: 500,
                at: at(60),
            },
        ]);
}

#[test]
fn a_verdict_after_the_providers_event_records_nothing_more() {
    PaymentTest::with(())
        .given(vec![
            created(),
            succeeded(1),
            requested("r1", 500),
            applied("evt_r", "charge.refunded", 60),
            refund_succeeded("r1", "re_1", 500, 60),
            refunded("re_1", 500),
        ])
        .when(settle("r1", made("re_1", 500)))
        .then_expect_events(vec![]);
}

#[test]
fn money_reconciled_before_the_verdict_is_attributed_not_counted_again() {
    PaymentTest::with(())
        .given(vec![
            created(),
            succeeded(1),
            requested("r1", 500),
            PaymentEvent::RefundReconciled {
                charge_id: "ch_1".into(),
                amount: 500,
                at: at(30),
            },
        ])
        .when(settle("r1", made("re_1", 500)))
        .then_expect_events(vec![
            refund_succeeded("r1", "re_1", 500, 20),
            PaymentEvent::RefundAttributed {
                refund_id: "re_1".into(),
                amount: 500,
            },
        ]);
}

#[test]
fn a_refund_made_elsewhere_is_counted_without_touching_pending_requests() {
    PaymentTest::with(())
        .given(vec![created(), succeeded(1), requested("r1", 500)])
        .when(charge_listing("re_dash", 300, None))
        .then_expect_events(vec![
            applied("evt_r", "charge.refunded", 60),
            PaymentEvent::PaymentRefunded {
                refund_id: "re_dash".into(),
                amount: 300,
                at: at(60),
            },
        ]);
}

#[test]
fn the_next_confirmation_attempt_follows_the_last_and_stops_at_a_final_status() {
    let mut payment = Payment::default();
    assert_eq!(
        payment.next_confirmation_attempt(),
        Err(PaymentError::NotCreated)
    );
    payment.apply(created());
    assert_eq!(payment.next_confirmation_attempt(), Ok(1));
    payment.apply(succeeded(1));
    assert_eq!(
        payment.next_confirmation_attempt(),
        Err(PaymentError::AlreadyFinal("succeeded"))
    );
}

#[test]
fn an_intent_born_at_the_provider_is_adopted_with_its_first_event_in_one_commit() {
    let fact = PaymentStripeFact {
        stripe_event_id: "evt_s".into(),
        event_type: "payment_intent.succeeded".into(),
        created: at(50),
        outcome: Some(Outcome::Succeeded {
            amount_received: 2_000,
        }),
        charge: None,
    };
    let PaymentCommand::Create(create) = super::tests::create() else {
        unreachable!("create() makes a Create command")
    };
    PaymentTest::with(())
        .given_no_previous_events()
        .when(PaymentCommand::Adopt { create, fact })
        .then_expect_events(vec![
            created(),
            applied("evt_s", "payment_intent.succeeded", 50),
            super::stripe_fact_tests::stripe_success(50),
        ]);
}
