//! Stripe webhooks: verified on arrival, committed to a durable inbox before the 2xx, applied
//! afterwards by a worker, exactly once per event id, tolerant of duplicates and reordering.

pub mod apply;
pub mod envelope;
pub mod inbox;
pub mod worker;

pub use apply::EventApplier;
pub use envelope::StripeEvent;
pub use inbox::{Inbox, InboxError, InboxStatus, Stored};
pub use worker::InboxWorker;
