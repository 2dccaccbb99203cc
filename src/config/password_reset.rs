//! The forgotten-password settings, read with the rest of `Config`: where the links in the
//! e-mails point and how long they work.
//!
//! | Variable | Default | Meaning |
//! |---|---|---|
//! | `PUBLIC_BASE_URL` | `http://` + `BIND_ADDR` | the portal's address as customers reach it, for links in e-mails |
//! | `PASSWORD_RESET_TTL` | `1800` | seconds a password reset link works (60 s to a day; tests go down to 1) |

use std::net::SocketAddr;
use std::time::Duration;

use super::ConfigError;

/// Where reset links point and how long they last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordResetSettings {
    /// Without a trailing slash.
    pub public_base_url: String,
    pub ttl: Duration,
}

impl PasswordResetSettings {
    /// Reads the variables through `get`; `bind_addr` gives the default address.
    pub fn from_lookup(
        get: &dyn Fn(&str) -> Option<String>,
        bind_addr: SocketAddr,
    ) -> Result<Self, ConfigError> {
        let invalid = |variable: &'static str, reason: &str| ConfigError::Invalid {
            variable,
            reason: reason.to_owned(),
        };
        let public_base_url = match get("PUBLIC_BASE_URL") {
            None => format!("http://{bind_addr}"),
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
                url.trim_end_matches('/').to_owned()
            }
            Some(_) => {
                return Err(invalid(
                    "PUBLIC_BASE_URL",
                    "expected http://… or https://…, such as https://billing.example.com",
                ))
            }
        };
        // One second is allowed so that the tests can watch a link expire.
        let ttl = match get("PASSWORD_RESET_TTL") {
            None => Duration::from_secs(30 * 60),
            Some(seconds) => seconds
                .parse::<u64>()
                .ok()
                .filter(|seconds| (1..=86_400).contains(seconds))
                .map(Duration::from_secs)
                .ok_or_else(|| invalid("PASSWORD_RESET_TTL", "expected seconds from 1 to 86400"))?,
        };
        Ok(Self {
            public_base_url,
            ttl,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_default_to_the_bound_address_and_last_thirty_minutes() {
        let settings =
            PasswordResetSettings::from_lookup(&|_| None, "127.0.0.1:8080".parse().unwrap())
                .unwrap();
        assert_eq!(settings.public_base_url, "http://127.0.0.1:8080");
        assert_eq!(settings.ttl, Duration::from_secs(1800));
    }

    #[test]
    fn a_base_url_loses_its_trailing_slash_and_must_be_http() {
        let get = |name: &str| (name == "PUBLIC_BASE_URL").then(|| "https://b.example/".into());
        let settings =
            PasswordResetSettings::from_lookup(&get, "127.0.0.1:8080".parse().unwrap()).unwrap();
        assert_eq!(settings.public_base_url, "https://b.example");
        let get = |name: &str| (name == "PUBLIC_BASE_URL").then(|| "b.example".into());
        assert!(
            PasswordResetSettings::from_lookup(&get, "127.0.0.1:8080".parse().unwrap()).is_err()
        );
    }
}
