//! Stripe: the adapter that speaks Stripe's API, and everything that knows Stripe's wire
//! format — request and response shapes (`decode`, `billing_decode`), the webhook envelope
//! (`envelope`) and its typed events (`events`), the signature scheme (`signature`), the
//! metadata keys (`metadata`). The adapter is `transport` (the client and its retries),
//! `client` (the port), `billing` (Stripe Billing), `invoices` and `void` (Stripe Invoicing)
//! and `event_list` (`/v1/events`). Files here may import the provider's neutral types and
//! `crate::config`; only the adapter uses async-stripe. The sandbox reuses the wire decoding and signing, since it answers in Stripe's
//! shapes.

mod billing;
pub mod billing_decode;
mod client;
pub mod decode;
pub mod envelope;
mod event_list;
pub mod events;
mod invoices;
pub mod metadata;
pub mod signature;
mod transport;
mod void;

pub use transport::StripeProvider;
