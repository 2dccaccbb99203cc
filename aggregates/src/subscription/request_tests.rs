//! Given / when / then: billstream's own requests claim a plan before the provider is asked,
//! and release it when the provider refuses or the subscription ends.

use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;

use super::*;

type SubscriptionTest = TestFramework<Subscription>;

fn at(second: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_780_000_000 + second, 0).unwrap()
}

fn request(plan: &str) -> SubscriptionCommand {
    SubscriptionCommand::Request(RequestSubscription {
        customer_id: "cust-1".into(),
        plan: plan.into(),
        trial_days: 14,
        at: at(0),
    })
}

fn requested(plan: &str) -> SubscriptionEvent {
    SubscriptionEvent::SubscriptionRequested {
        customer_id: "cust-1".into(),
        plan: plan.into(),
        trial_days: 14,
        at: at(0),
    }
}

fn state(status: &str, plan: &str) -> SubscriptionState {
    SubscriptionState {
        status: status.into(),
        price: Some(format!("price_{plan}")),
        current_period_start: None,
        current_period_end: None,
        trial_end: None,
        cancel_at_period_end: false,
        plan: Some(plan.into()),
        amount: Some(990),
        currency: Some("eur".into()),
        interval: Some("month".into()),
        interval_count: 1,
        canceled_at: None,
        ended_at: None,
    }
}

fn recorded(status: &str, plan: &str) -> SubscriptionEvent {
    SubscriptionEvent::SubscriptionRecorded {
        customer_id: "cust-1".into(),
        stripe_subscription_id: "sub_1".into(),
        state: state(status, plan),
        at: at(1),
    }
}

fn observed(second: i64, status: &str, plan: &str) -> SubscriptionCommand {
    SubscriptionCommand::RecordProviderState(ProviderObservation {
        customer_id: "cust-1".into(),
        stripe_subscription_id: "sub_1".into(),
        state: state(status, plan),
        observed_at: at(second),
    })
}

fn history(events: Vec<SubscriptionEvent>) -> Subscription {
    let mut subscription = Subscription::default();
    for event in events {
        subscription.apply(event);
    }
    subscription
}

#[test]
fn a_request_claims_its_plan_before_the_provider_is_asked() {
    SubscriptionTest::with(())
        .given_no_previous_events()
        .when(request("particulier"))
        .then_expect_events(vec![requested("particulier")]);
    assert!(history(vec![requested("particulier")]).is_live());
}

#[test]
fn the_same_request_again_asks_nothing_new() {
    SubscriptionTest::with(())
        .given(vec![requested("particulier")])
        .when(request("particulier"))
        .then_expect_events(vec![]);
}

#[test]
fn another_request_under_the_same_id_is_refused() {
    SubscriptionTest::with(())
        .given(vec![requested("particulier")])
        .when(request("professionnel"))
        .then_expect_error(SubscriptionError::AlreadyRequested);
}

#[test]
fn a_refused_request_releases_its_plan() {
    let failed = SubscriptionEvent::SubscriptionRequestFailed {
        reason: "card declined".into(),
        at: at(1),
    };
    SubscriptionTest::with(())
        .given(vec![requested("particulier")])
        .when(SubscriptionCommand::FailRequest {
            reason: "card declined".into(),
            at: at(1),
        })
        .then_expect_events(vec![failed.clone()]);
    assert!(!history(vec![requested("particulier"), failed]).is_live());
}

#[test]
fn a_request_answered_meanwhile_is_not_failed() {
    SubscriptionTest::with(())
        .given(vec![
            requested("particulier"),
            recorded("trialing", "particulier"),
        ])
        .when(SubscriptionCommand::FailRequest {
            reason: "timeout".into(),
            at: at(2),
        })
        .then_expect_events(vec![]);
}

#[test]
fn a_cancellation_ends_the_subscription_and_frees_its_plan() {
    SubscriptionTest::with(())
        .given(vec![
            requested("particulier"),
            recorded("active", "particulier"),
        ])
        .when(observed(5, "canceled", "particulier"))
        .then_expect_events(vec![
            SubscriptionEvent::SubscriptionStateChanged {
                state: state("canceled", "particulier"),
                at: at(5),
            },
            SubscriptionEvent::SubscriptionEnded { at: at(5) },
        ]);
}

#[test]
fn a_change_of_plan_moves_the_claim_and_a_refusal_moves_it_back() {
    let change = SubscriptionEvent::PlanChangeRequested {
        from: Some("particulier".into()),
        to: "professionnel".into(),
        at: at(3),
    };
    SubscriptionTest::with(())
        .given(vec![
            requested("particulier"),
            recorded("active", "particulier"),
        ])
        .when(SubscriptionCommand::RequestPlanChange {
            plan: "professionnel".into(),
            at: at(3),
        })
        .then_expect_events(vec![change.clone()]);
    SubscriptionTest::with(())
        .given(vec![
            requested("particulier"),
            recorded("active", "particulier"),
            change,
        ])
        .when(SubscriptionCommand::FailPlanChange {
            reason: "declined".into(),
            at: at(4),
        })
        .then_expect_events(vec![SubscriptionEvent::PlanChangeFailed {
            back_to: Some("particulier".into()),
            reason: "declined".into(),
            at: at(4),
        }]);
}

#[test]
fn an_ended_subscription_cannot_change_plan() {
    SubscriptionTest::with(())
        .given(vec![
            recorded("canceled", "particulier"),
            SubscriptionEvent::SubscriptionEnded { at: at(1) },
        ])
        .when(SubscriptionCommand::RequestPlanChange {
            plan: "professionnel".into(),
            at: at(3),
        })
        .then_expect_error(SubscriptionError::NotLive);
}

#[test]
fn an_unanswered_request_is_known_until_the_provider_answers() {
    let pending = history(vec![requested("particulier")]);
    assert_eq!(
        pending.unanswered_request(),
        Some(("particulier", 14, at(0)))
    );
    let answered = history(vec![
        requested("particulier"),
        recorded("trialing", "particulier"),
    ]);
    assert_eq!(answered.unanswered_request(), None);
}

#[test]
fn only_stripes_end_states_are_not_live() {
    assert!(SubscriptionStatus::parse("past_due").unwrap().is_live());
    assert!(!SubscriptionStatus::parse("incomplete_expired")
        .unwrap()
        .is_live());
    assert!(!is_terminal_status("something_new"));
}
