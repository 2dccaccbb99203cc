//! billstream's domain: deterministic aggregates.
//!
//! Nothing in this crate reads a clock, generates an id or performs IO: the application layer
//! puts `now`, fresh ids and the outcome of any provider call into the commands. That keeps
//! every decision reproducible from the event log alone.

pub mod customer;
pub mod invoice;
pub mod mail;
pub mod money;
pub mod payment;
pub mod reconciliation;
#[cfg(test)]
pub(crate) mod snapshot_check;
pub mod subscription;
pub mod validation;
pub mod values;
pub mod versions;

pub use validation::ValidationError;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;

/// Writes decided events to the sink, applying each to the aggregate as it goes: the common
/// tail of every aggregate's `handle`, whose decision is a pure function of state and command.
pub async fn emit<A: Aggregate>(aggregate: &mut A, sink: &EventSink<A>, events: Vec<A::Event>) {
    for event in events {
        sink.write(event, aggregate).await;
    }
}
