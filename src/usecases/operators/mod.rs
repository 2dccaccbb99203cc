//! What operators ask of billstream beyond the customers' use cases: a customer's story told
//! from the log (`timeline`, one human line per event from `summary`), the webhook inbox's
//! contents and re-queueing (`inbox`), the projections' health (`projections`), rebuilds of a
//! view as background jobs (`rebuilds`), and the secrets an operator never sees (`redact`).
//! Read-only except for re-queueing an inbox event and rebuilding a view. May import the
//! domain, the projections, `store` and `inbox` — never HTTP.

pub mod inbox;
pub mod projections;
pub mod rebuilds;
pub mod redact;
pub mod summary;
pub mod timeline;
