//! The mail configuration, read with the rest of [`Config`](crate::config::Config).
//!
//! | Variable | Default | Meaning |
//! |---|---|---|
//! | `SMTP_URL` | unset: the local mailbox | `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host:465` (implicit TLS), `smtp://host:25` (plain, loopback only) |
//! | `MAIL_FROM` | `billstream <billing@billstream.localhost>` | the sender; its domain ends every Message-ID |
//! | `MAIL_LANGUAGE` | `fr` | the messages' language (`fr` or `en`) for customers who chose none |
//! | `MAIL_RETRY_BASE_MS` | `30000` | the first retry's delay, doubled at each failure (capped at an hour) |
//! | `MAIL_MAX_ATTEMPTS` | `8` | attempts before a message is parked |
//! | `MAIL_CUSTOMER_EMAILS` | `billstream` | who sends invoices and receipts: `billstream`, or `stripe` when Stripe's own customer e-mails are turned on (billstream then queues none of them) |
//! | `MAIL_TRIAL_REMINDER_POLL_MS` | `60000` | how often trials ending within three days are looked for |
//! | `PUBLIC_URL` | `http://` + `BIND_ADDR` (`localhost` for `0.0.0.0`) | the portal's address as customers reach it, for the links in the messages (password resets included) |

use std::net::SocketAddr;
use std::time::Duration;

use lettre::message::Mailbox;

use crate::config::{ConfigError, Secret};
use crate::portal::i18n::Lang;

/// Where and how e-mail is sent.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The SMTP server, credentials included (hence a [`Secret`]); `None` keeps mail in the
    /// local mailbox.
    pub smtp_url: Option<Secret>,
    /// The sender of every message.
    pub from: Mailbox,
    /// The language of the messages.
    pub language: Lang,
    /// The delay before the first retry; each further failure doubles it.
    pub retry_base: Duration,
    /// Failed attempts after which a message is parked.
    pub max_attempts: u32,
    /// Who sends invoices and receipts.
    pub customer_emails: CustomerEmails,
    /// How often trials ending soon are looked for.
    pub trial_reminder_poll: Duration,
    /// The portal's address without a trailing slash (`https://billing.example.com`).
    pub public_url: String,
}

/// Who sends the invoice and receipt e-mails. Stripe can send its own (Dashboard → Settings →
/// Customer emails); when it does, billstream sends none of them, so nobody gets both. The
/// messages only billstream knows about (failed-payment notices with billstream's links, trial
/// reminders) go either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerEmails {
    Billstream,
    Stripe,
}

/// The longest wait between two attempts, whatever the count.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);

impl MailSettings {
    /// Reads the mail variables through `get` (trimmed, empty counts as unset); `bind_addr`
    /// gives `PUBLIC_URL`'s default.
    pub fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
        bind_addr: SocketAddr,
    ) -> Result<Self, ConfigError> {
        let invalid =
            |variable: &'static str, reason: String| ConfigError::Invalid { variable, reason };
        let smtp_url = match get("SMTP_URL") {
            None => None,
            Some(url) if url.starts_with("smtp://") || url.starts_with("smtps://") => {
                Some(Secret::new(url))
            }
            // The value may hold a password: the message must not repeat it.
            Some(_) => return Err(invalid("SMTP_URL", "expected smtp://… or smtps://…".into())),
        };
        let from = get("MAIL_FROM")
            .unwrap_or_else(|| "billstream <billing@billstream.localhost>".into())
            .parse::<Mailbox>()
            .map_err(|error| invalid("MAIL_FROM", error.to_string()))?;
        let language = match get("MAIL_LANGUAGE").as_deref() {
            None | Some("fr") => Lang::Fr,
            Some("en") => Lang::En,
            Some(_) => return Err(invalid("MAIL_LANGUAGE", "expected fr or en".into())),
        };
        let retry_base = match get("MAIL_RETRY_BASE_MS") {
            None => Duration::from_secs(30),
            Some(ms) => ms
                .parse::<u64>()
                .ok()
                .filter(|ms| (1..=3_600_000).contains(ms))
                .map(Duration::from_millis)
                .ok_or_else(|| invalid("MAIL_RETRY_BASE_MS", "expected 1 to 3600000 ms".into()))?,
        };
        let max_attempts = match get("MAIL_MAX_ATTEMPTS") {
            None => 8,
            Some(n) => n
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| invalid("MAIL_MAX_ATTEMPTS", "expected 1 to 100".into()))?,
        };
        // billstream by default in both modes: Stripe sends no invoice or receipt e-mail until
        // someone turns them on in its Dashboard, and whoever does says so here.
        let customer_emails = match get("MAIL_CUSTOMER_EMAILS").as_deref() {
            None | Some("billstream") => CustomerEmails::Billstream,
            Some("stripe") => CustomerEmails::Stripe,
            Some(_) => {
                return Err(invalid(
                    "MAIL_CUSTOMER_EMAILS",
                    "expected billstream or stripe".into(),
                ))
            }
        };
        let trial_reminder_poll = match get("MAIL_TRIAL_REMINDER_POLL_MS") {
            None => Duration::from_secs(60),
            Some(ms) => ms
                .parse::<u64>()
                .ok()
                .filter(|ms| (100..=86_400_000).contains(ms))
                .map(Duration::from_millis)
                .ok_or_else(|| {
                    invalid(
                        "MAIL_TRIAL_REMINDER_POLL_MS",
                        "expected 100 to 86400000 ms".into(),
                    )
                })?,
        };
        let public_url = get("PUBLIC_URL").unwrap_or_else(|| default_public_url(bind_addr));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(invalid(
                "PUBLIC_URL",
                "expected http://… or https://…".into(),
            ));
        }
        Ok(Self {
            smtp_url,
            from,
            language,
            retry_base,
            max_attempts,
            customer_emails,
            trial_reminder_poll,
            public_url: public_url.trim_end_matches('/').to_owned(),
        })
    }

    /// The domain every Message-ID ends with: the sender's.
    pub fn message_id_domain(&self) -> &str {
        self.from.email.domain()
    }

    /// How long to wait after the `attempts`-th failure: the base, doubled each time, capped.
    pub fn retry_delay(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
        self.retry_base.saturating_mul(factor).min(MAX_RETRY_DELAY)
    }
}

/// The address the service listens on, as a browser on the same machine reaches it: an
/// unspecified address (`0.0.0.0`, `::`) is not one a link can point to.
fn default_public_url(bind_addr: SocketAddr) -> String {
    if bind_addr.ip().is_unspecified() {
        format!("http://localhost:{}", bind_addr.port())
    } else {
        format!("http://{bind_addr}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<MailSettings, ConfigError> {
        MailSettings::from_lookup(
            &|name: &str| {
                vars.iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| (*value).to_owned())
            },
            "127.0.0.1:8080".parse().unwrap(),
        )
    }

    #[test]
    fn links_point_at_the_bound_address_unless_public_url_says_otherwise() {
        assert_eq!(settings(&[]).unwrap().public_url, "http://127.0.0.1:8080");
        let anywhere = MailSettings::from_lookup(&|_: &str| None, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(anywhere.unwrap().public_url, "http://localhost:9000");
        let public = settings(&[("PUBLIC_URL", "https://billing.example.com/")]).unwrap();
        assert_eq!(public.public_url, "https://billing.example.com");
        assert!(settings(&[("PUBLIC_URL", "billing.example.com")]).is_err());
    }

    #[test]
    fn defaults_keep_mail_local() {
        let settings = settings(&[]).unwrap();
        assert!(settings.smtp_url.is_none());
        assert_eq!(settings.message_id_domain(), "billstream.localhost");
        assert_eq!(settings.language, Lang::Fr);
    }

    #[test]
    fn a_bad_smtp_url_is_refused_without_repeating_it() {
        let error = settings(&[("SMTP_URL", "http://user:hunter2@host")]).unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
    }

    #[test]
    fn who_sends_customer_emails_is_billstream_unless_told_stripe() {
        assert_eq!(
            settings(&[]).unwrap().customer_emails,
            CustomerEmails::Billstream
        );
        let stripe = settings(&[("MAIL_CUSTOMER_EMAILS", "stripe")]).unwrap();
        assert_eq!(stripe.customer_emails, CustomerEmails::Stripe);
        let error = settings(&[("MAIL_CUSTOMER_EMAILS", "both")]).unwrap_err();
        assert!(
            error.to_string().contains("MAIL_CUSTOMER_EMAILS"),
            "{error}"
        );
    }

    #[test]
    fn retries_double_and_are_capped() {
        let settings = settings(&[("MAIL_RETRY_BASE_MS", "1000")]).unwrap();
        assert_eq!(settings.retry_delay(1), Duration::from_secs(1));
        assert_eq!(settings.retry_delay(3), Duration::from_secs(4));
        assert_eq!(settings.retry_delay(40), MAX_RETRY_DELAY);
    }
}
