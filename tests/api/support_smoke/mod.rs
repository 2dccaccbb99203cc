//! Smoke tests of the harness's real parts: each proves one part starts and does its job, so a
//! feature test that fails later fails for its own reasons.

mod browser;
mod documents;
mod postgres;
mod smtp;
