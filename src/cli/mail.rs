//! `billstream mail list|show`: the outbox (every message the mailer queued, its status and
//! attempts) and one message in full — from the local mailbox as it was delivered there, or as
//! queued when it went to an SMTP server.

use clap::{Args, Subcommand};
use serde_json::json;

use crate::config::Config;
use crate::mail::outbox;
use crate::store::pool as db;

/// Inspect the e-mail the service queued and sent.
#[derive(Debug, Args)]
pub struct MailArgs {
    #[command(subcommand)]
    pub command: MailCommand,
}

/// What to show.
#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Print queued messages as JSON lines, newest first (without their bodies).
    List {
        /// Only messages in this status (pending, sent, parked).
        #[arg(long)]
        status: Option<String>,
        /// At most this many messages.
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Print one message: the raw message from the local mailbox, else its queued parts.
    Show {
        /// The Message-ID, without angle brackets.
        message_id: String,
    },
}

/// Runs a mail command.
pub async fn run(config: &Config, args: MailArgs) -> anyhow::Result<()> {
    let pool = db::connect(config).await?;
    db::migrate(&pool).await?;
    match args.command {
        MailCommand::List { status, limit } => {
            for row in outbox::list(&pool, status.as_deref(), limit).await? {
                println!(
                    "{}",
                    json!({
                        "message_id": row.message_id,
                        "position": row.position,
                        "kind": row.kind,
                        "recipient": row.recipient,
                        "subject": row.subject,
                        "status": row.status,
                        "attempts": row.attempts,
                        "next_attempt_at": row.next_attempt_at,
                        "last_error": row.last_error,
                        "created_at": row.created_at,
                        "sent_at": row.sent_at,
                    })
                );
            }
        }
        MailCommand::Show { message_id } => {
            let raw: Option<String> =
                sqlx::query_scalar("SELECT raw FROM mailbox WHERE message_id = ?")
                    .bind(&message_id)
                    .fetch_optional(&pool)
                    .await?;
            if let Some(raw) = raw {
                print!("{raw}");
            } else if let Some(row) = outbox::find(&pool, &message_id).await? {
                println!(
                    "To: {}\nSubject: {}\nStatus: {}\n",
                    row.recipient, row.subject, row.status
                );
                println!("{}", row.text_body);
            } else {
                anyhow::bail!("no message {message_id}");
            }
        }
    }
    Ok(())
}
