//! Choosing the payment provider for the configured mode (the sandbox, with its webhook
//! delivery and its test clock as business time, or Stripe), and the secrets that sign tokens
//! and webhooks.

use std::net::SocketAddr;
use std::sync::Arc;

use projections::WriteGate;
use rand::distr::Alphanumeric;
use rand::Rng;
use sqlx::{PgPool, SqlitePool};

use super::StartupError;
use crate::config::{Config, Mode, Secret};
use crate::provider::sandbox::outbox::WebhookDelivery;
use crate::provider::sandbox::SandboxProvider;
use crate::provider::stripe::StripeProvider;
use crate::provider::PaymentProvider;
use crate::usecases::clock::Clock;

/// The payment provider for the configured mode; in sandbox mode also the sandbox itself (for
/// its `/sandbox` routes) and the worker that delivers its webhooks.
pub(super) struct ProviderSetup {
    pub(super) provider: Arc<dyn PaymentProvider>,
    pub(super) sandbox: Option<SandboxProvider>,
    pub(super) webhook_delivery: Option<WebhookDelivery>,
}

/// `SANDBOX_WEBHOOK_URL`'s value that turns the sandbox's deliveries off: for harnesses that
/// send the service their own events and want none besides.
const SANDBOX_DELIVERY_OFF: &str = "off";

/// `shared` is the nodes' PostgreSQL database, when they share one: the sandbox lives there
/// then, so that every node sees the same payments, clock and outbox.
pub(super) fn select_provider(
    config: &Config,
    pool: &SqlitePool,
    shared: Option<&PgPool>,
    gate: &WriteGate,
    local_addr: SocketAddr,
    webhook_secret: &Secret,
) -> Result<ProviderSetup, StartupError> {
    match config.mode() {
        Mode::Sandbox => {
            let sandbox = match shared {
                Some(shared) => SandboxProvider::shared(shared.clone()),
                None => SandboxProvider::new(pool.clone()).with_write_gate(gate.clone()),
            };
            let delivery = match config.sandbox_webhook_url.as_deref() {
                Some(off) if off.eq_ignore_ascii_case(SANDBOX_DELIVERY_OFF) => {
                    tracing::warn!(
                        "SANDBOX_WEBHOOK_URL=off: the sandbox keeps its webhooks in its outbox and delivers none"
                    );
                    None
                }
                target => {
                    let target = target.map_or_else(|| own_webhook_url(local_addr), str::to_owned);
                    let delivery = WebhookDelivery::new(
                        sandbox.store().clone(),
                        target,
                        webhook_secret.clone(),
                        sandbox.outbox_wake(),
                    );
                    // On the shared outbox, a node's claim lasts as long as on the shared inbox.
                    Some(match &config.shared_log {
                        Some(settings) => delivery.with_claim(settings.inbox_claim),
                        None => delivery,
                    })
                }
            };
            Ok(ProviderSetup {
                provider: Arc::new(sandbox.clone()),
                sandbox: Some(sandbox),
                webhook_delivery: delivery,
            })
        }
        Mode::StripeTest | Mode::StripeLive => {
            let key = config
                .stripe_secret_key
                .as_ref()
                .expect("Stripe mode has a key");
            let stripe = StripeProvider::new(key, &config.stripe_api_base)?;
            Ok(ProviderSetup {
                provider: Arc::new(stripe),
                sandbox: None,
                webhook_delivery: None,
            })
        }
    }
}

/// The secrets a webhook may be signed with: the configured ones, or in sandbox mode the one
/// generated for this run. In Stripe mode without a secret every webhook is refused.
pub(super) fn verifying_secrets(config: &Config, generated: &Secret) -> Vec<Secret> {
    let configured = config.webhook_secrets();
    if !configured.is_empty() {
        return configured;
    }
    if config.mode() == Mode::Sandbox {
        return vec![generated.clone()];
    }
    tracing::warn!("STRIPE_WEBHOOK_SECRET is not set: every Stripe webhook will be refused");
    Vec::new()
}

/// The sandbox's test clock as business time.
pub(super) struct SandboxClock(pub(super) SandboxProvider);

#[async_trait::async_trait]
impl Clock for SandboxClock {
    async fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0
            .clock_now()
            .await
            .ok()
            .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
            .unwrap_or_else(chrono::Utc::now)
    }
}

/// The configured secret, or (sandbox and test mode only; live mode refuses at config time) a
/// random one for this run.
pub(super) fn jwt_secret(config: &Config) -> String {
    match &config.jwt_secret {
        Some(secret) => secret.expose().to_owned(),
        None => {
            tracing::warn!(
                "JWT_SECRET is not set: using a random secret for this run; tokens will not survive a restart"
            );
            rand::rng()
                .sample_iter(Alphanumeric)
                .take(48)
                .map(char::from)
                .collect()
        }
    }
}

/// The secret the sandbox signs its webhooks with: the first configured one, or a fresh one.
pub(super) fn webhook_signing_secret(config: &Config) -> Secret {
    config
        .webhook_secrets()
        .into_iter()
        .next()
        .unwrap_or_else(|| {
            let random: String = rand::rng()
                .sample_iter(Alphanumeric)
                .take(32)
                .map(char::from)
                .collect();
            Secret::new(format!("whsec_{random}"))
        })
}

/// The service's own webhook endpoint, reachable from this host.
fn own_webhook_url(local_addr: SocketAddr) -> String {
    let host = if local_addr.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        local_addr.ip().to_string()
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    format!("http://{host}:{}/api/webhooks/stripe", local_addr.port())
}
