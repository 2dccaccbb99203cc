//! The forgotten-password settings, read with the rest of `Config`: how long a reset link works.
//! Where the links point is `PUBLIC_URL`, shared with every other link in the e-mails
//! (`crate::mail::MailSettings::public_url`).
//!
//! | Variable | Default | Meaning |
//! |---|---|---|
//! | `PASSWORD_RESET_TTL` | `1800` | seconds a password reset link works (1 s to a day; tests go down to 1) |

use std::time::Duration;

use super::ConfigError;

/// How long reset links last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordResetSettings {
    pub ttl: Duration,
}

impl PasswordResetSettings {
    /// Reads the variables through `get`.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // One second is allowed so that the tests can watch a link expire.
        let ttl = match get("PASSWORD_RESET_TTL") {
            None => Duration::from_secs(30 * 60),
            Some(seconds) => seconds
                .parse::<u64>()
                .ok()
                .filter(|seconds| (1..=86_400).contains(seconds))
                .map(Duration::from_secs)
                .ok_or_else(|| ConfigError::Invalid {
                    variable: "PASSWORD_RESET_TTL",
                    reason: "expected seconds from 1 to 86400".to_owned(),
                })?,
        };
        Ok(Self { ttl })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_last_thirty_minutes_unless_told_otherwise() {
        let settings = PasswordResetSettings::from_lookup(&|_| None).unwrap();
        assert_eq!(settings.ttl, Duration::from_secs(1800));
        let get = |name: &str| (name == "PASSWORD_RESET_TTL").then(|| "600".into());
        let settings = PasswordResetSettings::from_lookup(&get).unwrap();
        assert_eq!(settings.ttl, Duration::from_secs(600));
    }

    #[test]
    fn a_lifetime_out_of_range_is_refused() {
        for bad in ["0", "86401", "-5", "half an hour"] {
            let get = |name: &str| (name == "PASSWORD_RESET_TTL").then(|| bad.into());
            assert!(PasswordResetSettings::from_lookup(&get).is_err(), "{bad}");
        }
    }
}
