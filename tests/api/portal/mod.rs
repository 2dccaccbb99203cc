//! The customer portal: its pages over HTTP (headers, sessions, cross-site posts, signed links,
//! languages, validation, the dashboard's actions, the invoice list), and in a real browser
//! against the real binary (the journey, every page at 360 px wide); the operators' console at
//! `/admin` over HTTP (`console`) and in the browser (`console_browser`, `console_inbox`,
//! `console_events`).

mod billing_form;
mod browse;
mod client;
mod console;
mod console_browser;
mod console_events;
mod console_inbox;
mod credit_notes;
mod dashboard;
mod documents;
mod forms;
mod journey;
mod layout;
mod password_reset;
mod server;
mod sessions;
mod stripe_mode;
mod tokens;
mod totals;
