//! `/admin/charts`: each currency's MRR and its revenue by month (invoices and payments less
//! refunds), from the operators' figures (`StatsService::operator`, as `/api/admin/stats`),
//! drawn as inline SVG with the amounts formatted here, at the edge, from integer minor units.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::access::Operator;
use super::svg::{bar_chart, Bar};
use super::ConsoleFrame;
use crate::http::AppState;
use crate::portal::format::money;
use crate::portal::i18n::Lang;

/// One currency's charts.
pub struct CurrencyCharts {
    currency: String,
    mrr: String,
    /// Inline SVG (built by `svg::bar_chart`, every text in it escaped).
    revenue_svg: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/charts.html")]
pub struct ChartsPage {
    f: ConsoleFrame,
    mrr_svg: String,
    currencies: Vec<CurrencyCharts>,
}

/// `GET /admin/charts`.
pub async fn show(_operator: Operator, State(state): State<AppState>) -> Response {
    let stats = match state.stats.operator().await {
        Ok(stats) => stats,
        Err(error) => {
            tracing::error!(%error, "the console could not read the figures");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let amount = |minor: i64, currency: &str| money(minor, currency, Lang::En);
    let mrr_bars: Vec<Bar> = stats
        .currencies
        .iter()
        .map(|figures| Bar {
            label: figures.currency.to_ascii_uppercase(),
            value: figures.mrr,
            shown: amount(figures.mrr, &figures.currency),
        })
        .collect();
    let currencies = stats
        .currencies
        .iter()
        .map(|figures| {
            let bars: Vec<Bar> = figures
                .revenue_by_month
                .iter()
                .map(|month| Bar {
                    label: month.month.clone(),
                    value: month.net,
                    shown: amount(month.net, &figures.currency),
                })
                .collect();
            let currency = figures.currency.to_ascii_uppercase();
            CurrencyCharts {
                revenue_svg: bar_chart(&format!("Net revenue by month, {currency}"), &bars),
                mrr: amount(figures.mrr, &figures.currency),
                currency,
            }
        })
        .collect();
    ChartsPage {
        f: ConsoleFrame::page("Charts", "/admin/charts"),
        mrr_svg: bar_chart("Monthly recurring revenue by currency", &mrr_bars),
        currencies,
    }
    .into_response()
}
