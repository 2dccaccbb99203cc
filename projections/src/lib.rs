//! billstream's read models.
//!
//! The event log is the truth; every table here is derived from it by the [`Projector`], which
//! applies events in commit order and keeps, per projection, a checkpoint updated in the same
//! transaction as the rows. Any table can be thrown away and rebuilt with [`Projector::replay`],
//! or rebuilt beside the live tables and swapped in with [`Projector::rebuild`] while the
//! service keeps writing.
//!
//! A view describes its writes for an event as [`Statement`]s, decided from the event alone;
//! the projector runs a whole batch of them on the connection's SQLite handle from its own
//! thread (`in_thread`), one round trip to sqlx's connection thread per batch, not one per
//! statement. Consumers that read before they write (the mailer) run in the same batch after
//! the views, reading the views' rows on the same handle (`direct_rows`). The hot reads of
//! each request run on read-only connections of their own (`readers`).

pub mod as_of;
pub mod billing_stats;
pub mod credit_notes;
pub mod customer_log;
pub mod customer_profiles;
pub mod direct_rows;
pub mod drift;
pub mod error;
pub mod event_log;
pub mod health;
pub mod in_thread;
pub mod in_transaction;
pub mod invoices;
pub mod payment_listed;
pub mod payments;
pub mod pending_requests;
pub mod projector;
pub mod readers;
pub mod rebuild_claim;
pub mod rebuilds;
pub mod shadow;
mod shadow_copy;
mod shadow_retire;
mod shadow_schema;
pub mod statement;
pub mod subscriptions;
pub mod upstream;
pub mod write_gate;

pub use as_of::AsOf;
pub use billing_stats::BillingStats;
pub use credit_notes::{CreditNoteRow, CreditNotes};
pub use customer_profiles::{Credentials, CustomerProfile, CustomerProfiles};
pub use drift::{Drift, DriftKind};
pub use error::ProjectionError;
pub use event_log::{EventFilter, StoredEvent};
pub use health::{ProjectionHealth, TableRows};
pub use invoices::{InvoiceRow, InvoiceStats, Invoices};
pub use payment_listed::PaymentListed;
pub use payments::{HistoryQuery, PaymentRow, Payments};
pub use pending_requests::{PendingRequest, PendingRequests};
pub use projector::{Projection, Projector, ReplayReport};
pub use readers::Readers;
pub use rebuild_claim::RebuildClaim;
pub use shadow::RebuildReport;
pub use statement::{Statement, Value};
pub use subscriptions::{SubscriptionRow, Subscriptions};
pub use upstream::{Upstream, UpstreamError};
pub use write_gate::{OwnedWriteTurn, WriteGate, WriteTurn};
