//! Building the MIME message and handing it over: to an SMTP server through lettre (STARTTLS or
//! implicit TLS, credentials from `SMTP_URL`), or, without one, to the local mailbox table.

use chrono::Utc;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::SqlitePool;

use super::outbox::{timestamp, OutboxRow};
use super::{MailError, MailSettings};

/// How long one SMTP conversation may take before the attempt counts as failed.
const SMTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// Where messages go.
#[derive(Clone)]
pub enum Transport {
    /// The `mailbox` table of the service's own database (no SMTP server configured).
    Mailbox(SqlitePool),
    /// An SMTP server; `server` is its URL without credentials, for the logs.
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        server: String,
    },
}

impl Transport {
    /// The transport `settings` ask for.
    pub fn from_settings(settings: &MailSettings, pool: &SqlitePool) -> Result<Self, MailError> {
        let Some(url) = &settings.smtp_url else {
            return Ok(Self::Mailbox(pool.clone()));
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Self::Smtp {
            transport,
            server: without_credentials(url.expose()),
        })
    }

    /// Where messages go, safe to log.
    pub fn describe(&self) -> String {
        match self {
            Self::Mailbox(_) => "the local mailbox".to_owned(),
            Self::Smtp { server, .. } => server.clone(),
        }
    }

    /// True for the local mailbox: a hand-over is a write to the service's own database.
    pub fn is_local(&self) -> bool {
        matches!(self, Self::Mailbox(_))
    }

    /// Hands a round's messages over, in order; `Ok` means the server (or the mailbox)
    /// accepted the message. SMTP takes them one conversation at a time while `in_time` says
    /// the round may go on; those never tried are `None`. The local mailbox takes them all in
    /// one transaction: one durable write for the round, and all of it or none.
    pub async fn send_round(
        &self,
        messages: &[(OutboxRow, Message)],
        in_time: impl Fn() -> bool,
    ) -> Vec<Option<Result<(), MailError>>> {
        match self {
            Self::Smtp { transport, .. } => {
                let mut outcomes = Vec::with_capacity(messages.len());
                for (_, message) in messages {
                    if !in_time() {
                        outcomes.push(None);
                        continue;
                    }
                    let sent = transport.send(message.clone()).await;
                    outcomes.push(Some(sent.map(|_| ()).map_err(MailError::from)));
                }
                outcomes
            }
            Self::Mailbox(pool) => match into_mailbox(pool, messages).await {
                Ok(()) => messages.iter().map(|_| Some(Ok(()))).collect(),
                Err(error) => messages
                    .iter()
                    .map(|_| Some(Err(MailError::Mailbox(error.to_string()))))
                    .collect(),
            },
        }
    }
}

/// Writes `messages` into the local mailbox table in one transaction. A second delivery of
/// the same Message-ID (a crash before it was marked sent) keeps the first copy, as a mail
/// server that deduplicates would.
async fn into_mailbox(
    pool: &SqlitePool,
    messages: &[(OutboxRow, Message)],
) -> Result<(), sqlx::Error> {
    let delivered_at = timestamp(Utc::now());
    let mut tx = pool.begin().await?;
    for (row, message) in messages {
        let raw = String::from_utf8_lossy(&message.formatted()).into_owned();
        sqlx::query(
            "INSERT INTO mailbox (message_id, recipient, subject, raw, delivered_at)
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(&row.message_id)
        .bind(&row.recipient)
        .bind(&row.subject)
        .bind(raw)
        .bind(&delivered_at)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// The MIME message for `row`: plain text and HTML alternatives, and the PDF when given.
pub fn build_message(
    settings: &MailSettings,
    row: &OutboxRow,
    pdf: Option<(String, Vec<u8>)>,
) -> Result<Message, MailError> {
    let to = row
        .recipient
        .parse()
        .map_err(|error: lettre::address::AddressError| MailError::Message(error.to_string()))?;
    let alternatives =
        MultiPart::alternative_plain_html(row.text_body.clone(), row.html_body.clone());
    let body = match pdf {
        None => alternatives,
        Some((name, bytes)) => MultiPart::mixed().multipart(alternatives).singlepart(
            Attachment::new(name).body(
                bytes,
                ContentType::parse("application/pdf")
                    .map_err(|error| MailError::Message(error.to_string()))?,
            ),
        ),
    };
    Message::builder()
        .message_id(Some(format!("<{}>", row.message_id)))
        .from(settings.from.clone())
        .to(to)
        .subject(row.subject.clone())
        .multipart(body)
        .map_err(|error| MailError::Message(error.to_string()))
}

/// `url` without its user and password (`smtps://user:pw@host:465` → `smtps://host:465`).
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(unparsable SMTP URL)".to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let tail = tail.split_once('?').map_or(tail, |(path, _)| path);
    format!("{scheme}://{host}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_the_logs() {
        assert_eq!(
            without_credentials("smtps://ada:hunter2@mail.example.com:465"),
            "smtps://mail.example.com:465"
        );
        assert_eq!(
            without_credentials("smtp://u:p%40ss@host:587?tls=required"),
            "smtp://host:587"
        );
    }
}
