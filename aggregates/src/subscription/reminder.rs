//! The trial reminder: a trialing subscription whose trial ends within three days records
//! `TrialEndingSoon` once for that trial end. The application asks with its clock's `now`; a
//! second ask (a restart, another process) finds the reminder recorded and adds nothing.

use chrono::{DateTime, TimeZone, Utc};

use super::{Subscription, SubscriptionError, SubscriptionEvent};

/// How long before the trial ends the customer is told: three days.
pub const TRIAL_REMINDER_SECONDS: i64 = 3 * 86_400;

impl Subscription {
    pub(super) fn decide_trial_reminder(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<SubscriptionEvent>, SubscriptionError> {
        let (Some(recorded), false) = (&self.recorded, self.ended) else {
            return Err(SubscriptionError::TrialNotEndingSoon);
        };
        let state = &recorded.state;
        let Some(trial_end) = state.trial_end.filter(|_| state.status == "trialing") else {
            return Err(SubscriptionError::TrialNotEndingSoon);
        };
        let left = trial_end - now.timestamp();
        if !(0..=TRIAL_REMINDER_SECONDS).contains(&left) {
            return Err(SubscriptionError::TrialNotEndingSoon);
        }
        if self.trial_reminded == Some(trial_end) {
            // Already told: asking again (a restart, a second process) is not an error.
            return Ok(vec![]);
        }
        let trial_end = Utc
            .timestamp_opt(trial_end, 0)
            .single()
            .ok_or(SubscriptionError::TrialNotEndingSoon)?;
        Ok(vec![SubscriptionEvent::TrialEndingSoon {
            customer_id: recorded.customer_id.clone(),
            trial_end,
            at: now,
        }])
    }
}

#[cfg(test)]
mod tests {
    //! Given / when / then: one reminder per trial end, only in the last three days.

    use cqrs_es::test::TestFramework;

    use super::super::{SubscriptionCommand, SubscriptionState};
    use super::*;

    type SubscriptionTest = TestFramework<Subscription>;

    const TRIAL_END: i64 = 1_780_000_000;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(seconds, 0).unwrap()
    }

    fn trialing(trial_end: i64) -> SubscriptionState {
        SubscriptionState {
            trial_end: Some(trial_end),
            ..super::super::tests::state("trialing")
        }
    }

    fn recorded(state: SubscriptionState) -> SubscriptionEvent {
        SubscriptionEvent::SubscriptionRecorded {
            customer_id: "cust-1".into(),
            stripe_subscription_id: "sub_1".into(),
            state,
            at: at(TRIAL_END - 14 * 86_400),
        }
    }

    fn remind(now: i64) -> SubscriptionCommand {
        SubscriptionCommand::RemindTrialEnding { now: at(now) }
    }

    fn reminded(trial_end: i64, now: i64) -> SubscriptionEvent {
        SubscriptionEvent::TrialEndingSoon {
            customer_id: "cust-1".into(),
            trial_end: at(trial_end),
            at: at(now),
        }
    }

    #[test]
    fn a_trial_ending_within_three_days_records_the_reminder() {
        let now = TRIAL_END - 2 * 86_400;
        SubscriptionTest::with(())
            .given(vec![recorded(trialing(TRIAL_END))])
            .when(remind(now))
            .then_expect_events(vec![reminded(TRIAL_END, now)]);
    }

    #[test]
    fn a_second_reminder_for_the_same_trial_adds_nothing() {
        let now = TRIAL_END - 86_400;
        SubscriptionTest::with(())
            .given(vec![
                recorded(trialing(TRIAL_END)),
                reminded(TRIAL_END, now - 3_600),
            ])
            .when(remind(now))
            .then_expect_events(vec![]);
    }

    #[test]
    fn a_trial_moved_to_a_later_end_gets_its_own_reminder() {
        let later = TRIAL_END + 7 * 86_400;
        let now = later - 86_400;
        SubscriptionTest::with(())
            .given(vec![
                recorded(trialing(TRIAL_END)),
                reminded(TRIAL_END, TRIAL_END - 86_400),
                SubscriptionEvent::SubscriptionStateChanged {
                    state: trialing(later),
                    at: at(TRIAL_END - 3_600),
                },
            ])
            .when(remind(now))
            .then_expect_events(vec![reminded(later, now)]);
    }

    #[test]
    fn a_reminder_too_early_is_refused() {
        SubscriptionTest::with(())
            .given(vec![recorded(trialing(TRIAL_END))])
            .when(remind(TRIAL_END - TRIAL_REMINDER_SECONDS - 1))
            .then_expect_error(SubscriptionError::TrialNotEndingSoon);
    }

    #[test]
    fn a_subscription_that_is_not_trialing_gets_no_reminder() {
        let mut active = trialing(TRIAL_END);
        active.status = "active".into();
        SubscriptionTest::with(())
            .given(vec![recorded(active)])
            .when(remind(TRIAL_END - 86_400))
            .then_expect_error(SubscriptionError::TrialNotEndingSoon);
    }

    #[test]
    fn a_trial_already_over_gets_no_reminder() {
        SubscriptionTest::with(())
            .given(vec![recorded(trialing(TRIAL_END))])
            .when(remind(TRIAL_END + 1))
            .then_expect_error(SubscriptionError::TrialNotEndingSoon);
    }
}
