//! API integration tests: one binary, one module per feature. Each test gets its own SQLite
//! file and a real server on a loopback port; `support` holds the harness's other real parts
//! (PostgreSQL, Chromium, SMTP, localstripe, schemathesis, PDF tools).

mod auth;
mod bad_input;
mod billing;
mod cli;
mod errors;
mod event_store;
mod group_commit;
mod helpers;
mod invoice_numbers;
mod mail;
mod operations;
mod payments;
mod portal;
mod projections;
mod provider_contract;
mod sandbox_webhooks;
mod stripe_mode;
mod support;
mod support_smoke;
mod two_instances;
mod webhooks;
