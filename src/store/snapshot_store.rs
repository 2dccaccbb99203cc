//! billstream's event store: cqrs-es's `EventStore` over the group-commit repository, loading
//! an aggregate from its snapshot (when its type keeps one, `snapshots`) and the events after
//! it, and writing a new snapshot in the same job as the events that make it due.
//!
//! cqrs-es's own snapshot store is not used: in cqrs-es 0.5 the event sink applies each event
//! it records to the aggregate it is given — the context's — so the aggregate handed to
//! `commit` already holds the command's events, and that store's snapshot applies them once
//! more (a snapshot would hold some events twice). It also snapshots only when a commit
//! crosses a multiple of the interval, so a stream left without a usable snapshot (snapshots
//! deleted, or one that no longer reads) would replay every event for up to an interval of
//! commands. Here the snapshot is the context's aggregate as the command left it — its events
//! applied once, by the sink — and it is due whenever a commit leaves an interval's worth of
//! events after the snapshot it was loaded from.

use std::collections::HashMap;

use cqrs_es::persist::{
    EventUpcaster, PersistedEventRepository, PersistenceError, SerializedEvent,
};
use cqrs_es::{Aggregate, AggregateContext, AggregateError, EventEnvelope, EventStore};

use super::log_repository::LogRepository;
use super::snapshots::snapshot_every;

/// The event store of aggregate `A` over repository `R`: the node's log or the shared one
/// (`log_repository`) by default, or PostgreSQL's alone (`postgres::PgEventRepository`).
pub struct SnapshotStore<A: Aggregate, R = LogRepository> {
    repository: R,
    upcasters: Vec<Box<dyn EventUpcaster>>,
    /// Events between snapshots (`None`: `A` keeps none).
    every: Option<usize>,
    _aggregate: std::marker::PhantomData<A>,
}

impl<A: Aggregate, R: PersistedEventRepository> SnapshotStore<A, R> {
    /// A store over `repository` whose older event versions are raised by `upcasters` (in
    /// order) as they load, snapshotting `A` as often as [`snapshot_every`] says.
    pub fn new(repository: R, upcasters: Vec<Box<dyn EventUpcaster>>) -> Self {
        Self {
            repository,
            upcasters,
            every: snapshot_every(A::TYPE),
            _aggregate: std::marker::PhantomData,
        }
    }

    fn envelopes(
        &self,
        events: Vec<SerializedEvent>,
    ) -> Result<Vec<EventEnvelope<A>>, PersistenceError> {
        events
            .into_iter()
            .map(|mut event| {
                for upcaster in &self.upcasters {
                    if upcaster.can_upcast(&event.event_type, &event.event_version) {
                        event = upcaster.upcast(event);
                    }
                }
                EventEnvelope::try_from(event)
            })
            .collect()
    }

    /// The state and sequence of `aggregate_id`'s snapshot, if it has one that reads as `A`.
    async fn snapshot(&self, aggregate_id: &str) -> Result<Option<Loaded<A>>, PersistenceError> {
        if self.every.is_none() {
            return Ok(None);
        }
        let Some(snapshot) = self.repository.get_snapshot::<A>(aggregate_id).await? else {
            return Ok(None);
        };
        match serde_json::from_value::<A>(snapshot.aggregate) {
            Ok(aggregate) => Ok(Some(Loaded {
                aggregate,
                sequence: snapshot.current_sequence,
                number: snapshot.current_snapshot,
            })),
            Err(error) => {
                // A later release changed the state's shape: the events still say it all.
                tracing::warn!(%error, aggregate_type = A::TYPE, aggregate_id, "snapshot of another shape passed over; the aggregate is replayed from its events");
                Ok(None)
            }
        }
    }
}

struct Loaded<A> {
    aggregate: A,
    sequence: usize,
    number: usize,
}

/// An aggregate as loaded for a command.
pub struct SnapshotContext<A: Aggregate> {
    /// Its id.
    pub aggregate_id: String,
    /// Its state; the command's events are applied to it as the command records them.
    pub aggregate: A,
    /// The sequence of its last event: the command's events follow it.
    pub current_sequence: usize,
    /// The sequence and number of the snapshot it was loaded from (0, 0: none).
    snapshot_sequence: usize,
    snapshot_number: usize,
}

impl<A: Aggregate> AggregateContext<A> for SnapshotContext<A> {
    fn aggregate(&mut self) -> &mut A {
        &mut self.aggregate
    }
}

impl<A: Aggregate + Send + Sync, R: PersistedEventRepository> EventStore<A>
    for SnapshotStore<A, R>
{
    type AC = SnapshotContext<A>;

    async fn load_events(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        let events = self.repository.get_events::<A>(aggregate_id).await?;
        Ok(self.envelopes(events)?)
    }

    async fn load_aggregate(
        &self,
        aggregate_id: &str,
    ) -> Result<SnapshotContext<A>, AggregateError<A::Error>> {
        let snapshot = self.snapshot(aggregate_id).await?;
        let (mut aggregate, snapshot_sequence, snapshot_number) = match snapshot {
            Some(loaded) => (loaded.aggregate, loaded.sequence, loaded.number),
            None => (A::default(), 0, 0),
        };
        let events = if snapshot_sequence == 0 {
            self.repository.get_events::<A>(aggregate_id).await?
        } else {
            self.repository
                .get_last_events::<A>(aggregate_id, snapshot_sequence)
                .await?
        };
        let mut current_sequence = snapshot_sequence;
        for envelope in self.envelopes(events)? {
            current_sequence = envelope.sequence;
            aggregate.apply(envelope.payload);
        }
        Ok(SnapshotContext {
            aggregate_id: aggregate_id.to_owned(),
            aggregate,
            current_sequence,
            snapshot_sequence,
            snapshot_number,
        })
    }

    async fn commit(
        &self,
        events: Vec<A::Event>,
        context: SnapshotContext<A>,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        if events.is_empty() {
            return Ok(vec![]);
        }
        let last = context.current_sequence + events.len();
        let snapshot = match self.every {
            Some(every) if last - context.snapshot_sequence >= every => {
                // The state after `events`: the sink applied each as the command recorded it.
                let payload =
                    serde_json::to_value(&context.aggregate).map_err(PersistenceError::from)?;
                Some((
                    context.aggregate_id.clone(),
                    payload,
                    context.snapshot_number + 1,
                ))
            }
            _ => None,
        };
        let envelopes: Vec<EventEnvelope<A>> = events
            .into_iter()
            .zip(context.current_sequence + 1..)
            .map(|(payload, sequence)| EventEnvelope {
                aggregate_id: context.aggregate_id.clone(),
                sequence,
                payload,
                metadata: metadata.clone(),
            })
            .collect();
        let serialized = envelopes
            .iter()
            .map(SerializedEvent::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        self.repository.persist::<A>(&serialized, snapshot).await?;
        Ok(envelopes)
    }
}
