//! What every sandbox object is stamped with: a Stripe-format id, and wall-clock time (events
//! and payment objects carry wall time; billing runs on the test clock, see `clock`).

use rand::distr::Alphanumeric;
use rand::Rng;

/// Seconds in a day, for trial lengths, due dates and retry delays.
pub const DAY: i64 = 86_400;

/// A Stripe-looking id: the prefix and 24 random alphanumerics (`cus_…`, `pi_…`).
pub fn stripe_like_id(prefix: &str) -> String {
    let suffix: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    format!("{prefix}_{suffix}")
}

/// Wall-clock time (Unix seconds).
pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}
