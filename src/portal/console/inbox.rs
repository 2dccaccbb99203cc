//! `/admin/inbox`: the stored Stripe events, filtered by status and paged in arrival order,
//! each with its attempts and last error; `POST /admin/inbox/{event_id}/retry` puts one back
//! in the queue through the operators' inbox use case (the worker then applies it).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::access::Operator;
use super::ConsoleFrame;
use crate::http::AppState;
use crate::inbox::{InboxEntry, InboxStatus, Retry};
use crate::portal::forms::encode;
use crate::portal::page::redirect;
use crate::usecases::operators::inbox;

/// Events on one page.
const PAGE_SIZE: i64 = 50;

#[derive(Deserialize)]
pub struct InboxQuery {
    status: Option<String>,
    after: Option<i64>,
    /// The event just queued again (said once at the top of the page).
    retried: Option<String>,
    /// The event found already applied.
    applied: Option<String>,
}

/// A choice of the status filter.
pub struct StatusChoice {
    value: &'static str,
    selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/inbox.html")]
pub struct InboxPage {
    f: ConsoleFrame,
    statuses: Vec<StatusChoice>,
    status: String,
    entries: Vec<InboxEntry>,
    next_page: Option<String>,
    notice: String,
}

/// `GET /admin/inbox?status=&after=`.
pub async fn list(
    _operator: Operator,
    State(state): State<AppState>,
    Query(query): Query<InboxQuery>,
) -> Response {
    // An unknown status reads as "every status": the filter is a select, not free text.
    let status = query.status.as_deref().and_then(InboxStatus::parse);
    let status_name = status.map_or("", |status| status.as_str());
    let page = match inbox::list(
        &state.webhooks.inbox,
        status,
        query.after.unwrap_or(0).max(0),
        PAGE_SIZE,
    )
    .await
    {
        Ok(page) => page,
        Err(error) => {
            tracing::error!(%error, "the console could not read the inbox");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let notice = match (&query.retried, &query.applied) {
        (Some(id), _) => format!("{id} is queued again; the worker applies it within a moment."),
        (None, Some(id)) => format!("{id} is applied already; there is nothing to retry."),
        (None, None) => String::new(),
    };
    InboxPage {
        f: ConsoleFrame::page("Webhook inbox", "/admin/inbox"),
        statuses: InboxStatus::ALL
            .iter()
            .map(|choice| StatusChoice {
                value: choice.as_str(),
                selected: Some(*choice) == status,
            })
            .collect(),
        status: status_name.to_owned(),
        entries: page.entries,
        next_page: page
            .next_after
            .map(|after| format!("/admin/inbox?status={status_name}&after={after}")),
        notice,
    }
    .into_response()
}

/// `POST /admin/inbox/{event_id}/retry`: queues the event again and goes back to the inbox.
pub async fn retry(
    _operator: Operator,
    State(state): State<AppState>,
    Path(event_id): Path<String>,
) -> Response {
    let intake = &state.webhooks;
    match inbox::retry(&intake.inbox, &intake.wake, &event_id).await {
        Ok(Retry::AlreadyApplied) => {
            redirect(&format!("/admin/inbox?applied={}", encode(&event_id)))
        }
        Ok(Retry::Queued | Retry::Unknown) => {
            redirect(&format!("/admin/inbox?retried={}", encode(&event_id)))
        }
        Err(crate::error::AppError::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, "the console could not queue an inbox event again");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
