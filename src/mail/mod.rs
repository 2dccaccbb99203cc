//! E-mail, as a consumer of the event log.
//!
//! The [`Mailer`] is a projection: the projector hands it every event in commit order, under its
//! own checkpoint (`mailer`), and it turns the events a customer must hear about into rows of
//! the durable outbox (`mail_outbox`), each keyed by a Message-ID derived from the event's
//! position — so a restart or a second apply can never queue a message twice, and the
//! checkpoint, written in the same transaction, means none is skipped. The [`Delivery`] loop
//! sends due rows through the [`Transport`] (SMTP, or the local mailbox table when no SMTP
//! server is configured), records each attempt, backs off exponentially and parks a message
//! after [`MailSettings::max_attempts`] failures. A row is marked sent only once the transport
//! accepted it: a crash in between sends it again with the same Message-ID. Each accepted
//! message is recorded on the log (`EmailSent`, on the `MailMessage` aggregate keyed by its
//! Message-ID) before its row is marked, so the record is made once per message.
//!
//! What is sent: invoices (PDF attached, signed link), receipts, refunds, failed payments (a
//! link to pay with another card) and trial reminders (`TrialEndingSoon`, recorded by the trial
//! reminder loop in `usecases/trial_reminders.rs`). With `MAIL_CUSTOMER_EMAILS=stripe` the
//! invoices and receipts are left to Stripe ([`CustomerEmails`]).
//!
//! - `settings.rs`: `SMTP_URL`, `MAIL_FROM` and the rest of the configuration
//! - `outbox.rs`: the outbox table's queries
//! - `mailer.rs`: the projection (events → outbox rows)
//! - `compose.rs`: the messages' words in French and English, rendered by askama templates
//!   (`templates/`)
//! - `reset_mail.rs`: the password reset message, whose link is written in only at sending
//! - `transport.rs`: building the MIME message and handing it to SMTP or the mailbox
//! - `delivery.rs`: the delivery loop
//! - `shared_claims.rs`: with several nodes on PostgreSQL, one node sends each message

mod compose;
mod delivery;
mod mailer;
pub mod outbox;
mod reset_mail;
mod settings;
pub mod shared_claims;
mod transport;

pub use compose::{Composed, MailKind};
pub use delivery::Delivery;
pub use mailer::Mailer;
pub use settings::{CustomerEmails, MailSettings};
pub use transport::Transport;

/// What can go wrong while queueing or sending e-mail.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot render the message: {0}")]
    Template(#[from] askama::Error),
    #[error("cannot build the message: {0}")]
    Message(String),
    #[error("the SMTP server refused or could not be reached: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("cannot attach the invoice: {0}")]
    Attachment(String),
    #[error("cannot record the sent message: {0}")]
    Record(String),
    #[error("the local mailbox did not take the message: {0}")]
    Mailbox(String),
}
