//! The portal over HTTP.
