//! Stripe: the adapter that speaks Stripe's API, and everything that knows Stripe's wire
//! format — request and response shapes, the webhook envelope, the signature scheme, the
//! metadata keys. The sandbox reuses the wire decoding, since it answers in Stripe's shapes.

mod billing;
pub mod billing_decode;
mod client;
pub mod decode;
pub mod envelope;
pub mod signature;

pub use client::StripeProvider;
