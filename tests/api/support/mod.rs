//! The test harness's real parts: a private PostgreSQL cluster, a headless Chromium, an SMTP
//! sink, localstripe, schemathesis and the PDF tools. Each module starts its server lazily and at
//! most as often as its doc says; `scripts/test` installs what they need.

pub mod browser;
pub mod localstripe;
pub mod pdf_tools;
pub mod postgres;
pub mod processes;
pub mod schemathesis;
pub mod smtp;
pub mod venv;
