//! `/sandbox/mail` (sandbox mode only): the mail billstream queued and sent, newest first, and
//! one message with its headers, its plain-text part, its HTML part as escaped source (never
//! rendered: a message's markup must not run inside the portal, nor loosen its CSP) and its
//! attachment (the invoice PDF). The outbox is the source, so queued and parked messages show
//! too, whichever transport delivers them. `Accept: application/json` gets the same as data.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::i18n::Lang;
use super::invoices::pdf_response;
use super::page::{app_error_page, Frame, Nav, Visitor};
use crate::error::AppError;
use crate::http::error::error_response;
use crate::http::AppState;
use crate::mail::outbox::{self, OutboxRow};

/// How many messages the list shows.
const LIST_LIMIT: i64 = 200;

/// The routes under `/sandbox/mail`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sandbox/mail", get(list))
        .route("/sandbox/mail/{id}", get(show))
        .route("/sandbox/mail/{id}/invoice.pdf", get(attachment))
}

/// The pages' words, in the visitor's language.
pub struct Words {
    title: &'static str,
    intro: &'static str,
    empty: &'static str,
    time: &'static str,
    to: &'static str,
    subject: &'static str,
    kind: &'static str,
    status: &'static str,
    attempts: &'static str,
    last_error: &'static str,
    text_part: &'static str,
    html_part: &'static str,
    html_note: &'static str,
    attachment: &'static str,
    back: &'static str,
}

const FR: Words = Words {
    title: "Courriels du bac à sable",
    intro: "Les messages que billstream a mis en file et envoyés, du plus récent au plus ancien.",
    empty: "Aucun message pour l'instant.",
    time: "Date",
    to: "Destinataire",
    subject: "Objet",
    kind: "Type",
    status: "État",
    attempts: "Tentatives",
    last_error: "Dernière erreur",
    text_part: "Texte brut",
    html_part: "HTML (source, non interprétée)",
    html_note: "Le HTML est montré comme source : il n'est jamais exécuté dans le portail.",
    attachment: "Pièce jointe : la facture (PDF)",
    back: "Tous les courriels",
};

const EN: Words = Words {
    title: "Sandbox mail",
    intro: "The messages billstream queued and sent, newest first.",
    empty: "No messages yet.",
    time: "Time",
    to: "To",
    subject: "Subject",
    kind: "Kind",
    status: "Status",
    attempts: "Attempts",
    last_error: "Last error",
    text_part: "Plain text",
    html_part: "HTML (source, not rendered)",
    html_note: "The HTML is shown as source: it never runs inside the portal.",
    attachment: "Attachment: the invoice (PDF)",
    back: "All mail",
};

fn words(lang: Lang) -> &'static Words {
    if lang == Lang::Fr {
        &FR
    } else {
        &EN
    }
}

/// A message as data (the JSON form).
#[derive(Serialize)]
struct MessageJson<'a> {
    message_id: &'a str,
    created_at: &'a str,
    sent_at: Option<&'a str>,
    to: &'a str,
    subject: &'a str,
    kind: &'a str,
    /// `queued` (not sent yet), `sent` or `parked`.
    status: &'static str,
    attempts: i64,
    language: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    html: Option<&'a str>,
    /// The attachment's path, when the message has one.
    attachment: Option<String>,
}

/// The outbox's status in the words the page uses: a pending row is queued.
fn status(row: &OutboxRow) -> &'static str {
    match row.status.as_str() {
        "sent" => "sent",
        "parked" => "parked",
        _ => "queued",
    }
}

fn attachment_path(row: &OutboxRow) -> Option<String> {
    row.invoice_id
        .as_ref()
        .map(|_| format!("/sandbox/mail/{}/invoice.pdf", row.message_id))
}

fn as_json(row: &OutboxRow, with_body: bool) -> MessageJson<'_> {
    MessageJson {
        message_id: &row.message_id,
        created_at: &row.created_at,
        sent_at: row.sent_at.as_deref(),
        to: &row.recipient,
        subject: &row.subject,
        kind: &row.kind,
        status: status(row),
        attempts: row.attempts,
        language: &row.language,
        text: with_body.then_some(row.text_body.as_str()),
        html: with_body.then_some(row.html_body.as_str()),
        attachment: attachment_path(row),
    }
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"))
}

/// A 404 outside sandbox mode, like every `/sandbox` route.
fn sandbox_only(state: &AppState, visitor: &Visitor) -> Option<Response> {
    state
        .sandbox
        .is_none()
        .then(|| app_error_page(visitor, AppError::NotFound))
}

/// One row of the list.
struct Row {
    href: String,
    time: String,
    to: String,
    subject: String,
    kind: String,
    status: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "sandbox_mail.html")]
struct ListPage {
    f: Frame,
    w: &'static Words,
    rows: Vec<Row>,
}

/// `GET /sandbox/mail`.
async fn list(State(state): State<AppState>, visitor: Visitor, headers: HeaderMap) -> Response {
    if let Some(refused) = sandbox_only(&state, &visitor) {
        return refused;
    }
    let rows = match outbox::list(&state.pool, None, LIST_LIMIT).await {
        Ok(rows) => rows,
        Err(error) => return app_error_page(&visitor, AppError::from(error)),
    };
    if wants_json(&headers) {
        let data: Vec<_> = rows.iter().map(|row| as_json(row, false)).collect();
        return Json(serde_json::json!({ "data": data })).into_response();
    }
    let w = words(visitor.lang);
    ListPage {
        f: visitor.frame(w.title, Nav::None),
        w,
        rows: rows
            .iter()
            .map(|row| Row {
                href: format!("/sandbox/mail/{}", row.message_id),
                time: row
                    .sent_at
                    .clone()
                    .unwrap_or_else(|| row.created_at.clone()),
                to: row.recipient.clone(),
                subject: row.subject.clone(),
                kind: row.kind.clone(),
                status: status(row),
            })
            .collect(),
    }
    .into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "sandbox_mail_message.html")]
struct MessagePage {
    f: Frame,
    w: &'static Words,
    row: OutboxRow,
    status: &'static str,
    attachment: Option<String>,
}

/// The message `id`, or the page saying there is none.
async fn find(state: &AppState, visitor: &Visitor, id: &str) -> Result<OutboxRow, Response> {
    if let Some(refused) = sandbox_only(state, visitor) {
        return Err(refused);
    }
    match outbox::find(&state.pool, id).await {
        Ok(Some(row)) => Ok(row),
        Ok(None) => Err(app_error_page(visitor, AppError::NotFound)),
        Err(error) => Err(app_error_page(visitor, AppError::from(error))),
    }
}

/// `GET /sandbox/mail/{id}`.
async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let row = match find(&state, &visitor, &id).await {
        Ok(row) => row,
        Err(response) if wants_json(&headers) => {
            let status = response.status();
            let (code, message) = if status == StatusCode::NOT_FOUND {
                ("not_found", "no such message")
            } else {
                ("internal_error", "an internal error occurred")
            };
            return error_response(status, code, message, None);
        }
        Err(response) => return response,
    };
    if wants_json(&headers) {
        return Json(as_json(&row, true)).into_response();
    }
    let w = words(visitor.lang);
    MessagePage {
        f: visitor.frame(row.subject.clone(), Nav::None),
        w,
        status: status(&row),
        attachment: attachment_path(&row),
        row,
    }
    .into_response()
}

/// `GET /sandbox/mail/{id}/invoice.pdf`: the attached invoice, as the message carries it.
async fn attachment(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Response {
    let row = match find(&state, &visitor, &id).await {
        Ok(row) => row,
        Err(response) => return response,
    };
    let Some(invoice_id) = &row.invoice_id else {
        return app_error_page(&visitor, AppError::NotFound);
    };
    let made = async {
        let invoice = state.invoices.owned(&row.customer_id, invoice_id).await?;
        let bytes = state.invoices.pdf(&row.customer_id, invoice_id).await?;
        Ok::<_, AppError>(pdf_response(bytes, &invoice))
    }
    .await;
    made.unwrap_or_else(|error| app_error_page(&visitor, error))
}
