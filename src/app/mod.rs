//! Builds the service from its configuration: database, projector, provider, HTTP router. Used
//! by `main` and by the integration tests.

mod commands;
mod error;
mod loops;
mod providers;
mod shared_log;

pub use error::StartupError;
pub use loops::shutdown_signal;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use aggregates::values::CardNumbers;
use projections::{Projector, Readers, WriteGate};
use sqlx::SqlitePool;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use commands::CommandsFactory;
use loops::{
    spawn_issuing_loop, spawn_projector_loop, spawn_reconcile_loop, spawn_repair_loop,
    spawn_sandbox_clock_loop, spawn_trial_reminder_loop,
};
use providers::{
    jwt_secret, select_provider, verifying_secrets, webhook_signing_secret, ProviderSetup,
    SandboxClock,
};

use crate::auth::{JwtKeys, LoginThrottle, PasswordHasher, ResetTokens, Sessions};
use crate::config::Config;
use crate::http::limits::RateLimiters;
use crate::http::{router, AppState, Services, WebhookIntake};
use crate::inbox::{EventApplier, InboxWorker};
use crate::mail::shared_claims::SharedClaims;
use crate::mail::{Delivery, Mailer};
use crate::portal::links::InvoiceLinks;
use crate::provider::sandbox::outbox::WebhookDelivery;
use crate::provider::sandbox::SandboxProvider;
use crate::store::checkpoints;
use crate::store::group_commit::{GroupCommit, GroupCommitSettings};
use crate::store::lock::{database_path, DatabaseLock};
use crate::store::pool as db;
use crate::usecases::clock::{Clock, SystemClock};
use crate::usecases::customers::CustomerService;
use crate::usecases::invoices::{DocumentSettings, InvoiceService};
use crate::usecases::operators::reconcile::Reconciler;
use crate::usecases::operators::reconcile_objects::ObjectPass;
use crate::usecases::password_reset::PasswordResetService;
use crate::usecases::payments::PaymentService;
use crate::usecases::plans::PlanCatalog;
use crate::usecases::plans::PriceBook;
use crate::usecases::repair::PendingRequestRepair;
use crate::usecases::stats::StatsService;
use crate::usecases::subscriptions::SubscriptionService;
use crate::usecases::trial_reminders::TrialReminders;

/// Read-only connections (`projections::Readers`): tokens, history, loads, inbox lookups.
const HOT_READERS: usize = 4;

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
    /// Completes requests whose provider answer was lost.
    repair: Arc<PendingRequestRepair>,
    /// Issues the documents of finalized invoices that have none yet.
    invoices: Arc<InvoiceService>,
    /// How long a client may take to send its request headers.
    header_timeout: std::time::Duration,
    /// Sends the e-mail the mailer queued.
    mail_delivery: Arc<Delivery>,
    /// Records the reminders of trials ending soon, every `trial_reminder_poll`.
    trial_reminders: TrialReminders,
    trial_reminder_poll: std::time::Duration,
    /// This server's share of the database file: `billstream restore` waits for it.
    database_lock: Option<DatabaseLock>,
    /// The scheduled reconciliation with the provider and its interval (`RECONCILE_INTERVAL`).
    reconcile: Option<(Arc<Reconciler>, std::time::Duration)>,
    /// On PostgreSQL, the shared log and this node's copy of it (the projector holds it weakly).
    shared_log: Option<crate::store::log_repository::SharedLog>,
}

impl Application {
    /// Opens and migrates the database, wires every component and binds the listener.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let plans = Arc::new(PlanCatalog::load(config.plans_file.as_deref())?);
        let database_lock = database_path(&config.database_url)?
            .map(|path| DatabaseLock::shared(&path))
            .transpose()?;
        let pool = db::connect(&config).await?;
        db::migrate(&pool).await?;
        let gate = WriteGate::new();
        let secret = jwt_secret(&config);
        let invoice_links = Arc::new(InvoiceLinks::new(secret.as_bytes()));
        // The mailer comes last, so the read models it reads already hold the batch it applies.
        let mailer = Mailer::new(
            config.mail.clone(),
            config.seller.clone(),
            invoice_links.clone(),
            plans.clone(),
        );
        let readers = Readers::open(pool.clone(), HOT_READERS)?;
        let projector = Arc::new(
            Projector::with_all_projections(pool.clone())
                .with_projection(Arc::new(mailer))
                .with_write_gate(gate.clone())
                .with_readers(readers.clone()),
        );
        // Each batch of appends brings the views up to date in its own transaction.
        let writer = GroupCommit::start_with_views(
            &pool,
            gate.clone(),
            GroupCommitSettings {
                window: config.database_commit_window,
                ..GroupCommitSettings::default()
            },
            projector.clone(),
        )
        .await?
        .with_readers(readers.clone());
        let (writer, shared_log) = match &config.shared_log {
            None => (writer, None),
            Some(settings) => {
                let shared = shared_log::open(settings, &pool, &writer, &projector).await?;
                (writer.with_shared_log(shared.clone()), Some(shared))
            }
        };
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
        } = select_provider(
            &config,
            &pool,
            shared_log.as_ref().map(|shared| &shared.pool),
            &gate,
            local_addr,
            &webhook_secret,
        )?;
        let jwt = Arc::new(JwtKeys::new(secret.as_bytes(), config.jwt_ttl));
        let reset_tokens = Arc::new(ResetTokens::new(secret.as_bytes(), &config.mail.public_url));
        let hasher = Arc::new(PasswordHasher::new(config.bcrypt_cost));
        hasher.clone().warm_up();
        let card_numbers = if sandbox.is_some() {
            CardNumbers::Accepted
        } else {
            CardNumbers::Refused
        };
        let commands = CommandsFactory {
            pool: &pool,
            writer: &writer,
            projector: &projector,
        };
        let password_resets = Arc::new(PasswordResetService::new(
            commands.make(),
            pool.clone(),
            hasher.clone(),
            reset_tokens.clone(),
            config.password_reset.ttl,
        ));
        let customers = Arc::new(CustomerService::new(
            commands.make(),
            pool.clone(),
            provider.clone(),
            hasher,
        ));
        let mut payments = PaymentService::new(
            commands.make(),
            pool.clone(),
            provider.clone(),
            card_numbers,
        )
        .with_readers(readers.clone());
        if let Some(shared) = &shared_log {
            payments = payments.with_shared_client_keys(shared.pool.clone());
        }
        let payments = Arc::new(payments);
        let prices = Arc::new(PriceBook::new(plans.clone(), provider.clone()));
        let subscriptions = Arc::new(SubscriptionService::new(
            pool.clone(),
            provider.clone(),
            commands.make(),
            prices.clone(),
            card_numbers,
        ));
        let reconcile_provider = provider.clone();
        let invoices = Arc::new(InvoiceService::new(
            pool.clone(),
            provider,
            commands.make(),
            card_numbers,
            DocumentSettings {
                seller: Arc::new(config.seller.clone()),
                language: config.mail.language.documents(),
                gate: gate.clone(),
            },
        ));
        let issuing = invoices.clone();
        let mut delivery = Delivery::new(
            pool.clone(),
            gate.clone(),
            config.mail.clone(),
            invoices.clone(),
            commands.make(),
        )?
        .with_reset_tokens(reset_tokens);
        // Unique per process: two hosts may both listen on 0.0.0.0:8080.
        let node = format!("{local_addr}/{}", uuid::Uuid::new_v4());
        if let Some(shared) = &shared_log {
            delivery =
                delivery.with_shared_claims(SharedClaims::new(shared.pool.clone(), node.clone()));
        }
        let mail_delivery = Arc::new(delivery);
        let repair = Arc::new(PendingRequestRepair::new(
            pool.clone(),
            payments.clone(),
            subscriptions.clone(),
            commands.make(),
        ));
        let clock: Arc<dyn Clock> = match &sandbox {
            Some(sandbox) => Arc::new(SandboxClock(sandbox.clone())),
            None => Arc::new(SystemClock),
        };
        let trial_reminders = TrialReminders::new(pool.clone(), commands.make(), clock.clone());
        let stats = Arc::new(StatsService::new(pool.clone(), clock));
        let inbox = shared_log::open_inbox(&shared_log, &config, node, &pool, &writer).await?;
        let inbox_wake = Arc::new(Notify::new());
        let inbox_worker = InboxWorker::new(
            inbox.clone(),
            Arc::new(EventApplier::new(
                readers.clone(),
                Arc::new(commands.cqrs_without_catch_up()),
                Arc::new(commands.cqrs_without_catch_up()),
                Arc::new(commands.cqrs_without_catch_up()),
                invoices.clone(),
                prices.clone(),
            )),
            projector.clone(),
            inbox_wake.clone(),
        );
        let reconcile = config.reconcile.interval.map(|interval| {
            let runs = Arc::new(commands.cqrs());
            let objects = ObjectPass::new(
                pool.clone(),
                reconcile_provider.clone(),
                Arc::new(commands.cqrs()),
                Arc::new(commands.cqrs()),
                Arc::new(commands.cqrs()),
                prices,
            );
            let reconciler = Reconciler::new(
                reconcile_provider,
                inbox.clone(),
                runs,
                Some(inbox_wake.clone()),
            )
            .with_objects(objects);
            (Arc::new(reconciler), interval)
        });
        let mut login_throttle = LoginThrottle::new(pool.clone(), config.limits.lockout);
        if let Some(shared) = &shared_log {
            login_throttle = login_throttle.shared(shared.pool.clone());
        }
        let state = AppState::new(Services {
            pool: pool.clone(),
            shared_log: shared_log.as_ref().map(|shared| shared.pool.clone()),
            projector: projector.clone(),
            rebuilds: Arc::new(crate::usecases::operators::rebuilds::RebuildJobs::new(
                projector.clone(),
            )),
            customers,
            password_resets,
            payments,
            sessions: Arc::new(Sessions::new(jwt.clone(), readers, commands.make())),
            jwt,
            limiters: Arc::new(RateLimiters::new(&config.limits.rates)),
            login_throttle: Arc::new(login_throttle),
            sandbox: sandbox.clone(),
            subscriptions,
            invoices,
            stats,
            operator_token: config.operator_token.clone(),
            seller: Arc::new(config.seller.clone()),
            invoice_links,
            stripe_publishable_key: config.stripe_publishable_key.clone(),
            webhooks: WebhookIntake {
                inbox,
                secrets: Arc::new(verifying_secrets(&config, &webhook_secret)),
                tolerance_seconds: config.stripe_webhook_tolerance_seconds,
                wake: inbox_wake,
            },
            plans,
        });
        let router = router(
            state,
            &config.cors_allowed_origins,
            config.limits.body_timeout,
        );
        Ok(Self {
            listener,
            router,
            projector,
            pool,
            webhook_delivery,
            inbox_worker,
            sandbox,
            repair,
            invoices: issuing,
            header_timeout: config.limits.header_timeout,
            mail_delivery,
            trial_reminders,
            trial_reminder_poll: config.mail.trial_reminder_poll,
            database_lock,
            reconcile,
            shared_log,
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
        // Held until the pool is closed, at the end of this function.
        let _database_lock = self.database_lock;
        let projector_loop = spawn_projector_loop(self.projector.clone());
        let checkpoint_loop = checkpoints::spawn_checkpointer(
            self.pool.clone(),
            checkpoints::signal_for(self.pool.connect_options().get_filename()),
        );
        let follow_loop = self.shared_log.as_ref().map(|shared| {
            shared_log::spawn_follow_loop(self.projector.clone(), shared.pool.clone())
        });
        let delivery_loop = self.webhook_delivery.map(WebhookDelivery::spawn);
        let inbox_loop = self.inbox_worker.spawn();
        let clock_loop = self.sandbox.map(spawn_sandbox_clock_loop);
        let repair_loop = spawn_repair_loop(self.repair);
        let issuing_loop = spawn_issuing_loop(self.invoices);
        let mail_loop = self.mail_delivery.spawn();
        let reminder_loop =
            spawn_trial_reminder_loop(self.trial_reminders, self.trial_reminder_poll);
        let reconcile_loop = self.reconcile.map(|(reconciler, interval)| {
            spawn_reconcile_loop(reconciler, self.pool.clone(), interval)
        });
        tracing::info!(%addr, "billstream is listening");
        let served =
            crate::http::server::serve(self.listener, self.router, self.header_timeout, shutdown)
                .await;
        projector_loop.abort();
        checkpoint_loop.abort();
        inbox_loop.abort();
        repair_loop.abort();
        issuing_loop.abort();
        mail_loop.abort();
        reminder_loop.abort();
        if let Some(delivery_loop) = delivery_loop {
            delivery_loop.abort();
        }
        for optional_loop in [clock_loop, reconcile_loop, follow_loop]
            .into_iter()
            .flatten()
        {
            optional_loop.abort();
        }
        self.pool.close().await;
        tracing::info!("billstream stopped");
        served
    }
}
