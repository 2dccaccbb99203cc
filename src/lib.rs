//! billstream: an event-sourced billing service on SQLite and Stripe.
//!
//! Commands from the REST API and Stripe's webhooks become events in an event store (cqrs-es,
//! with a global position in commit order); projections turn the log into read models.
//!
//! Layers, outermost first: `http` (and `cli`) parse and render; `usecases` run what a client
//! asks, asking the domain (`aggregates`) to decide; `store` persists events; `inbox` turns
//! verified Stripe events into use-case calls; `provider` is the only code that knows Stripe.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod error;
pub mod http;
pub mod inbox;
pub mod mail;
pub mod portal;
pub mod provider;
pub mod store;
pub mod telemetry;
pub mod usecases;
