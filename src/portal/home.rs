//! `/`: what the service is, and its plans.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::page::{Frame, Nav, Visitor};
use super::plans::{plan_views, PlanView};
use crate::http::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct HomePage {
    f: Frame,
    plans: Vec<PlanView>,
}

/// `GET /`.
pub async fn home(State(state): State<AppState>, visitor: Visitor) -> Response {
    let plans = plan_views(&state, &visitor).await;
    HomePage {
        f: visitor.frame(visitor.t.home_title, Nav::Home),
        plans,
    }
    .into_response()
}
