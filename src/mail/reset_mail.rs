//! The password reset e-mail. The outbox row holds the message with [`LINK_PLACEHOLDER`] where
//! the link goes: the link carries a token that resets the password, so it is written only
//! into the message handed to the transport, recomputed then from the event's nonce
//! ([`ResetTokens`]); the database (outbox, `billstream mail show`) never holds it.

use aggregates::customer::{Customer, CustomerEvent};
use askama::Template;
use chrono::Utc;
use cqrs_es::Aggregate;
use projections::direct_rows::find;
use projections::{CustomerProfile, ProjectionError, StoredEvent};
use sqlx::SqlitePool;

use super::compose::{Composed, MailKind};
use super::outbox::{self, NewMessage, OutboxRow};
use super::{MailError, MailSettings};
use crate::auth::ResetTokens;
use crate::portal::i18n::Lang;

/// What stands for the link in the stored message (no character HTML escaping would change).
pub const LINK_PLACEHOLDER: &str = "[billstream-password-reset-link]";

/// The plain-text part.
#[derive(Template)]
#[template(path = "mail_password_reset.txt")]
struct TextPart<'a> {
    greeting: &'a str,
    lead: &'a str,
    link: &'a str,
    validity: &'a str,
    ignore: &'a str,
    closing: &'a str,
}

/// The HTML part (askama escapes every value).
#[derive(Template)]
#[template(path = "mail_password_reset.html")]
struct HtmlPart<'a> {
    lang: &'a str,
    greeting: &'a str,
    lead: &'a str,
    button: &'a str,
    link: &'a str,
    validity: &'a str,
    ignore: &'a str,
    closing: &'a str,
}

/// The message for `customer_name`, in `lang`, for a link valid `minutes`.
pub fn compose(customer_name: &str, minutes: i64, lang: Lang) -> Result<Composed, MailError> {
    let fr = lang == Lang::Fr;
    let pick = |fr_text: &str, en_text: &str| if fr { fr_text } else { en_text }.to_owned();
    let greeting = if fr {
        format!("Bonjour {customer_name},")
    } else {
        format!("Hello {customer_name},")
    };
    let lead = pick(
        "Vous avez demandé à changer le mot de passe de votre compte. Choisissez-en un nouveau en suivant ce lien :",
        "You asked to change the password of your account. Choose a new one by following this link:",
    );
    let validity = if fr {
        format!("Le lien fonctionne une seule fois, pendant {minutes} minutes.")
    } else {
        format!("The link works once, for {minutes} minutes.")
    };
    let ignore = pick(
        "Si vous n'avez rien demandé, ignorez ce message : votre mot de passe reste le même.",
        "If you did not ask for this, ignore this message: your password stays the same.",
    );
    let closing = pick("Bien cordialement,", "Kind regards,");
    Ok(Composed {
        subject: pick(
            "Choisissez un nouveau mot de passe",
            "Choose a new password",
        ),
        text: TextPart {
            greeting: &greeting,
            lead: &lead,
            link: LINK_PLACEHOLDER,
            validity: &validity,
            ignore: &ignore,
            closing: &closing,
        }
        .render()?,
        html: HtmlPart {
            lang: lang.code(),
            greeting: &greeting,
            lead: &lead,
            button: &pick("Choisir un nouveau mot de passe", "Choose a new password"),
            link: LINK_PLACEHOLDER,
            validity: &validity,
            ignore: &ignore,
            closing: &closing,
        }
        .render()?,
    })
}

/// Queues the message a `PasswordResetRequested` calls for (other customer events: none), in
/// the customer's language, else `settings`'.
pub fn queue(
    db: &rusqlite::Connection,
    event: &StoredEvent,
    settings: &MailSettings,
) -> Result<(), ProjectionError> {
    if event.aggregate_type != Customer::TYPE || event.event_type != "PasswordResetRequested" {
        return Ok(());
    }
    let CustomerEvent::PasswordResetRequested {
        expires_at,
        requested_at,
        ..
    } = event.decode::<CustomerEvent>()?
    else {
        return Ok(());
    };
    let Some(customer) = find::<CustomerProfile>(db, "id", &event.aggregate_id)? else {
        tracing::error!(
            position = event.position,
            "no customer profile for a password reset"
        );
        return Ok(());
    };
    let language = customer_language(customer.mail_language.as_deref(), settings);
    let minutes = (expires_at - requested_at).num_minutes().max(1);
    let composed = match compose(&customer.name, minutes, language) {
        Ok(composed) => composed,
        Err(error) => {
            tracing::error!(position = event.position, %error, "cannot compose a message");
            return Ok(());
        }
    };
    let kind = MailKind::PasswordReset;
    let message_id = outbox::message_id(event.position, kind, settings.message_id_domain());
    outbox::queue(
        db,
        &NewMessage {
            message_id: &message_id,
            position: event.position,
            kind,
            customer_id: &customer.id,
            recipient: &customer.email,
            language: language.code(),
            composed: &composed,
            invoice_id: None,
            at: Utc::now(),
        },
    )?;
    Ok(())
}

/// The customer's chosen language, else the service's.
pub fn customer_language(chosen: Option<&str>, settings: &MailSettings) -> Lang {
    chosen.and_then(Lang::from_tag).unwrap_or(settings.language)
}

/// `row` with the reset link in place of [`LINK_PLACEHOLDER`], recomputed from the nonce of
/// the event the message came from; other messages are returned as they are.
pub async fn with_link(
    pool: &SqlitePool,
    tokens: &ResetTokens,
    row: &OutboxRow,
) -> Result<OutboxRow, MailError> {
    if row.kind != MailKind::PasswordReset.code() {
        return Ok(row.clone());
    }
    let payload: String = sqlx::query_scalar(
        "SELECT payload FROM events WHERE position = ? AND aggregate_type = ? AND aggregate_id = ?",
    )
    .bind(row.position)
    .bind(Customer::TYPE)
    .bind(&row.customer_id)
    .fetch_one(pool)
    .await?;
    let Ok(CustomerEvent::PasswordResetRequested { reset_id, .. }) =
        serde_json::from_str::<CustomerEvent>(&payload)
    else {
        return Err(MailError::Message(
            "the event of a password reset message is not a reset request".into(),
        ));
    };
    let link = tokens.link(&row.customer_id, &reset_id);
    let mut row = row.clone();
    row.text_body = row.text_body.replace(LINK_PLACEHOLDER, &link);
    row.html_body = row.html_body.replace(LINK_PLACEHOLDER, &link);
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_holds_a_placeholder_not_a_link() {
        let en = compose("Ada <b>", 30, Lang::En).unwrap();
        assert_eq!(en.subject, "Choose a new password");
        assert!(en.text.contains(LINK_PLACEHOLDER) && en.html.contains(LINK_PLACEHOLDER));
        assert!(en.text.contains("for 30 minutes"));
        assert!(!en.html.contains("<b>"));
        let fr = compose("Ada", 30, Lang::Fr).unwrap();
        assert!(fr.text.contains("pendant 30 minutes"), "{}", fr.text);
    }
}
