//! `/admin/events`: the event log, filtered (event type, aggregate type and id, commit time
//! span) and paged in commit order; a customer asked for goes to `/admin/customers/{id}`, that
//! customer's timeline (the operators' timeline use case), which the log's customer events
//! link to.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use projections::EventFilter;
use serde::Deserialize;

use super::access::Operator;
use super::ConsoleFrame;
use crate::error::AppError;
use crate::http::AppState;
use crate::portal::forms::encode;
use crate::portal::page::redirect;
use crate::usecases::operators::event_log::{self, LogEntry};
use crate::usecases::operators::timeline::{customer_timeline, TimelineEntry};

/// Events on one page.
const PAGE_SIZE: i64 = 50;

/// The filter form's fields, as sent (an empty field filters nothing).
#[derive(Deserialize, Default)]
pub struct LogQuery {
    #[serde(default)]
    event_type: String,
    #[serde(default)]
    aggregate_type: String,
    #[serde(default)]
    aggregate_id: String,
    #[serde(default)]
    customer: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    until: String,
    after: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/events.html")]
pub struct LogPage {
    f: ConsoleFrame,
    q: LogQuery,
    entries: Vec<LogEntry>,
    next_page: Option<String>,
    message: String,
}

/// A time typed in the form (`2026-11-30`, `2026-11-30T12:00` as a `datetime-local` field
/// sends it, or RFC 3339), read as UTC, in the log's own text form.
fn log_time(raw: &str) -> Option<String> {
    let time = DateTime::parse_from_rfc3339(raw)
        .map(|time| time.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
                .ok()
                .map(|time| time.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .and_then(|date| date.and_hms_opt(0, 0, 0))
                .map(|time| time.and_utc())
        })?;
    Some(time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
}

/// `Some(value)` for a filled field.
fn given(value: &str) -> Option<String> {
    Some(value.trim().to_owned()).filter(|value| !value.is_empty())
}

/// `GET /admin/events?…`.
pub async fn log(
    _operator: Operator,
    State(state): State<AppState>,
    Query(q): Query<LogQuery>,
) -> Response {
    if let Some(customer) = given(&q.customer) {
        return redirect(&format!("/admin/customers/{}", encode(&customer)));
    }
    let mut message = String::new();
    let mut time = |raw: &str, name: &str| {
        let raw = given(raw)?;
        let parsed = log_time(&raw);
        if parsed.is_none() {
            message =
                format!("{name}: {raw:?} is not a time (2026-11-30 or 2026-11-30T12:00, UTC).");
        }
        parsed
    };
    let filter = EventFilter {
        aggregate_type: given(&q.aggregate_type),
        aggregate_id: given(&q.aggregate_id),
        event_type: given(&q.event_type),
        recorded_from: time(&q.from, "From"),
        recorded_until: time(&q.until, "Until"),
    };
    let status = if message.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = if message.is_empty() {
        match event_log::page(&state.pool, &filter, q.after.unwrap_or(0).max(0), PAGE_SIZE).await {
            Ok(page) => page,
            Err(error) => {
                tracing::error!(%error, "the console could not read the event log");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        }
    } else {
        event_log::LogPage {
            entries: Vec::new(),
            next_after: None,
        }
    };
    let next_page = page.next_after.map(|after| {
        format!(
            "/admin/events?event_type={}&aggregate_type={}&aggregate_id={}&from={}&until={}&after={after}",
            encode(&q.event_type),
            encode(&q.aggregate_type),
            encode(&q.aggregate_id),
            encode(&q.from),
            encode(&q.until),
        )
    });
    let page = LogPage {
        f: ConsoleFrame::page("Event log", "/admin/events"),
        q,
        entries: page.entries,
        next_page,
        message,
    };
    (status, page).into_response()
}

#[derive(Deserialize)]
pub struct TimelineQuery {
    after: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/timeline.html")]
pub struct TimelinePage {
    f: ConsoleFrame,
    customer_id: String,
    entries: Vec<TimelineEntry>,
    next_page: Option<String>,
}

/// `GET /admin/customers/{id}`: the customer's timeline, a page at a time.
pub async fn timeline(
    _operator: Operator,
    State(state): State<AppState>,
    Path(customer_id): Path<String>,
    Query(query): Query<TimelineQuery>,
) -> Response {
    let after = query.after.unwrap_or(0).max(0);
    match customer_timeline(&state.pool, &customer_id, after, PAGE_SIZE).await {
        Ok(page) => TimelinePage {
            f: ConsoleFrame::page(format!("Customer {customer_id}"), "/admin/events"),
            next_page: page
                .next_after
                .map(|after| format!("/admin/customers/{}?after={after}", encode(&customer_id))),
            customer_id,
            entries: page.entries,
        }
        .into_response(),
        Err(AppError::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(error) => {
            tracing::error!(%error, "the console could not read a customer's timeline");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_times_read_as_utc_in_the_logs_text_form() {
        assert_eq!(
            log_time("2026-11-30").as_deref(),
            Some("2026-11-30T00:00:00.000Z")
        );
        assert_eq!(
            log_time("2026-11-30T12:05").as_deref(),
            Some("2026-11-30T12:05:00.000Z")
        );
        assert_eq!(
            log_time("2026-11-30T13:05:00+01:00").as_deref(),
            Some("2026-11-30T12:05:00.000Z")
        );
        assert_eq!(log_time("yesterday"), None);
    }
}
