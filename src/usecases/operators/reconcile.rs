//! Repair from the provider: lists the events the provider created in a window (Stripe keeps
//! 30 days), finds those the webhook inbox never received — a delivery lost during an outage,
//! acknowledged by a proxy that dropped it, refused while a secret was being rotated — and
//! stores them in the inbox as if they had just been delivered. The inbox's worker then
//! applies them as usual; the inbox's unique Stripe event id makes this exactly once, whoever
//! stores an event first (the late delivery, another run, this one). Each run is recorded in
//! the log (`ReconciliationRun`, then one `DriftRepaired` per event it fed); a dry run only
//! reports, and changes nothing: neither the inbox nor the log. With an object pass
//! (`reconcile_objects`), a run also compares the objects billstream holds in a state that can
//! still change with the provider's, and records one `ObjectRepaired` per object it brought
//! forward.

use std::collections::HashSet;
use std::sync::Arc;

use aggregates::reconciliation::{LostEvent, Reconciliation, RecordRun};
use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use super::reconcile_objects::{ObjectPass, ObjectReport};
use crate::error::AppError;
use crate::inbox::{Inbox, Stored};
use crate::provider::{ListedEvent, PaymentProvider};
use crate::store::Cqrs;
use crate::usecases::common::execute_with_retry;

/// What a run found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileReport {
    /// The run's id in the log (`None` for a dry run, which records nothing).
    pub run_id: Option<String>,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Events the provider listed in the window.
    pub listed: usize,
    /// Listed events the inbox did not hold, oldest first.
    pub missing: Vec<LostEvent>,
    /// Missing events this run stored in the inbox (none in a dry run).
    pub repaired: Vec<LostEvent>,
    /// The object pass: what it compared, found behind and repaired (empty without one).
    pub objects: ObjectReport,
    pub dry_run: bool,
}

/// Compares the provider's events with the inbox and feeds the inbox what it lacks.
pub struct Reconciler {
    provider: Arc<dyn PaymentProvider>,
    inbox: Inbox,
    runs: Arc<Cqrs<Reconciliation>>,
    /// Wakes the inbox worker of this process, when there is one (the server's).
    wake: Option<Arc<Notify>>,
    /// Compares the objects themselves, when set.
    objects: Option<ObjectPass>,
}

impl Reconciler {
    pub fn new(
        provider: Arc<dyn PaymentProvider>,
        inbox: Inbox,
        runs: Arc<Cqrs<Reconciliation>>,
        wake: Option<Arc<Notify>>,
    ) -> Self {
        Self {
            provider,
            inbox,
            runs,
            wake,
            objects: None,
        }
    }

    /// Also compares billstream's changeable objects with the provider's on every run.
    pub fn with_objects(mut self, objects: ObjectPass) -> Self {
        self.objects = Some(objects);
        self
    }

    /// Reconciles the events created from `since` until now; `dry_run` only reports.
    pub async fn run(
        &self,
        since: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<ReconcileReport, AppError> {
        let until = Utc::now();
        let listed = self.provider.list_events(since.timestamp()).await?;
        let ids: Vec<&str> = listed.iter().map(|e| e.envelope.id.as_str()).collect();
        let known = self.inbox.known(&ids).await?;
        let missing: Vec<&ListedEvent> = listed
            .iter()
            .filter(|event| !known.contains(&event.envelope.id))
            .collect();
        let mut report = ReconcileReport {
            run_id: None,
            since,
            until,
            listed: listed.len(),
            missing: missing.iter().map(|event| lost(event)).collect(),
            repaired: Vec::new(),
            objects: ObjectReport::default(),
            dry_run,
        };
        // Named before the object pass, whose repairs carry it in their metadata.
        let run_id = uuid::Uuid::new_v4().to_string();
        // The objects of missing events are the events' to repair, whoever applies first.
        let left_to_events: HashSet<String> = missing
            .iter()
            .flat_map(|event| {
                [
                    event.envelope.object_id.clone(),
                    event.envelope.payment_intent.clone(),
                ]
            })
            .flatten()
            .collect();
        if dry_run {
            if let Some(objects) = &self.objects {
                report.objects = objects.run(&run_id, true, &left_to_events).await?;
            }
            return Ok(report);
        }
        for event in missing {
            // A duplicate here arrived meanwhile (a late delivery, another run): not ours.
            if self
                .inbox
                .store(&event.envelope, event.body.as_bytes())
                .await?
                == Stored::New
            {
                report.repaired.push(lost(event));
            }
        }
        if !report.repaired.is_empty() {
            if let Some(wake) = &self.wake {
                wake.notify_one();
            }
        }
        if let Some(objects) = &self.objects {
            report.objects = objects.run(&run_id, false, &left_to_events).await?;
        }
        let command = RecordRun {
            since,
            until,
            listed: report.listed as u64,
            missing: report.missing.clone(),
            repaired: report.repaired.clone(),
            objects_checked: report.objects.checked,
            objects_differing: report.objects.differing.clone(),
            objects_repaired: report.objects.repaired.clone(),
        };
        execute_with_retry(&self.runs, &run_id, command, Default::default()).await?;
        report.run_id = Some(run_id);
        Ok(report)
    }
}

fn lost(event: &ListedEvent) -> LostEvent {
    LostEvent {
        stripe_event_id: event.envelope.id.clone(),
        event_type: event.envelope.event_type.clone(),
    }
}
