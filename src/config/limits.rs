//! The abuse limits' settings: request rates per client address and per account, failed-login
//! delays, and how long a client may take to send a request. Read with the rest of `Config`;
//! every variable is in `.env.example` and the README.

use std::time::Duration;

use super::ConfigError;
use crate::auth::LockoutPolicy;

/// `N` requests per `period`: a burst of `N`, then one more every `period / N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub requests: u32,
    pub period: Duration,
}

impl Rate {
    /// Parses `N/s`, `N/min` or `N/h`; `off` is `None`.
    pub fn parse(raw: &str) -> Option<Option<Self>> {
        if raw.eq_ignore_ascii_case("off") {
            return Some(None);
        }
        let (requests, unit) = raw.split_once('/')?;
        let requests: u32 = requests.trim().parse().ok().filter(|n| *n > 0)?;
        let period = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return None,
        };
        Some(Some(Self { requests, period }))
    }
}

/// One rate per client address and one per account (`None`: not limited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatePair {
    pub per_address: Option<Rate>,
    pub per_account: Option<Rate>,
}

/// The rate limits of the routes worth guessing at or abusing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// `RATE_LIMITS=off` turns every per-address and per-account rate off (benchmarks, or a
    /// proxy in front that limits); the failed-login delays still apply.
    pub enabled: bool,
    /// `POST /api/auth/login`; the account is the e-mail.
    pub login: RatePair,
    /// `POST /api/auth/register`; the account is the e-mail.
    pub register: RatePair,
    /// `POST /api/auth/password`; the account is the caller.
    pub password: RatePair,
    /// `POST /api/payments/create-intent` and `/confirm`; the account is the caller.
    pub payments: RatePair,
    /// `POST /api/auth/password-reset` (and `/confirm`); the account is the e-mail. Each
    /// request may mail someone, hence a slow per-account rate.
    pub password_reset: RatePair,
    /// Read the client's address from this header (set by a trusted proxy; its last value)
    /// instead of the connection's peer address.
    pub client_ip_header: Option<String>,
}

/// Everything that bounds what one client can make the service do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    pub rates: RateLimits,
    pub lockout: LockoutPolicy,
    /// How long a client may take to send a request's headers.
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body.
    pub body_timeout: Duration,
}

fn rate(requests: u32, seconds: u64) -> Option<Rate> {
    Some(Rate {
        requests,
        period: Duration::from_secs(seconds),
    })
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            rates: RateLimits {
                enabled: true,
                login: RatePair {
                    per_address: rate(20, 60),
                    per_account: rate(10, 60),
                },
                register: RatePair {
                    per_address: rate(10, 60),
                    per_account: rate(5, 60),
                },
                password: RatePair {
                    per_address: rate(10, 60),
                    per_account: rate(5, 60),
                },
                payments: RatePair {
                    per_address: rate(60, 60),
                    per_account: rate(30, 60),
                },
                password_reset: RatePair {
                    per_address: rate(10, 60),
                    per_account: rate(5, 3600),
                },
                client_ip_header: None,
            },
            lockout: LockoutPolicy::default(),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
        }
    }
}

impl Limits {
    /// Reads the limits through `get` (which already treats empty values as unset).
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut limits = Self::default();
        let rates = &mut limits.rates;
        rates.enabled = match get("RATE_LIMITS").as_deref() {
            None => true,
            Some(v) if v.eq_ignore_ascii_case("on") => true,
            Some(v) if v.eq_ignore_ascii_case("off") => false,
            Some(_) => return Err(invalid("RATE_LIMITS", "expected on or off")),
        };
        for (variable, slot) in [
            ("RATE_LIMIT_LOGIN_PER_ADDRESS", &mut rates.login.per_address),
            ("RATE_LIMIT_LOGIN_PER_ACCOUNT", &mut rates.login.per_account),
            (
                "RATE_LIMIT_REGISTER_PER_ADDRESS",
                &mut rates.register.per_address,
            ),
            (
                "RATE_LIMIT_REGISTER_PER_ACCOUNT",
                &mut rates.register.per_account,
            ),
            (
                "RATE_LIMIT_PASSWORD_PER_ADDRESS",
                &mut rates.password.per_address,
            ),
            (
                "RATE_LIMIT_PASSWORD_PER_ACCOUNT",
                &mut rates.password.per_account,
            ),
            (
                "RATE_LIMIT_PAYMENTS_PER_ADDRESS",
                &mut rates.payments.per_address,
            ),
            (
                "RATE_LIMIT_PAYMENTS_PER_ACCOUNT",
                &mut rates.payments.per_account,
            ),
            (
                "RATE_LIMIT_PASSWORD_RESET_PER_ADDRESS",
                &mut rates.password_reset.per_address,
            ),
            (
                "RATE_LIMIT_PASSWORD_RESET_PER_ACCOUNT",
                &mut rates.password_reset.per_account,
            ),
        ] {
            if let Some(raw) = get(variable) {
                *slot = Rate::parse(&raw).ok_or_else(|| {
                    invalid(variable, "expected N/s, N/min or N/h (N ≥ 1), or off")
                })?;
            }
        }
        rates.client_ip_header = get("CLIENT_IP_HEADER");
        if let Some(raw) = get("LOGIN_LOCKOUT_THRESHOLD") {
            limits.lockout.threshold =
                raw.parse().ok().filter(|n| *n <= 1000).ok_or_else(|| {
                    invalid(
                        "LOGIN_LOCKOUT_THRESHOLD",
                        "expected failures from 0 (off) to 1000",
                    )
                })?;
        }
        let seconds = |variable: &'static str, range: std::ops::RangeInclusive<u64>| {
            get(variable)
                .map(|raw| {
                    raw.parse()
                        .ok()
                        .filter(|s| range.contains(s))
                        .map(Duration::from_secs)
                        .ok_or_else(|| {
                            invalid(
                                variable,
                                &format!(
                                    "expected seconds from {} to {}",
                                    range.start(),
                                    range.end()
                                ),
                            )
                        })
                })
                .transpose()
        };
        if let Some(delay) = seconds("LOGIN_LOCKOUT_BASE_DELAY", 1..=3600)? {
            limits.lockout.base_delay = delay;
        }
        if let Some(delay) = seconds("LOGIN_LOCKOUT_MAX_DELAY", 1..=86_400)? {
            limits.lockout.max_delay = delay;
        }
        if limits.lockout.max_delay < limits.lockout.base_delay {
            return Err(invalid(
                "LOGIN_LOCKOUT_MAX_DELAY",
                "must not be shorter than LOGIN_LOCKOUT_BASE_DELAY",
            ));
        }
        if let Some(timeout) = seconds("REQUEST_HEADER_TIMEOUT", 1..=300)? {
            limits.header_timeout = timeout;
        }
        if let Some(timeout) = seconds("REQUEST_BODY_TIMEOUT", 1..=300)? {
            limits.body_timeout = timeout;
        }
        Ok(limits)
    }
}

fn invalid(variable: &'static str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        variable,
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn limits_from(vars: &[(&str, &str)]) -> Result<Limits, ConfigError> {
        let vars: HashMap<&str, &str> = vars.iter().copied().collect();
        Limits::from_lookup(&|name| vars.get(name).map(|v| (*v).to_owned()))
    }

    #[test]
    fn rates_read_per_second_minute_or_hour_or_off() {
        assert_eq!(
            Rate::parse("20/min"),
            Some(Some(Rate {
                requests: 20,
                period: Duration::from_secs(60)
            }))
        );
        assert_eq!(Rate::parse("3/h").unwrap().unwrap().period.as_secs(), 3600);
        assert_eq!(Rate::parse("OFF"), Some(None));
        for bad in ["0/min", "ten/min", "5/day", "5", ""] {
            assert_eq!(Rate::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn unset_variables_keep_the_documented_defaults() {
        let limits = limits_from(&[]).unwrap();
        assert_eq!(limits, Limits::default());
        assert!(limits.rates.enabled);
        assert_eq!(limits.rates.login.per_address, rate(20, 60));
        assert_eq!(limits.lockout.threshold, 5);
        assert_eq!(limits.header_timeout, Duration::from_secs(10));
    }

    #[test]
    fn variables_override_and_bad_values_name_their_variable() {
        let limits = limits_from(&[
            ("RATE_LIMITS", "off"),
            ("RATE_LIMIT_LOGIN_PER_ACCOUNT", "off"),
            ("LOGIN_LOCKOUT_THRESHOLD", "3"),
            ("REQUEST_BODY_TIMEOUT", "2"),
        ])
        .unwrap();
        assert!(!limits.rates.enabled);
        assert_eq!(limits.rates.login.per_account, None);
        assert_eq!(limits.lockout.threshold, 3);
        assert_eq!(limits.body_timeout, Duration::from_secs(2));
        for (variable, value) in [
            ("RATE_LIMITS", "maybe"),
            ("RATE_LIMIT_PAYMENTS_PER_ADDRESS", "lots"),
            ("LOGIN_LOCKOUT_MAX_DELAY", "0"),
            ("REQUEST_HEADER_TIMEOUT", "9999"),
        ] {
            let error = limits_from(&[(variable, value)]).unwrap_err();
            assert!(
                matches!(&error, ConfigError::Invalid { variable: v, .. } if *v == variable),
                "{variable}: {error}"
            );
        }
    }
}
