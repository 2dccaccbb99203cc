//! Builds the service from its configuration: database, projector, provider, HTTP router. Used
//! by `main` and by the integration tests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use projections::{Projector, WriteGate};
use rand::distr::Alphanumeric;
use rand::Rng;
use sqlx::SqlitePool;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::auth::{JwtKeys, PasswordHasher};
use crate::config::Secret;
use crate::config::{Config, Mode};
use crate::http::{router, AppState, WebhookIntake};
use crate::inbox::{EventApplier, Inbox, InboxWorker};
use crate::provider::sandbox::outbox::WebhookDelivery;
use crate::provider::sandbox::SandboxProvider;
use crate::provider::stripe::StripeProvider;
use crate::provider::{PaymentProvider, ProviderError};
use crate::store::group_commit::{GroupCommit, GroupCommitSettings};
use crate::store::{self, pool as db};
use crate::usecases::customers::CustomerService;
use crate::usecases::invoices::InvoiceService;
use crate::usecases::payments::PaymentService;
use crate::usecases::plans::PriceBook;
use crate::usecases::plans::{CatalogError, PlanCatalog};
use crate::usecases::subscriptions::SubscriptionService;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot open the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot set up the payment provider: {0}")]
    Gateway(#[from] ProviderError),
    #[error(transparent)]
    Plans(#[from] CatalogError),
}

/// A built, bound, not yet running service.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    projector: Arc<Projector>,
    pool: SqlitePool,
    /// Delivers the sandbox's webhooks (sandbox mode only).
    webhook_delivery: Option<WebhookDelivery>,
    /// Applies stored Stripe events.
    inbox_worker: InboxWorker,
    /// Runs what falls due on the sandbox's clock as wall time passes (sandbox mode only).
    sandbox: Option<SandboxProvider>,
}

/// How often the sandbox looks for renewals and retries that fell due in real time.
const SANDBOX_CLOCK_POLL: Duration = Duration::from_secs(30);

/// How often the projector looks for events it has not applied (commands also trigger it).
const PROJECTOR_POLL: Duration = Duration::from_secs(1);

impl Application {
    /// Opens and migrates the database, wires every component and binds the listener.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let plans = Arc::new(PlanCatalog::load(config.plans_file.as_deref())?);
        let pool = db::connect(&config).await?;
        db::migrate(&pool).await?;
        let gate = WriteGate::new();
        let writer = GroupCommit::start(
            &pool,
            gate.clone(),
            GroupCommitSettings {
                window: config.database_commit_window,
                ..GroupCommitSettings::default()
            },
        )
        .await?;
        let projector =
            Arc::new(Projector::with_all_projections(pool.clone()).with_write_gate(gate.clone()));
        let listener = TcpListener::bind(config.bind_addr)
            .await
            .map_err(|source| StartupError::Bind {
                addr: config.bind_addr,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| StartupError::Bind {
            addr: config.bind_addr,
            source,
        })?;
        let webhook_secret = webhook_signing_secret(&config);
        let ProviderSetup {
            provider,
            sandbox,
            webhook_delivery,
        } = select_provider(&config, &pool, &gate, local_addr, &webhook_secret)?;
        let jwt = Arc::new(JwtKeys::new(jwt_secret(&config).as_bytes(), config.jwt_ttl));
        let hasher = Arc::new(PasswordHasher::new(config.bcrypt_cost));
        hasher.clone().warm_up();
        let customers = Arc::new(CustomerService::new(
            Arc::new(store::cqrs_for(
                pool.clone(),
                &writer,
                Some(projector.clone()),
                (),
            )),
            pool.clone(),
            provider.clone(),
            hasher,
            projector.clone(),
        ));
        let payment_cqrs = Arc::new(store::cqrs_for(
            pool.clone(),
            &writer,
            Some(projector.clone()),
            (),
        ));
        let payments = Arc::new(PaymentService::new(
            payment_cqrs.clone(),
            pool.clone(),
            provider.clone(),
            projector.clone(),
            sandbox.is_some(),
        ));
        let prices = Arc::new(PriceBook::new(plans.clone(), provider.clone()));
        let subscription_cqrs = Arc::new(store::cqrs_for(
            pool.clone(),
            &writer,
            Some(projector.clone()),
            (),
        ));
        let subscriptions = Arc::new(SubscriptionService::new(
            pool.clone(),
            provider.clone(),
            subscription_cqrs.clone(),
            prices.clone(),
            projector.clone(),
        ));
        let invoices = Arc::new(InvoiceService::new(
            pool.clone(),
            provider,
            Arc::new(store::cqrs_for(
                pool.clone(),
                &writer,
                Some(projector.clone()),
                (),
            )),
            projector.clone(),
        ));
        let inbox = Inbox::new(pool.clone(), writer.clone());
        let inbox_wake = Arc::new(Notify::new());
        let inbox_worker = InboxWorker::new(
            inbox.clone(),
            Arc::new(EventApplier::new(
                pool.clone(),
                payment_cqrs,
                Arc::new(store::cqrs_for(
                    pool.clone(),
                    &writer,
                    Some(projector.clone()),
                    (),
                )),
                subscription_cqrs,
                invoices.clone(),
                prices,
            )),
            inbox_wake.clone(),
        );
        let state = AppState {
            pool: pool.clone(),
            projector: projector.clone(),
            customers,
            payments,
            jwt,
            sandbox: sandbox.clone(),
            subscriptions,
            invoices,
            operator_token: config.operator_token.clone(),
            seller: Arc::new(config.seller.clone()),
            stripe_publishable_key: config.stripe_publishable_key.clone(),
            webhooks: WebhookIntake {
                inbox,
                secrets: Arc::new(verifying_secrets(&config, &webhook_secret)),
                tolerance_seconds: config.stripe_webhook_tolerance_seconds,
                wake: inbox_wake,
            },
            plans,
        };
        let router = router(state, &config.cors_allowed_origins);
        Ok(Self {
            listener,
            router,
            projector,
            pool,
            webhook_delivery,
            inbox_worker,
            sandbox,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then drains in-flight requests.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let addr = self.local_addr();
        let projector_loop = spawn_projector_loop(self.projector.clone());
        let delivery_loop = self.webhook_delivery.map(WebhookDelivery::spawn);
        let inbox_loop = self.inbox_worker.spawn();
        let clock_loop = self.sandbox.map(spawn_sandbox_clock_loop);
        tracing::info!(%addr, "billstream is listening");
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await;
        projector_loop.abort();
        inbox_loop.abort();
        if let Some(delivery_loop) = delivery_loop {
            delivery_loop.abort();
        }
        if let Some(clock_loop) = clock_loop {
            clock_loop.abort();
        }
        self.pool.close().await;
        tracing::info!("billstream stopped");
        served
    }
}

/// The payment provider for the configured mode; in sandbox mode also the sandbox itself (for
/// its `/sandbox` routes) and the worker that delivers its webhooks.
struct ProviderSetup {
    provider: Arc<dyn PaymentProvider>,
    sandbox: Option<SandboxProvider>,
    webhook_delivery: Option<WebhookDelivery>,
}

fn select_provider(
    config: &Config,
    pool: &SqlitePool,
    gate: &WriteGate,
    local_addr: SocketAddr,
    webhook_secret: &Secret,
) -> Result<ProviderSetup, StartupError> {
    match config.mode() {
        Mode::Sandbox => {
            let sandbox = SandboxProvider::new(pool.clone()).with_write_gate(gate.clone());
            let target = config
                .sandbox_webhook_url
                .clone()
                .unwrap_or_else(|| own_webhook_url(local_addr));
            let delivery = WebhookDelivery::new(
                pool.clone(),
                target,
                webhook_secret.clone(),
                sandbox.outbox_wake(),
            );
            Ok(ProviderSetup {
                provider: Arc::new(sandbox.clone()),
                sandbox: Some(sandbox),
                webhook_delivery: Some(delivery),
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
fn verifying_secrets(config: &Config, generated: &Secret) -> Vec<Secret> {
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

/// Catches every projection up at start (events committed while no projector ran) and then
/// keeps polling, so an event whose post-commit catch-up failed is still applied.
fn spawn_projector_loop(projector: Arc<Projector>) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match projector.catch_up().await {
                Ok(0) => {}
                Ok(applied) => tracing::info!(applied, "projections caught up"),
                Err(error) => tracing::error!(%error, "projector catch-up failed; will retry"),
            }
            tokio::time::sleep(PROJECTOR_POLL).await;
        }
    })
}

/// The configured secret, or (sandbox and test mode only; live mode refuses at config time) a
/// random one for this run.
fn jwt_secret(config: &Config) -> String {
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
fn webhook_signing_secret(config: &Config) -> Secret {
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

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; draining requests");
}

/// Lets the sandbox renew and retry as real time passes, as Stripe would.
fn spawn_sandbox_clock_loop(sandbox: SandboxProvider) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(SANDBOX_CLOCK_POLL);
        loop {
            ticks.tick().await;
            if let Err(error) = sandbox.run_due().await {
                tracing::warn!(%error, "the sandbox's billing cycle failed; will retry");
            }
        }
    })
}
