//! Provider webhooks after the endpoint verified them: committed to a durable inbox before the
//! 2xx (`store`), decoded into typed provider events and applied afterwards by a worker
//! (`worker`), each mapped to a command on its aggregate (`apply`) — exactly once per event id,
//! tolerant of duplicates and reordering. It imports the provider's typed events and decoder
//! (`crate::provider`), the use cases' command execution, the read models' lookups and the
//! store's group commit; it never reads a provider's wire format.

pub mod apply;
pub mod store;
pub mod worker;

pub use apply::EventApplier;
pub use store::{Inbox, InboxEntry, InboxError, InboxRecord, InboxStatus, Retry, Stored};
pub use worker::InboxWorker;
