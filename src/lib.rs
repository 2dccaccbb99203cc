//! billstream: an event-sourced billing service on SQLite and Stripe.
//!
//! Commands from the REST API become events in a SQLite event store (cqrs-es + sqlite-es, with a
//! global position in commit order); projections turn the log into read models.

pub mod app;
pub mod auth;
pub mod billing;
pub mod cli;
pub mod config;
pub mod customers;
pub mod db;
pub mod error;
pub mod event_repository;
pub mod gateway;
pub mod group_commit;
pub mod http;
pub mod invoice_numbering;
pub mod keyed_locks;
pub mod payments;
pub mod pdf;
pub mod plans;
pub mod store;
pub mod telemetry;
pub mod webhook_signature;
pub mod webhooks;
