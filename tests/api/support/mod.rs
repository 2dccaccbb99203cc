//! The test harness's real parts beside the service itself; `scripts/test` installs what they
//! need.

pub mod browser;
pub mod localstripe;
pub mod postgres;
pub mod processes;
pub mod smtp;
pub mod venv;
