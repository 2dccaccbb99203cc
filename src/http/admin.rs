//! `/api/admin/*`: the operators' API, behind `OPERATOR_TOKEN` (compared in constant time; the
//! whole API answers 404 when no token is configured). Invoices and figures here; a customer's
//! timeline, the webhook inbox, the projections' health and their rebuilds (`rebuilds`) and the
//! reconciliation runs in the submodules, with the checks of their list parameters (`query`).

mod health;
mod inbox;
mod query;
mod rebuilds;
mod reconciliations;
mod timeline;

use std::collections::BTreeMap;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use projections::AsOf;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody};
use super::extract::{IdempotencyKey, IdempotencyKeyHeader, RequestId};
use super::invoices::{CreateBody, InvoiceBody};
use super::json::ApiJson;
use super::AppState;
use crate::error::AppError;
use subtle::ConstantTimeEq;

/// The routes under `/api/admin`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_invoice))
        .routes(routes!(stats))
        .routes(routes!(timeline::timeline))
        .routes(routes!(inbox::list))
        .routes(routes!(inbox::show))
        .routes(routes!(inbox::retry))
        .routes(routes!(health::projections))
        .routes(routes!(rebuilds::rebuild))
        .routes(routes!(rebuilds::job))
        .routes(routes!(reconciliations::list))
}

/// A request that carries the operator token.
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(expected) = &state.operator_token else {
            return Err(AppError::NotFound.into());
        };
        let given = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or_default();
        if bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes())) {
            Ok(Operator)
        } else {
            Err(AppError::Unauthenticated.into())
        }
    }
}

/// Creates an invoice for any customer (same body and answer as `/api/invoices/create`).
#[utoipa::path(post, path = "/customers/{customer_id}/invoices", tag = "admin",
    security(("operator_token" = [])),
    params(("customer_id" = String, Path, description = "The customer's id"), IdempotencyKeyHeader),
    request_body = CreateBody,
    responses(
        (status = 201, description = "The invoice", body = InvoiceBody),
        (status = 409, description = "`idempotency_key_reused` or `conflict`", body = ErrorBody),
        (status = 502, description = "`payment_provider_error`", body = ErrorBody),
    ))]
async fn create_invoice(
    _operator: Operator,
    State(state): State<AppState>,
    request_id: RequestId,
    IdempotencyKey(idempotency_key): IdempotencyKey,
    Path(customer_id): Path<String>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<InvoiceBody>), ApiError> {
    let row = state
        .invoices
        .create(
            &customer_id,
            body.into_request(idempotency_key),
            request_id.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Revenue of one month, minor units (payments less their refunds, paid invoices less the
/// credit notes refunded on them).
#[derive(Serialize, ToSchema)]
struct MonthRevenue {
    /// `YYYY-MM`.
    month: String,
    invoices: i64,
    payments: i64,
    refunds: i64,
    /// Credit notes refunded on paid invoices, in the month of the note.
    credit_notes: i64,
    net: i64,
}

/// The figures of one currency.
#[derive(Serialize, ToSchema)]
struct CurrencyFigures {
    currency: String,
    /// Monthly recurring revenue of active and past-due subscriptions, minor units.
    mrr: i64,
    revenue_by_month: Vec<MonthRevenue>,
}

/// A count for one month (`YYYY-MM`).
#[derive(Serialize, ToSchema)]
struct MonthCount {
    month: String,
    count: i64,
}

/// The operators' figures.
#[derive(Serialize, ToSchema)]
struct ServiceStatsBody {
    currencies: Vec<CurrencyFigures>,
    subscriptions_by_status: BTreeMap<String, i64>,
    new_customers_by_month: Vec<MonthCount>,
    churned_subscriptions_by_month: Vec<MonthCount>,
}

/// Which moment the figures are of.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct StatsParams {
    /// The figures as they stood then: a log position, or an RFC 3339 time (the last event
    /// committed at or before it; before the first event, empty figures). Default: now.
    #[param(value_type = Option<String>, example = "2026-11-30T12:00:00Z")]
    as_of: Option<String>,
}

/// MRR, revenue by month, subscriptions by status, new customers and churn by month — now, or
/// as of a past moment (`as_of`: the views are rebuilt up to it aside, the live ones untouched).
#[utoipa::path(get, path = "/stats", tag = "admin", security(("operator_token" = [])),
    params(StatsParams),
    responses(
        (status = 200, description = "The figures", body = ServiceStatsBody),
        (status = 400, description = "`invalid_query`: `as_of` is neither a position nor an RFC 3339 time", body = ErrorBody),
    ))]
async fn stats(
    _operator: Operator,
    State(state): State<AppState>,
    Query(params): Query<StatsParams>,
) -> Result<Json<ServiceStatsBody>, ApiError> {
    let stats = match params.as_of {
        None => state.stats.operator().await?,
        Some(as_of) => {
            let as_of = as_of
                .parse::<AsOf>()
                .map_err(|message| ApiError::InvalidQuery {
                    message: format!("as_of: {message}"),
                })?;
            state.stats.operator_as_of(&state.projector, as_of).await?
        }
    };
    let counts = |rows: Vec<projections::billing_stats::MonthlyCount>| {
        rows.into_iter()
            .map(|row| MonthCount {
                month: row.month,
                count: row.count,
            })
            .collect()
    };
    Ok(Json(ServiceStatsBody {
        currencies: stats
            .currencies
            .into_iter()
            .map(|figures| CurrencyFigures {
                currency: figures.currency,
                mrr: figures.mrr,
                revenue_by_month: figures
                    .revenue_by_month
                    .into_iter()
                    .map(|month| MonthRevenue {
                        month: month.month,
                        invoices: month.invoices,
                        payments: month.payments,
                        refunds: month.refunds,
                        credit_notes: month.credit_notes,
                        net: month.net,
                    })
                    .collect(),
            })
            .collect(),
        subscriptions_by_status: stats.subscriptions_by_status,
        new_customers_by_month: counts(stats.new_customers_by_month),
        churned_subscriptions_by_month: counts(stats.churned_subscriptions_by_month),
    }))
}
