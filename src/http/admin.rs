//! `/api/admin/*`: the operators' API, behind `OPERATOR_TOKEN` (compared in constant time; the
//! whole API answers 404 when no token is configured).

use std::collections::BTreeMap;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use super::error::ApiError;
use super::extract::{IdempotencyKey, RequestId};
use super::invoices::{CreateBody, InvoiceBody};
use super::json::ApiJson;
use super::AppState;
use crate::error::AppError;
use subtle::ConstantTimeEq;

/// The routes under `/api/admin`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/customers/{customer_id}/invoices", post(create_invoice))
        .route("/stats", get(stats))
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

#[derive(Serialize)]
struct MonthRevenue {
    month: String,
    invoices: i64,
    payments: i64,
    refunds: i64,
    net: i64,
}

#[derive(Serialize)]
struct CurrencyFigures {
    currency: String,
    /// Monthly recurring revenue of active and past-due subscriptions, minor units.
    mrr: i64,
    revenue_by_month: Vec<MonthRevenue>,
}

#[derive(Serialize)]
struct MonthCount {
    month: String,
    count: i64,
}

#[derive(Serialize)]
struct StatsBody {
    currencies: Vec<CurrencyFigures>,
    subscriptions_by_status: BTreeMap<String, i64>,
    new_customers_by_month: Vec<MonthCount>,
    churned_subscriptions_by_month: Vec<MonthCount>,
}

async fn stats(
    _operator: Operator,
    State(state): State<AppState>,
) -> Result<Json<StatsBody>, ApiError> {
    let stats = state.stats.operator().await?;
    let counts = |rows: Vec<projections::billing_stats::MonthlyCount>| {
        rows.into_iter()
            .map(|row| MonthCount {
                month: row.month,
                count: row.count,
            })
            .collect()
    };
    Ok(Json(StatsBody {
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
