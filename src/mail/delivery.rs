//! The delivery loop: sends the outbox's due messages, records every attempt, backs off
//! exponentially and parks a message after too many failures.
//!
//! A round claims its messages (up to [`BATCH`]) in one write, by pushing their next attempt
//! past the round's longest duration ([`LEASE`]; attempts stop at a quarter of it and the
//! untried are handed back), so two processes on one database never send a message at the
//! same time; a message is marked sent only after the transport accepted it. A crash in
//! between leaves it pending, and the next attempt sends it again with the same Message-ID
//! (the receiving side can tell the copies apart).
//!
//! Once accepted, the message is recorded on the log (`EmailSent`, on the message's own
//! aggregate, keyed by its Message-ID) before the row is marked sent: a crash between the two
//! sends it again, and the second record finds the first and adds nothing — one event per
//! message, whatever happens.
//!
//! The bookkeeping is per round, not per message: one claim, one hand-over to the local
//! mailbox, the records sharing the writer's group commits, one write of the results. Each
//! of those is a durable commit, and the service's commands wait behind them for the disk.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aggregates::mail::{MailMessage, RecordSent};
use chrono::{DateTime, Utc};
use futures::future::join_all;
use lettre::Message;
use projections::WriteGate;
use sqlx::SqlitePool;
use tokio::task::JoinHandle;

use super::outbox::{self, OutboxRow};
use super::reset_mail;
use super::shared_claims::{SharedClaim, SharedClaims};
use super::transport::{build_message, Transport};
use super::{MailError, MailSettings};
use crate::auth::ResetTokens;
use crate::usecases::common::Commands;
use crate::usecases::invoices::InvoiceService;

/// How often the outbox is looked at for due messages, after a round that was not full.
const POLL: Duration = Duration::from_millis(500);

/// The pause after a full round: a backlog drains at up to 80 messages a second, and between
/// rounds the service's commands have the writer to themselves. Without it, a drained backlog
/// of receipts tripled the commands' latency (BENCHMARKS.md, stop 40).
const AFTER_A_FULL_ROUND: Duration = Duration::from_millis(100);

/// Messages taken per round. Small: a round's writes hold the database's write lock while
/// their data reaches the disk, and the service's commands wait behind them. With rounds of
/// 8, a lone client's commands had a p99 of 4.7-6.2 ms, against 6.0-8.9 ms with rounds of 50
/// and 7.6-9.3 ms with rounds of 2 (two runs each; BENCHMARKS.md, stop 40).
const BATCH: i64 = 8;

/// How long a claimed message is left alone by other delivery loops: longer than an attempt.
const LEASE: Duration = Duration::from_secs(120);

/// Sends what the mailer queued.
pub struct Delivery {
    pool: SqlitePool,
    gate: WriteGate,
    settings: MailSettings,
    transport: Transport,
    invoices: Arc<InvoiceService>,
    /// Records each sent message on the log.
    sent: Commands<MailMessage>,
    /// Writes the links into password reset messages ([`Delivery::with_reset_tokens`]).
    reset_tokens: Option<Arc<ResetTokens>>,
    /// With several nodes on PostgreSQL: the claims that keep a message to one node.
    shared: Option<SharedClaims>,
}

impl Delivery {
    /// A delivery loop over `pool`'s outbox, writing in `gate`'s turns.
    pub fn new(
        pool: SqlitePool,
        gate: WriteGate,
        settings: MailSettings,
        invoices: Arc<InvoiceService>,
        sent: Commands<MailMessage>,
    ) -> Result<Self, MailError> {
        let transport = Transport::from_settings(&settings, &pool)?;
        Ok(Self {
            pool,
            gate,
            settings,
            transport,
            invoices,
            sent,
            reset_tokens: None,
            shared: None,
        })
    }

    /// Sends a message only once this node holds it in `claims` (nodes on PostgreSQL).
    pub fn with_shared_claims(mut self, claims: SharedClaims) -> Self {
        self.shared = Some(claims);
        self
    }

    /// Sends password reset messages with links made by `tokens` (without, they wait).
    pub fn with_reset_tokens(mut self, tokens: Arc<ResetTokens>) -> Self {
        self.reset_tokens = Some(tokens);
        self
    }

    /// Runs [`Delivery::run_once`] forever, every [`POLL`].
    pub fn spawn(self: Arc<Self>) -> JoinHandle<()> {
        tracing::info!(transport = %self.transport.describe(), "mail delivery started");
        tokio::spawn(async move {
            loop {
                let pause = match self.run_once().await {
                    // A full round: more are likely due (a burst), so the next comes sooner.
                    Ok(sent) if sent >= BATCH as usize => AFTER_A_FULL_ROUND,
                    Ok(_) => POLL,
                    Err(error) => {
                        tracing::error!(%error, "mail delivery failed; will retry");
                        POLL
                    }
                };
                tokio::time::sleep(pause).await;
            }
        })
    }

    /// One round: an attempt at each due message (up to [`BATCH`]); returns how many were
    /// sent. The round's bookkeeping is a few writes whatever its size: one claim for all its
    /// messages, one hand-over to the local mailbox, the `EmailSent` records sharing the
    /// writer's commits, one write marking the results.
    pub async fn run_once(&self) -> Result<usize, MailError> {
        let now = Utc::now();
        let due = outbox::due(&self.pool, now, BATCH).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let claimed = {
            let _turn = self.gate.turn().await;
            outbox::claim_all(&self.pool, &due, now, now + LEASE).await?
        };
        if claimed.is_empty() {
            return Ok(0);
        }
        let started = Instant::now();
        let mut round = Round::default();
        let mut ready = Vec::with_capacity(claimed.len());
        for row in claimed {
            if let Some(shared) = &self.shared {
                match shared.claim(&row.message_id, LEASE).await? {
                    SharedClaim::Held => {}
                    // This node's copy stays leased and is looked at again after the lease.
                    SharedClaim::HeldElsewhere => continue,
                    SharedClaim::SentAlready => {
                        round.sent.push(row.message_id);
                        continue;
                    }
                }
            }
            match self.prepare(&row).await {
                Ok(message) => ready.push((row, message)),
                Err(error) => round.failed.push((row, error)),
            }
        }
        // Attempts stop well inside the lease, so no other loop takes a message meanwhile.
        let in_time = || started.elapsed() < LEASE / 4;
        // The local mailbox is this database: its write waits for the gate like every other,
        // or a writer meeting its lock would sleep in SQLite's busy handler.
        let turn = if self.transport.is_local() {
            Some(self.gate.turn().await)
        } else {
            None
        };
        let outcomes = self.transport.send_round(&ready, in_time).await;
        drop(turn);
        let mut accepted = Vec::new();
        for ((row, _), outcome) in ready.into_iter().zip(outcomes) {
            match outcome {
                Some(Ok(())) => accepted.push(row),
                Some(Err(error)) => round.failed.push((row, error)),
                None => round.unattempted.push(row.message_id),
            }
        }
        let at = Utc::now();
        // Recorded before the rows are marked: a crash in between records them again, which
        // the aggregate turns into nothing. One that fails stays claimed and is sent and
        // recorded again after the lease. Recorded together, they share the writer's commits.
        let records = join_all(accepted.iter().map(|row| self.record_sent(row, at))).await;
        let mut first_error = None;
        for (row, recorded) in accepted.iter().zip(records) {
            match recorded {
                Ok(()) => round.sent.push(row.message_id.clone()),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        let sent = round.sent.len();
        if let Some(shared) = &self.shared {
            for message_id in &round.sent {
                shared.sent(message_id).await?;
            }
        }
        self.finish(round, at, now).await?;
        match first_error {
            Some(error) => Err(error),
            None => Ok(sent),
        }
    }

    /// Writes a round's results in one transaction: the messages sent, the attempts that
    /// failed, and the messages handed back untried (due again at `due_at`).
    async fn finish(
        &self,
        round: Round,
        at: DateTime<Utc>,
        due_at: DateTime<Utc>,
    ) -> Result<(), MailError> {
        let _turn = self.gate.turn().await;
        let mut tx = self.pool.begin().await?;
        if !round.sent.is_empty() {
            outbox::mark_all_sent(&mut *tx, &round.sent, at).await?;
        }
        for (row, error) in &round.failed {
            self.record_failure(&mut tx, row, error).await?;
        }
        if !round.unattempted.is_empty() {
            outbox::release(&mut *tx, &round.unattempted, due_at).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// `EmailSent` for `row`, once.
    async fn record_sent(&self, row: &OutboxRow, at: DateTime<Utc>) -> Result<(), MailError> {
        let command = RecordSent {
            message_id: row.message_id.clone(),
            customer_id: row.customer_id.clone(),
            kind: row.kind.clone(),
            position: row.position,
            sent_at: at,
        };
        self.sent
            .execute(&row.message_id, command, HashMap::new())
            .await
            .map_err(|error| MailError::Record(error.to_string()))
    }

    /// Builds one message, with its attachment and links.
    async fn prepare(&self, row: &OutboxRow) -> Result<Message, MailError> {
        let pdf = match &row.invoice_id {
            None => None,
            Some(invoice_id) => {
                let bytes = self
                    .invoices
                    .pdf(&row.customer_id, invoice_id)
                    .await
                    .map_err(|error| MailError::Attachment(error.to_string()))?;
                Some((format!("{invoice_id}.pdf"), bytes))
            }
        };
        let row = match &self.reset_tokens {
            Some(tokens) => reset_mail::with_link(&self.pool, tokens, row).await?,
            None if row.kind == super::MailKind::PasswordReset.code() => {
                return Err(MailError::Message(
                    "no reset tokens to write the link".into(),
                ));
            }
            None => row.clone(),
        };
        build_message(&self.settings, &row, pdf)
    }

    /// Schedules the next attempt, or parks the message after the last one.
    async fn record_failure(
        &self,
        tx: &mut sqlx::SqliteConnection,
        row: &OutboxRow,
        error: &MailError,
    ) -> Result<(), MailError> {
        let attempts = u32::try_from(row.attempts)
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let park = attempts >= self.settings.max_attempts;
        let retry_at = Utc::now() + self.settings.retry_delay(attempts);
        if park {
            tracing::error!(message_id = %row.message_id, attempts, %error, "message parked");
        } else {
            tracing::warn!(message_id = %row.message_id, attempts, %error, "message not sent; will retry");
        }
        outbox::mark_failed(
            &mut *tx,
            &row.message_id,
            &error.to_string(),
            retry_at,
            park,
        )
        .await?;
        Ok(())
    }
}

/// What a round did with its messages, written by [`Delivery::finish`].
#[derive(Default)]
struct Round {
    /// Accepted and recorded (or sent by another node already).
    sent: Vec<String>,
    failed: Vec<(OutboxRow, MailError)>,
    /// Claimed but never tried: the round ran out of time.
    unattempted: Vec<String>,
}
