//! API integration tests: one binary, one module per feature. Each test gets its own SQLite
//! file and a real server on a loopback port; `support` holds the harness's other real parts
//! (PostgreSQL, Chromium, SMTP, localstripe, schemathesis, PDF tools).

mod abuse;
mod auth;
mod backups;
mod bad_input;
mod billing;
mod billing_details;
mod browser_headers;
mod cli;
mod conformance;
mod credit_note_numbers;
mod credit_notes;
mod errors;
mod event_store;
mod event_versions;
mod group_commit;
mod helpers;
mod invoice_documents;
mod invoice_issuance;
mod invoice_numbers;
mod isolation;
mod mail;
mod mail_crash;
mod mail_flows;
mod openapi;
mod operations;
mod operators;
mod password_reset;
mod payments;
mod portal;
mod projections;
mod provider_contract;
mod rebuild_jobs;
mod rebuilds;
mod reconcile;
mod sandbox_webhooks;
mod secrets_in_logs;
mod slow_clients;
mod snapshots;
mod stripe_mode;
mod support;
mod support_smoke;
mod tokens;
mod two_instances;
mod webhooks;
