//! The delivery loop: sends the outbox's due messages, records every attempt, backs off
//! exponentially and parks a message after too many failures.
//!
//! A message is claimed for one attempt by pushing its next attempt past the attempt's longest
//! duration, so two processes on one database never send it at the same time; it is marked sent
//! only after the transport accepted it. A crash in between leaves it pending, and the next
//! attempt sends it again with the same Message-ID (the receiving side can tell the copies apart).
//!
//! Once accepted, the message is recorded on the log (`EmailSent`, on the message's own
//! aggregate, keyed by its Message-ID) before the row is marked sent: a crash between the two
//! sends it again, and the second record finds the first and adds nothing — one event per
//! message, whatever happens.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aggregates::mail::{MailMessage, RecordSent};
use chrono::{DateTime, Utc};
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

/// How often the outbox is looked at for due messages.
const POLL: Duration = Duration::from_millis(500);

/// Messages taken per look.
const BATCH: i64 = 50;

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
                if let Err(error) = self.run_once().await {
                    tracing::error!(%error, "mail delivery failed; will retry");
                }
                tokio::time::sleep(POLL).await;
            }
        })
    }

    /// One attempt at every due message; returns how many were sent.
    pub async fn run_once(&self) -> Result<usize, MailError> {
        let mut sent = 0;
        for message_id in outbox::due(&self.pool, Utc::now(), BATCH).await? {
            let now = Utc::now();
            let claimed = {
                let _turn = self.gate.turn().await;
                outbox::claim(&self.pool, &message_id, now, now + LEASE).await?
            };
            let Some(row) = claimed else { continue };
            if let Some(shared) = &self.shared {
                match shared.claim(&row.message_id, LEASE).await? {
                    SharedClaim::Held => {}
                    // This node's copy stays leased and is looked at again after the lease.
                    SharedClaim::HeldElsewhere => continue,
                    SharedClaim::SentAlready => {
                        let _turn = self.gate.turn().await;
                        outbox::mark_sent(&self.pool, &row.message_id, Utc::now()).await?;
                        continue;
                    }
                }
            }
            match self.attempt(&row).await {
                Ok(()) => {
                    let at = Utc::now();
                    // Recorded before the row is marked: a crash in between records it again,
                    // which the aggregate turns into nothing. On failure the row stays claimed
                    // and is sent and recorded again after the lease.
                    self.record_sent(&row, at).await?;
                    if let Some(shared) = &self.shared {
                        shared.sent(&row.message_id).await?;
                    }
                    let _turn = self.gate.turn().await;
                    outbox::mark_sent(&self.pool, &row.message_id, at).await?;
                    sent += 1;
                }
                Err(error) => {
                    let _turn = self.gate.turn().await;
                    self.record_failure(&row, &error).await?;
                }
            }
        }
        Ok(sent)
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

    /// Builds and sends one message.
    async fn attempt(&self, row: &OutboxRow) -> Result<(), MailError> {
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
        let message = build_message(&self.settings, &row, pdf)?;
        self.transport.send(&row, &message).await
    }

    /// Schedules the next attempt, or parks the message after the last one.
    async fn record_failure(&self, row: &OutboxRow, error: &MailError) -> Result<(), MailError> {
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
            &self.pool,
            &row.message_id,
            &error.to_string(),
            retry_at,
            park,
        )
        .await?;
        Ok(())
    }
}
