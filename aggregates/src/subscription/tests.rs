//! Given / when / then: subscriptions follow Stripe's events in order, once.

use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;

type SubscriptionTest = TestFramework<Subscription>;

fn at(second: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_780_000_000 + second, 0).unwrap()
}

pub(super) fn state(status: &str) -> SubscriptionState {
    SubscriptionState {
        status: status.into(),
        price: Some("price_particulier".into()),
        current_period_start: Some(1_780_000_000),
        current_period_end: Some(1_782_592_000),
        trial_end: None,
        cancel_at_period_end: false,
        plan: Some("particulier".into()),
        amount: Some(990),
        currency: Some("eur".into()),
        interval: Some("month".into()),
        interval_count: 1,
        canceled_at: None,
        ended_at: None,
    }
}

fn observed(second: i64, status: &str) -> SubscriptionCommand {
    SubscriptionCommand::RecordProviderState(ProviderObservation {
        customer_id: "cust-1".into(),
        stripe_subscription_id: "sub_1".into(),
        state: state(status),
        observed_at: at(second),
    })
}

fn fact(id: &str, kind: &str, second: i64, status: &str) -> SubscriptionCommand {
    SubscriptionCommand::ApplyStripeEvent(SubscriptionStripeFact {
        stripe_event_id: id.into(),
        event_type: kind.into(),
        created: at(second),
        customer_id: "cust-1".into(),
        stripe_subscription_id: "sub_1".into(),
        state: state(status),
    })
}

fn applied(id: &str, kind: &str, second: i64) -> SubscriptionEvent {
    SubscriptionEvent::StripeEventApplied {
        stripe_event_id: id.into(),
        event_type: kind.into(),
        created: at(second),
    }
}

fn recorded(status: &str, second: i64) -> SubscriptionEvent {
    SubscriptionEvent::SubscriptionRecorded {
        customer_id: "cust-1".into(),
        stripe_subscription_id: "sub_1".into(),
        state: state(status),
        at: at(second),
    }
}

#[test]
fn the_first_event_records_the_subscription() {
    SubscriptionTest::with(())
        .given_no_previous_events()
        .when(fact(
            "evt_c",
            "customer.subscription.created",
            10,
            "trialing",
        ))
        .then_expect_events(vec![
            applied("evt_c", "customer.subscription.created", 10),
            recorded("trialing", 10),
        ]);
}

#[test]
fn an_update_arriving_before_the_creation_creates_the_subscription() {
    SubscriptionTest::with(())
        .given_no_previous_events()
        .when(fact("evt_u", "customer.subscription.updated", 20, "active"))
        .then_expect_events(vec![
            applied("evt_u", "customer.subscription.updated", 20),
            recorded("active", 20),
        ]);
}

#[test]
fn the_late_creation_then_is_recorded_as_stale() {
    SubscriptionTest::with(())
        .given(vec![
            applied("evt_u", "customer.subscription.updated", 20),
            recorded("active", 20),
        ])
        .when(fact(
            "evt_c",
            "customer.subscription.created",
            10,
            "trialing",
        ))
        .then_expect_events(vec![SubscriptionEvent::StaleStripeEventIgnored {
            stripe_event_id: "evt_c".into(),
            event_type: "customer.subscription.created".into(),
            created: at(10),
            reason: "a newer state was already applied".into(),
        }]);
}

#[test]
fn a_newer_state_changes_the_subscription_once() {
    let change = vec![
        applied("evt_2", "customer.subscription.updated", 30),
        SubscriptionEvent::SubscriptionStateChanged {
            state: state("past_due"),
            at: at(30),
        },
    ];
    SubscriptionTest::with(())
        .given(vec![recorded("active", 20)])
        .when(fact(
            "evt_2",
            "customer.subscription.updated",
            30,
            "past_due",
        ))
        .then_expect_events(change.clone());
    let mut history = vec![recorded("active", 20)];
    history.extend(change);
    SubscriptionTest::with(())
        .given(history)
        .when(fact(
            "evt_2",
            "customer.subscription.updated",
            30,
            "past_due",
        ))
        .then_expect_events(vec![]);
}

#[test]
fn a_canceled_subscription_is_never_revived_by_an_event() {
    SubscriptionTest::with(())
        .given(vec![recorded("canceled", 50)])
        .when(fact(
            "evt_late",
            "customer.subscription.updated",
            60,
            "active",
        ))
        .then_expect_events(vec![SubscriptionEvent::StaleStripeEventIgnored {
            stripe_event_id: "evt_late".into(),
            event_type: "customer.subscription.updated".into(),
            created: at(60),
            reason: "the subscription is already canceled".into(),
        }]);
}

#[test]
fn the_providers_answer_records_a_new_subscription() {
    SubscriptionTest::with(())
        .given_no_previous_events()
        .when(observed(0, "trialing"))
        .then_expect_events(vec![SubscriptionEvent::SubscriptionRecorded {
            customer_id: "cust-1".into(),
            stripe_subscription_id: "sub_1".into(),
            state: state("trialing"),
            at: at(0),
        }]);
}

#[test]
fn an_answer_after_the_webhook_with_the_same_state_records_nothing() {
    SubscriptionTest::with(())
        .given(vec![
            applied("evt_1", "customer.subscription.created", 0),
            recorded("active", 0),
        ])
        .when(observed(1, "active"))
        .then_expect_events(vec![]);
}

#[test]
fn an_answer_older_than_the_known_state_changes_nothing() {
    SubscriptionTest::with(())
        .given(vec![recorded("active", 5)])
        .when(observed(3, "past_due"))
        .then_expect_events(vec![]);
}

#[test]
fn an_answer_never_revives_a_canceled_subscription() {
    SubscriptionTest::with(())
        .given(vec![recorded("canceled", 0)])
        .when(observed(9, "active"))
        .then_expect_events(vec![]);
}

#[test]
fn a_newer_answer_changes_the_state() {
    let mut cancelling = state("active");
    cancelling.cancel_at_period_end = true;
    SubscriptionTest::with(())
        .given(vec![recorded("active", 0)])
        .when(SubscriptionCommand::RecordProviderState(
            ProviderObservation {
                customer_id: "cust-1".into(),
                stripe_subscription_id: "sub_1".into(),
                state: cancelling.clone(),
                observed_at: at(2),
            },
        ))
        .then_expect_events(vec![SubscriptionEvent::SubscriptionStateChanged {
            state: cancelling,
            at: at(2),
        }]);
}

#[test]
fn an_answer_about_another_customer_is_refused() {
    SubscriptionTest::with(())
        .given(vec![recorded("active", 0)])
        .when(SubscriptionCommand::RecordProviderState(
            ProviderObservation {
                customer_id: "cust-2".into(),
                stripe_subscription_id: "sub_1".into(),
                state: state("active"),
                observed_at: at(2),
            },
        ))
        .then_expect_error(SubscriptionError::Mismatch);
}

#[test]
fn a_subscription_rebuilt_from_a_snapshot_and_later_events_equals_one_rebuilt_from_all_events() {
    let history = vec![
        applied("evt_c", "customer.subscription.created", 10),
        recorded("trialing", 10),
        applied("evt_u", "customer.subscription.updated", 20),
        SubscriptionEvent::SubscriptionStateChanged {
            state: state("active"),
            at: at(20),
        },
        SubscriptionEvent::StaleStripeEventIgnored {
            stripe_event_id: "evt_old".into(),
            event_type: "customer.subscription.updated".into(),
            created: at(15),
            reason: "a newer state was already applied".into(),
        },
    ];
    let subscription: Subscription =
        crate::snapshot_check::rebuilt_through_every_snapshot(&history);
    assert!(subscription.stripe_events.contains("evt_old"));
}
