//! Test support for snapshots: an aggregate restored from the JSON of its state after some of
//! its events, then given the rest, must equal the aggregate given all of them — wherever the
//! snapshot falls. The event store keeps snapshots of the aggregates whose streams grow
//! without bound, so every field of their state must survive serde unchanged.

use std::fmt::Debug;

use cqrs_es::Aggregate;

/// The aggregate after `events`, having checked that a snapshot taken after any of them
/// rebuilds the same state.
pub(crate) fn rebuilt_through_every_snapshot<A>(events: &[A::Event]) -> A
where
    A: Aggregate + PartialEq + Debug,
{
    let full = apply_all(A::default(), events);
    for cut in 0..=events.len() {
        let before = apply_all(A::default(), &events[..cut]);
        let snapshot = serde_json::to_value(&before).expect("the state serialises");
        let restored: A = serde_json::from_value(snapshot).expect("the snapshot deserialises");
        assert_eq!(
            restored, before,
            "the snapshot after {cut} events changed the state"
        );
        let rebuilt = apply_all(restored, &events[cut..]);
        assert_eq!(
            rebuilt, full,
            "a snapshot after {cut} events rebuilt another state"
        );
    }
    full
}

/// The aggregate restored from a snapshot taken after the first `snapshot_after` of `events`.
pub(crate) fn restored_after<A: Aggregate>(events: &[A::Event], snapshot_after: usize) -> A {
    let before = apply_all(A::default(), &events[..snapshot_after]);
    serde_json::from_value(serde_json::to_value(&before).expect("the state serialises"))
        .expect("the snapshot deserialises")
}

fn apply_all<A: Aggregate>(mut aggregate: A, events: &[A::Event]) -> A {
    for event in events {
        aggregate.apply(event.clone());
    }
    aggregate
}
