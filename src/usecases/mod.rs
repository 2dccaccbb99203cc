//! The use cases: what a client (the JSON API, the portal, a webhook) can ask of billstream.
//! Each validates input into domain values, asks the aggregates to decide, calls the provider
//! port with idempotency keys derived from billstream's ids, and answers from the read models.
//! May import the domain, the projections, `store` and the `provider` port — never HTTP.

pub mod clock;
pub mod common;
pub mod customers;
pub mod invoices;
pub mod operators;
pub mod password_reset;
pub mod payments;
pub mod plans;
pub mod provider_state;
pub mod repair;
pub mod stats;
pub mod subscriptions;
pub mod trial_reminders;
