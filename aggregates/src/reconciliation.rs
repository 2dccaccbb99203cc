//! One reconciliation run against the payment provider: what billstream compared (the
//! provider's events created in a time window, and the provider's objects billstream holds in a
//! state that can still change), what it found missing from its webhook inbox or behind the
//! provider, and what it repaired: the events it fed into the inbox, the objects it brought to
//! the provider's state through their own aggregates. Each run is its own short stream (its id is
//! the run's id), so nothing here grows; recording a run twice — a retry after a crash between
//! the append and its answer — finds it recorded and adds nothing. The times are the caller's:
//! this file reads no clock.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

/// A provider event that never reached the webhook inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostEvent {
    /// The provider's event id (`evt_…`).
    pub stripe_event_id: String,
    /// The provider's event type (`payment_intent.succeeded`).
    pub event_type: String,
}

/// An object billstream holds whose state is behind the provider's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectDrift {
    /// What it is: `payment_intent`, `subscription` or `invoice`.
    pub object: String,
    /// billstream's id (payment, subscription, invoice).
    pub id: String,
    /// The provider's id (`pi_…`, `sub_…`, `in_…`).
    pub provider_id: String,
    /// Its status at billstream when compared.
    pub from_status: String,
    /// Its status at the provider.
    pub to_status: String,
}

/// A run's state: recorded or not yet.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reconciliation {
    recorded: bool,
}

/// The one command: record what a finished run found and did.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRun {
    /// The start of the window compared.
    pub since: DateTime<Utc>,
    /// When the provider's events were listed: the end of the window.
    pub until: DateTime<Utc>,
    /// How many events the provider listed in the window.
    pub listed: u64,
    /// The listed events the inbox did not hold.
    pub missing: Vec<LostEvent>,
    /// The missing events this run stored in the inbox (the others arrived meanwhile, by a
    /// late delivery or another run).
    pub repaired: Vec<LostEvent>,
    /// How many objects in a state that can still change were compared with the provider's.
    pub objects_checked: u64,
    /// The compared objects billstream held behind the provider.
    pub objects_differing: Vec<ObjectDrift>,
    /// The differing objects this run brought forward (the others had caught up meanwhile).
    pub objects_repaired: Vec<ObjectDrift>,
}

/// What a run found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReconciliationEvent {
    /// A run compared the provider's events of a window with the inbox.
    ReconciliationRun {
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        listed: u64,
        missing: u64,
        repaired: u64,
        /// Objects compared with the provider's (0 before event version 1.1).
        objects_checked: u64,
        /// Compared objects found behind the provider.
        objects_differing: u64,
        /// Differing objects brought forward by this run (one `ObjectRepaired` each).
        objects_repaired: u64,
    },
    /// An event the provider sent but billstream never received was fed into the inbox, which
    /// applies it as if it had been delivered.
    DriftRepaired {
        stripe_event_id: String,
        event_type: String,
    },
    /// An object behind the provider was brought to the provider's state by its own
    /// aggregate's command (the aggregate's own events say what changed).
    ObjectRepaired {
        object: String,
        id: String,
        provider_id: String,
        from_status: String,
        to_status: String,
    },
}

impl DomainEvent for ReconciliationEvent {
    fn event_type(&self) -> String {
        match self {
            Self::ReconciliationRun { .. } => "ReconciliationRun",
            Self::DriftRepaired { .. } => "DriftRepaired",
            Self::ObjectRepaired { .. } => "ObjectRepaired",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        // 1.1: `ReconciliationRun` counts the objects compared (see `versions`).
        "1.1".to_owned()
    }
}

/// A run that does not add up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReconciliationError {
    /// More events missing than listed, more objects differing than compared, or an event or
    /// object repaired that was not missing or differing.
    #[error("the run's counts do not add up")]
    Inconsistent,
    /// The window ends before it starts.
    #[error("the run's window ends before it starts")]
    EmptyWindow,
}

impl Aggregate for Reconciliation {
    const TYPE: &'static str = "Reconciliation";
    type Command = RecordRun;
    type Event = ReconciliationEvent;
    type Error = ReconciliationError;
    type Services = ();

    async fn handle(
        &mut self,
        run: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        if self.recorded {
            // Recorded already: a retry after a crash adds nothing.
            return Ok(());
        }
        if run.until < run.since {
            return Err(ReconciliationError::EmptyWindow);
        }
        let repaired_were_missing = run.repaired.iter().all(|event| run.missing.contains(event));
        let repaired_objects_differed = run
            .objects_repaired
            .iter()
            .all(|object| run.objects_differing.contains(object));
        if run.missing.len() as u64 > run.listed
            || !repaired_were_missing
            || run.objects_differing.len() as u64 > run.objects_checked
            || !repaired_objects_differed
        {
            return Err(ReconciliationError::Inconsistent);
        }
        let mut events = vec![ReconciliationEvent::ReconciliationRun {
            since: run.since,
            until: run.until,
            listed: run.listed,
            missing: run.missing.len() as u64,
            repaired: run.repaired.len() as u64,
            objects_checked: run.objects_checked,
            objects_differing: run.objects_differing.len() as u64,
            objects_repaired: run.objects_repaired.len() as u64,
        }];
        events.extend(
            run.repaired
                .into_iter()
                .map(|event| ReconciliationEvent::DriftRepaired {
                    stripe_event_id: event.stripe_event_id,
                    event_type: event.event_type,
                }),
        );
        events.extend(run.objects_repaired.into_iter().map(|object| {
            ReconciliationEvent::ObjectRepaired {
                object: object.object,
                id: object.id,
                provider_id: object.provider_id,
                from_status: object.from_status,
                to_status: object.to_status,
            }
        }));
        crate::emit(self, sink, events).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        if let ReconciliationEvent::ReconciliationRun { .. } = event {
            self.recorded = true;
        }
    }
}

#[cfg(test)]
mod tests {
    //! Given / when / then: a run is recorded once, with one repair per event it fed.

    use chrono::TimeZone;
    use cqrs_es::test::TestFramework;

    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_780_000_000 + seconds, 0).unwrap()
    }

    fn lost(id: &str) -> LostEvent {
        LostEvent {
            stripe_event_id: id.into(),
            event_type: "payment_intent.succeeded".into(),
        }
    }

    fn run(missing: Vec<LostEvent>, repaired: Vec<LostEvent>) -> RecordRun {
        RecordRun {
            since: at(0),
            until: at(60),
            listed: 5,
            missing,
            repaired,
            objects_checked: 0,
            objects_differing: vec![],
            objects_repaired: vec![],
        }
    }

    fn summary(missing: u64, repaired: u64) -> ReconciliationEvent {
        ReconciliationEvent::ReconciliationRun {
            since: at(0),
            until: at(60),
            listed: 5,
            missing,
            repaired,
            objects_checked: 0,
            objects_differing: 0,
            objects_repaired: 0,
        }
    }

    fn drift(id: &str) -> ObjectDrift {
        ObjectDrift {
            object: "payment_intent".into(),
            id: id.into(),
            provider_id: format!("pi_{id}"),
            from_status: "requires_action".into(),
            to_status: "succeeded".into(),
        }
    }

    fn object_run(
        checked: u64,
        differing: Vec<ObjectDrift>,
        repaired: Vec<ObjectDrift>,
    ) -> RecordRun {
        RecordRun {
            objects_checked: checked,
            objects_differing: differing,
            objects_repaired: repaired,
            ..run(vec![], vec![])
        }
    }

    #[test]
    fn a_run_records_its_object_counts_and_one_repair_per_object_it_brought_forward() {
        TestFramework::<Reconciliation>::with(())
            .given_no_previous_events()
            .when(object_run(
                3,
                vec![drift("p1"), drift("p2")],
                vec![drift("p1")],
            ))
            .then_expect_events(vec![
                ReconciliationEvent::ReconciliationRun {
                    since: at(0),
                    until: at(60),
                    listed: 5,
                    missing: 0,
                    repaired: 0,
                    objects_checked: 3,
                    objects_differing: 2,
                    objects_repaired: 1,
                },
                ReconciliationEvent::ObjectRepaired {
                    object: "payment_intent".into(),
                    id: "p1".into(),
                    provider_id: "pi_p1".into(),
                    from_status: "requires_action".into(),
                    to_status: "succeeded".into(),
                },
            ]);
    }

    #[test]
    fn an_object_repaired_that_did_not_differ_is_refused() {
        TestFramework::<Reconciliation>::with(())
            .given_no_previous_events()
            .when(object_run(3, vec![], vec![drift("p1")]))
            .then_expect_error(ReconciliationError::Inconsistent);
    }

    #[test]
    fn more_objects_differing_than_compared_is_refused() {
        TestFramework::<Reconciliation>::with(())
            .given_no_previous_events()
            .when(object_run(1, vec![drift("p1"), drift("p2")], vec![]))
            .then_expect_error(ReconciliationError::Inconsistent);
    }

    #[test]
    fn a_run_records_its_counts_and_one_repair_per_event_it_fed() {
        TestFramework::<Reconciliation>::with(())
            .given_no_previous_events()
            .when(run(vec![lost("evt_1"), lost("evt_2")], vec![lost("evt_1")]))
            .then_expect_events(vec![
                summary(2, 1),
                ReconciliationEvent::DriftRepaired {
                    stripe_event_id: "evt_1".into(),
                    event_type: "payment_intent.succeeded".into(),
                },
            ]);
    }

    #[test]
    fn recording_a_run_again_adds_nothing() {
        TestFramework::<Reconciliation>::with(())
            .given(vec![summary(0, 0)])
            .when(run(vec![], vec![]))
            .then_expect_events(vec![]);
    }

    #[test]
    fn a_repair_of_an_event_that_was_not_missing_is_refused() {
        TestFramework::<Reconciliation>::with(())
            .given_no_previous_events()
            .when(run(vec![], vec![lost("evt_1")]))
            .then_expect_error(ReconciliationError::Inconsistent);
    }

    #[test]
    fn a_window_that_ends_before_it_starts_is_refused() {
        let mut backwards = run(vec![], vec![]);
        backwards.until = at(-1);
        TestFramework::<Reconciliation>::with(())
            .given_no_previous_events()
            .when(backwards)
            .then_expect_error(ReconciliationError::EmptyWindow);
    }
}
