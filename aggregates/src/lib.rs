//! billstream's domain: deterministic aggregates.
//!
//! Nothing in this crate reads a clock, generates an id or performs IO: the application layer
//! puts `now`, fresh ids and the outcome of any provider call into the commands. That keeps
//! every decision reproducible from the event log alone.

pub mod customer;
pub mod invoice;
pub mod money;
pub mod payment;
pub mod subscription;
pub mod validation;

pub use validation::ValidationError;
