//! The scheduled reconciliation with the payment provider, read with the rest of `Config`, and
//! the spans it is written in (`30s`, `15m`, `1h`, `7d`), which `billstream reconcile --since`
//! reads too.
//!
//! | Variable | Default | Meaning |
//! |---|---|---|
//! | `RECONCILE_INTERVAL` | unset (off) | how often the server compares the provider's events with the webhook inbox and feeds it what never arrived (10s to 30d) |

use std::time::Duration;

use super::ConfigError;

/// Whether, and how often, the server reconciles on its own.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReconcileSettings {
    /// `None`: only `billstream reconcile` runs one.
    pub interval: Option<Duration>,
}

impl ReconcileSettings {
    /// Reads the variables through `get`.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let interval = match get("RECONCILE_INTERVAL") {
            None => None,
            Some(raw) if raw.eq_ignore_ascii_case("off") => None,
            Some(raw) => Some(
                parse_span(&raw)
                    .filter(|span| {
                        (Duration::from_secs(10)..=Duration::from_secs(30 * 86_400)).contains(span)
                    })
                    .ok_or_else(|| ConfigError::Invalid {
                        variable: "RECONCILE_INTERVAL",
                        reason: "expected a span from 10s to 30d, such as 15m or 1h, or off"
                            .to_owned(),
                    })?,
            ),
        };
        Ok(Self { interval })
    }
}

/// A span written as a whole number and a unit: `s`, `m`, `h` or `d` (`90s`, `1h`, `7d`).
pub fn parse_span(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let unit_at = raw.len().checked_sub(1)?;
    let (number, unit) = raw.split_at(unit_at);
    let number: u64 = number.parse().ok()?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return None,
    };
    number.checked_mul(seconds).map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_seconds_minutes_hours_and_days() {
        assert_eq!(parse_span("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_span("15m"), Some(Duration::from_secs(900)));
        assert_eq!(parse_span("1h"), Some(Duration::from_secs(3_600)));
        assert_eq!(parse_span("7d"), Some(Duration::from_secs(604_800)));
        for bad in ["", "h", "1", "1w", "-1h", "1.5h"] {
            assert_eq!(parse_span(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_scheduled_run_is_off_unless_an_interval_in_range_is_set() {
        assert_eq!(
            ReconcileSettings::from_lookup(&|_| None).unwrap().interval,
            None
        );
        let get = |name: &str| (name == "RECONCILE_INTERVAL").then(|| "1h".into());
        let settings = ReconcileSettings::from_lookup(&get).unwrap();
        assert_eq!(settings.interval, Some(Duration::from_secs(3_600)));
        for bad in ["5s", "31d", "hourly"] {
            let get = |name: &str| (name == "RECONCILE_INTERVAL").then(|| bad.into());
            assert!(ReconcileSettings::from_lookup(&get).is_err(), "{bad}");
        }
    }
}
