//! Provider webhooks after the endpoint verified them: committed to a durable inbox before the
//! 2xx (`store`: the node's file in `node_store`, or the nodes' shared PostgreSQL database in
//! `shared_store`; the rows and statuses in `entry`), decoded into typed provider events and
//! applied afterwards by a worker (`worker`), each mapped to a command on its aggregate
//! (`apply`) — exactly once per event id, tolerant of duplicates and reordering. It imports
//! the provider's typed events and decoder (`crate::provider`), the use cases' command
//! execution, the read models' lookups and the store's group commit; it never reads a
//! provider's wire format.

pub mod apply;
pub mod entry;
pub mod node_store;
pub mod shared_intake;
pub mod shared_store;
pub mod store;
pub mod worker;

pub use apply::EventApplier;
pub use node_store::NodeInbox;
pub use shared_store::SharedInbox;
pub use store::{Inbox, InboxEntry, InboxError, InboxRecord, InboxStatus, Retry, Stored};
pub use worker::InboxWorker;
