//! Rate limits per client address and per account on the routes worth guessing at or abusing
//! (login, registration, password change and reset, payments), answered 429 with `Retry-After`
//! and the API's error body. They live in this process's memory (GCRA buckets): a shield against
//! bursts from one client, not a rule: each node counts on its own and a restart forgets. What
//! must hold across nodes and restarts, the failed-login delays, is counted in the database
//! (`auth::lockout`). The webhook endpoint is never limited here: Stripe's delivery bursts are
//! authenticated by their signature.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Request, State};
use axum::http::{HeaderName, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::sync::Arc;

use super::error::ApiError;
use super::server::peer_address;
use crate::auth::lockout::seconds_rounded_up;
use crate::config::{Rate, RateLimits};

/// A route family with its own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guarded {
    Login,
    Register,
    Password,
    Payments,
    PasswordReset,
}

impl Guarded {
    const ALL: [Self; 5] = [
        Self::Login,
        Self::Register,
        Self::Password,
        Self::Payments,
        Self::PasswordReset,
    ];

    /// The family of a request, by method and path (before routing).
    fn of(method: &Method, path: &str) -> Option<Self> {
        if method != Method::POST {
            return None;
        }
        match path.trim_end_matches('/') {
            // The API's routes, the portal's forms that do the same, and the console's
            // sign-in (where a guess is at the operator token).
            "/api/auth/login" | "/login" | "/admin/login" => Some(Self::Login),
            "/api/auth/register" | "/register" => Some(Self::Register),
            "/api/auth/password" | "/account/password" => Some(Self::Password),
            "/api/payments/create-intent" | "/api/payments/confirm" | "/pay" => {
                Some(Self::Payments)
            }
            "/api/auth/password-reset"
            | "/api/auth/password-reset/confirm"
            | "/password/forgot"
            | "/password/reset" => Some(Self::PasswordReset),
            _ => None,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

struct Limiter<K: std::hash::Hash + Eq + Clone> {
    buckets: DefaultKeyedRateLimiter<K>,
    checks: AtomicU64,
}

impl<K: std::hash::Hash + Eq + Clone> Limiter<K> {
    fn new(rate: Rate) -> Self {
        let requests = NonZeroU32::new(rate.requests).unwrap_or(NonZeroU32::MIN);
        let replenish =
            (rate.period / rate.requests.max(1)).max(std::time::Duration::from_nanos(1));
        let quota = Quota::with_period(replenish)
            .unwrap_or_else(|| Quota::per_second(requests))
            .allow_burst(requests);
        Self {
            buckets: RateLimiter::keyed(quota),
            checks: AtomicU64::new(0),
        }
    }

    fn check(&self, key: &K) -> Result<(), ApiError> {
        // Forget full buckets now and then, so that many clients cost no lasting memory.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.buckets.retain_recent();
        }
        self.buckets.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited {
                retry_after_seconds: seconds_rounded_up(wait),
            }
        })
    }
}

/// Every rate limiter of the service.
pub struct RateLimiters {
    by_address: Vec<Option<Limiter<IpAddr>>>,
    by_account: Vec<Option<Limiter<String>>>,
    client_ip_header: Option<HeaderName>,
}

impl RateLimiters {
    /// Limiters for `settings` (none at all when they are off).
    pub fn new(settings: &RateLimits) -> Self {
        let pair = |guarded: Guarded| match guarded {
            Guarded::Login => settings.login,
            Guarded::Register => settings.register,
            Guarded::Password => settings.password,
            Guarded::Payments => settings.payments,
            Guarded::PasswordReset => settings.password_reset,
        };
        let enabled = |rate: Option<Rate>| rate.filter(|_| settings.enabled);
        Self {
            by_address: Guarded::ALL
                .iter()
                .map(|g| enabled(pair(*g).per_address).map(Limiter::new))
                .collect(),
            by_account: Guarded::ALL
                .iter()
                .map(|g| enabled(pair(*g).per_account).map(Limiter::new))
                .collect(),
            client_ip_header: settings
                .client_ip_header
                .as_deref()
                .and_then(|name| HeaderName::try_from(name).ok()),
        }
    }

    /// Counts one request of `guarded` by `account` (a normalised e-mail or a customer id).
    pub fn check_account(&self, guarded: Guarded, account: &str) -> Result<(), ApiError> {
        match &self.by_account[guarded.index()] {
            Some(limiter) => limiter.check(&account.to_owned()),
            None => Ok(()),
        }
    }

    fn check_address(&self, guarded: Guarded, request: &Request) -> Result<(), ApiError> {
        let Some(limiter) = &self.by_address[guarded.index()] else {
            return Ok(());
        };
        match self.client_address(request) {
            Some(address) => limiter.check(&address),
            None => Ok(()),
        }
    }

    /// The client's address: the trusted proxy header's last value when configured, else the
    /// peer. IPv6 clients are counted by their /64, which one subscriber usually holds whole.
    fn client_address(&self, request: &Request) -> Option<IpAddr> {
        let address = match &self.client_ip_header {
            Some(header) => request
                .headers()
                .get(header)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.rsplit(',').next())
                .and_then(|value| value.trim().parse().ok()),
            None => peer_address(request).map(|peer| peer.ip()),
        }?;
        Some(match address {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let mut segments = v6.segments();
                    segments[4..].fill(0);
                    IpAddr::V6(segments.into())
                }
            },
            v4 => v4,
        })
    }
}

/// Middleware: refuses a guarded request over its client address's rate before anything
/// reads its body.
pub async fn limit_by_address(
    State(limiters): State<Arc<RateLimiters>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(guarded) = Guarded::of(request.method(), request.uri().path()) {
        if let Err(refused) = limiters.check_address(guarded, &request) {
            return refused.into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiters(rate: &str) -> RateLimiters {
        let rate = Rate::parse(rate).unwrap();
        let mut settings = crate::config::Limits::default().rates;
        settings.login.per_account = rate;
        RateLimiters::new(&settings)
    }

    #[test]
    fn an_account_gets_its_burst_then_a_retry_after() {
        let limiters = limiters("3/min");
        for _ in 0..3 {
            limiters.check_account(Guarded::Login, "ada").unwrap();
        }
        match limiters.check_account(Guarded::Login, "ada") {
            Err(ApiError::RateLimited {
                retry_after_seconds,
            }) => assert!(
                (1..=20).contains(&retry_after_seconds),
                "{retry_after_seconds}"
            ),
            other => panic!("expected a refusal, got {other:?}"),
        }
        limiters.check_account(Guarded::Login, "grace").unwrap();
        limiters.check_account(Guarded::Register, "ada").unwrap();
    }

    #[test]
    fn off_limits_nothing() {
        let mut settings = crate::config::Limits::default().rates;
        settings.enabled = false;
        let limiters = RateLimiters::new(&settings);
        for _ in 0..1000 {
            limiters.check_account(Guarded::Login, "ada").unwrap();
        }
    }

    #[test]
    fn only_the_guarded_routes_are_limited() {
        assert_eq!(
            Guarded::of(&Method::POST, "/api/auth/login"),
            Some(Guarded::Login)
        );
        assert_eq!(
            Guarded::of(&Method::POST, "/api/payments/confirm/"),
            Some(Guarded::Payments)
        );
        assert_eq!(
            Guarded::of(&Method::POST, "/admin/login"),
            Some(Guarded::Login)
        );
        assert_eq!(Guarded::of(&Method::GET, "/api/auth/login"), None);
        assert_eq!(Guarded::of(&Method::POST, "/api/webhooks/stripe"), None);
    }
}
