//! `/admin/reconciliations`: the reconciliation runs recorded in the log (the operators'
//! `reconciliations` use case), oldest first and paged, each with its window, its counts and
//! the lost events it fed into the inbox.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::access::Operator;
use super::ConsoleFrame;
use crate::http::AppState;
use crate::usecases::operators::reconciliations::{self, RunRecord};

/// Runs on one page.
const PAGE_SIZE: i64 = 50;

#[derive(Deserialize)]
pub struct RunsQuery {
    after: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/reconciliations.html")]
pub struct RunsPage {
    f: ConsoleFrame,
    runs: Vec<RunRecord>,
    next_page: Option<String>,
}

/// `GET /admin/reconciliations?after=`.
pub async fn list(
    _operator: Operator,
    State(state): State<AppState>,
    Query(query): Query<RunsQuery>,
) -> Response {
    let after = query.after.unwrap_or(0).max(0);
    match reconciliations::list(&state.pool, after, PAGE_SIZE).await {
        Ok(page) => RunsPage {
            f: ConsoleFrame::page("Reconciliation runs", "/admin/reconciliations"),
            runs: page.runs,
            next_page: page
                .next_after
                .map(|after| format!("/admin/reconciliations?after={after}")),
        }
        .into_response(),
        Err(error) => {
            tracing::error!(%error, "the console could not read the reconciliation runs");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
