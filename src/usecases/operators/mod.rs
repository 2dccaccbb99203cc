//! What operators ask of billstream beyond the customers' use cases: the log a page at a time
//! (`event_log`), a customer's story told
//! from the log (`timeline`, one human line per event from `summary`), the webhook inbox's
//! contents and re-queueing (`inbox`), the projections' health (`projections`), rebuilds of a
//! view as background jobs (`rebuilds`), repair from the provider's event list (`reconcile`)
//! and from its objects (`reconcile_objects`), and the runs recorded (`reconciliations`), and the secrets an operator never sees
//! (`redact`). Read-only except for re-queueing an inbox event, rebuilding a view and
//! reconciling. May import the domain, the projections, `store`, `inbox` and the provider
//! port — never HTTP.

pub mod event_log;
pub mod inbox;
pub mod projections;
pub mod rebuilds;
pub mod reconcile;
pub mod reconcile_objects;
pub mod reconciliations;
pub mod redact;
pub mod summary;
pub mod timeline;

/// Cuts `rows`, read with one more than `limit` to learn whether another page follows, down to
/// the page; returns where the next page starts (`None` on the last page).
fn cut_page<T>(rows: &mut Vec<T>, limit: i64, position: impl Fn(&T) -> i64) -> Option<i64> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit.max(0) as usize);
    more.then(|| rows.last().map(position)).flatten()
}
