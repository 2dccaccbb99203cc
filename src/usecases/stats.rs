//! Statistics: a customer's invoices (overdue by business time), and the operators' figures —
//! monthly recurring revenue, revenue by month (paid invoices, payments less their refunds,
//! and the net), subscriptions by status, new customers and churn by month.

use std::collections::BTreeMap;
use std::sync::Arc;

use aggregates::subscription::revenue::{monthly_recurring_revenue, RecurringPrice};
use projections::as_of::{self, AsOf};
use projections::billing_stats::MonthlyCount;
use projections::{BillingStats, InvoiceStats, Invoices, Projector};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::SqlitePool;
use std::path::PathBuf;

use super::clock::Clock;
use crate::error::AppError;

/// Revenue of one month in one currency, minor units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthRevenue {
    pub month: String,
    pub invoices: i64,
    pub payments: i64,
    pub refunds: i64,
    /// Credit notes refunded on paid invoices, in the month of the note.
    pub credit_notes: i64,
    /// Invoices and payments, less refunds and refunded credit notes.
    pub net: i64,
}

/// The figures of one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyFigures {
    pub currency: String,
    /// Monthly recurring revenue of active and past-due subscriptions, minor units.
    pub mrr: i64,
    pub revenue_by_month: Vec<MonthRevenue>,
}

/// The operators' statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorStats {
    pub currencies: Vec<CurrencyFigures>,
    pub subscriptions_by_status: BTreeMap<String, i64>,
    pub new_customers_by_month: Vec<MonthlyCount>,
    pub churned_subscriptions_by_month: Vec<MonthlyCount>,
}

/// Statistics.
pub struct StatsService {
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
}

impl StatsService {
    pub fn new(pool: SqlitePool, clock: Arc<dyn Clock>) -> Self {
        Self { pool, clock }
    }

    /// Per-currency statistics of a customer's invoices; overdue means open past its due date
    /// by business time.
    pub async fn customer_invoices(
        &self,
        customer_id: &str,
    ) -> Result<Vec<InvoiceStats>, AppError> {
        let today = self.clock.today().await.to_string();
        Ok(Invoices::stats(&self.pool, customer_id, &today).await?)
    }

    /// The operators' statistics.
    pub async fn operator(&self) -> Result<OperatorStats, AppError> {
        operator_stats(&self.pool).await
    }

    /// The operators' statistics as they stood at `as_of`: the views are built up to that
    /// position in a scratch SQLite file (the live views are not touched), then read as now.
    pub async fn operator_as_of(
        &self,
        projector: &Projector,
        as_of: AsOf,
    ) -> Result<OperatorStats, AppError> {
        let position = as_of::resolve_in(&self.pool, as_of).await?;
        let scratch = ScratchFile::new();
        projector
            .write_views_as_of(&scratch.0, position, &|_, _| {})
            .await
            .map_err(AppError::internal)?;
        let options = SqliteConnectOptions::new()
            .filename(&scratch.0)
            .read_only(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        let stats = operator_stats(&pool).await;
        pool.close().await;
        stats
    }
}

/// A scratch database file, deleted when dropped.
struct ScratchFile(PathBuf);

impl ScratchFile {
    fn new() -> Self {
        Self(std::env::temp_dir().join(format!("billstream-as-of-{}.db", uuid::Uuid::new_v4())))
    }
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The operators' statistics from the views in `pool`.
async fn operator_stats(pool: &SqlitePool) -> Result<OperatorStats, AppError> {
    let prices = BillingStats::subscription_prices(pool).await?;
    // currency → month → revenue
    let mut revenue: BTreeMap<String, BTreeMap<String, MonthRevenue>> = BTreeMap::new();
    for row in BillingStats::invoice_revenue_by_month(pool).await? {
        month_of(&mut revenue, &row.currency, &row.month).invoices += row.amount;
    }
    for row in BillingStats::payments_received_by_month(pool).await? {
        month_of(&mut revenue, &row.currency, &row.month).payments += row.amount;
    }
    for row in BillingStats::refunds_by_month(pool).await? {
        month_of(&mut revenue, &row.currency, &row.month).refunds += row.amount;
    }
    for row in BillingStats::credit_note_refunds_by_month(pool).await? {
        month_of(&mut revenue, &row.currency, &row.month).credit_notes += row.amount;
    }
    for price in &prices {
        revenue.entry(price.currency.clone()).or_default();
    }
    let currencies = revenue
        .into_iter()
        .map(|(currency, months)| {
            let in_currency: Vec<RecurringPrice> = prices
                .iter()
                .filter(|price| price.currency == currency)
                .map(|price| RecurringPrice {
                    status: price.status.clone(),
                    interval: price.interval.clone(),
                    interval_count: price.interval_count,
                    amount: price.amount,
                })
                .collect();
            CurrencyFigures {
                mrr: monthly_recurring_revenue(&in_currency),
                revenue_by_month: months
                    .into_values()
                    .map(|mut month| {
                        month.net =
                            month.invoices + month.payments - month.refunds - month.credit_notes;
                        month
                    })
                    .collect(),
                currency,
            }
        })
        .collect();
    Ok(OperatorStats {
        currencies,
        subscriptions_by_status: BillingStats::subscriptions_by_status(pool)
            .await?
            .into_iter()
            .collect(),
        new_customers_by_month: BillingStats::new_customers_by_month(pool).await?,
        churned_subscriptions_by_month: BillingStats::churned_by_month(pool).await?,
    })
}

/// The revenue of `month` in `currency`, created empty on first use.
fn month_of<'a>(
    revenue: &'a mut BTreeMap<String, BTreeMap<String, MonthRevenue>>,
    currency: &str,
    month: &str,
) -> &'a mut MonthRevenue {
    revenue
        .entry(currency.to_owned())
        .or_default()
        .entry(month.to_owned())
        .or_insert_with(|| MonthRevenue {
            month: month.to_owned(),
            ..MonthRevenue::default()
        })
}
