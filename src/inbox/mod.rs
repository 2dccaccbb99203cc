//! Stripe webhooks after the endpoint verified them: committed to a durable inbox before the
//! 2xx, applied afterwards by a worker, exactly once per event id, tolerant of duplicates and
//! reordering.

pub mod apply;
pub mod store;
pub mod worker;

pub use crate::provider::stripe::envelope::StripeEvent;
pub use apply::EventApplier;
pub use store::{Inbox, InboxError, InboxStatus, Stored};
pub use worker::InboxWorker;
