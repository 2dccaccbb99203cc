//! Billing statistics for operators, computed from the read models: subscriptions by status,
//! monthly recurring revenue, revenue by month, new customers and churn by month. Months are
//! `YYYY-MM` (UTC).

use sqlx::SqliteExecutor;

/// Queries over the read models.
pub struct BillingStats;

/// A subscription that counts towards MRR: its price per interval.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RecurringPrice {
    pub currency: String,
    pub interval: String,
    pub amount: i64,
}

/// Money per currency and month.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MonthlyAmount {
    pub currency: String,
    pub month: String,
    pub amount: i64,
}

/// A count per month.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MonthlyCount {
    pub month: String,
    pub count: i64,
}

impl BillingStats {
    /// Subscriptions per status.
    pub async fn subscriptions_by_status(
        db: impl SqliteExecutor<'_>,
    ) -> Result<Vec<(String, i64)>, sqlx::Error> {
        sqlx::query_as("SELECT status, COUNT(*) FROM subscriptions GROUP BY status ORDER BY status")
            .fetch_all(db)
            .await
    }

    /// The prices of the subscriptions that bring recurring revenue (active or past due).
    pub async fn recurring_prices(
        db: impl SqliteExecutor<'_>,
    ) -> Result<Vec<RecurringPrice>, sqlx::Error> {
        sqlx::query_as(
            "SELECT currency, interval, amount FROM subscriptions
              WHERE status IN ('active', 'past_due')
                AND currency IS NOT NULL AND interval IS NOT NULL AND amount IS NOT NULL",
        )
        .fetch_all(db)
        .await
    }

    /// Paid invoices per currency and month of payment.
    pub async fn invoice_revenue_by_month(
        db: impl SqliteExecutor<'_>,
    ) -> Result<Vec<MonthlyAmount>, sqlx::Error> {
        sqlx::query_as(
            "SELECT currency, substr(paid_at, 1, 7) AS month, SUM(amount_paid) AS amount
               FROM invoices WHERE status = 'paid' AND paid_at IS NOT NULL
              GROUP BY currency, month ORDER BY currency, month",
        )
        .fetch_all(db)
        .await
    }

    /// Money received by payments (outside invoices) per currency and month of the payment.
    pub async fn payments_received_by_month(
        db: impl SqliteExecutor<'_>,
    ) -> Result<Vec<MonthlyAmount>, sqlx::Error> {
        sqlx::query_as(
            "SELECT currency, substr(created_at, 1, 7) AS month, SUM(amount_received) AS amount
               FROM payments WHERE amount_received > 0
              GROUP BY currency, month ORDER BY currency, month",
        )
        .fetch_all(db)
        .await
    }

    /// Refunds of those payments, per currency and month of the payment.
    pub async fn refunds_by_month(
        db: impl SqliteExecutor<'_>,
    ) -> Result<Vec<MonthlyAmount>, sqlx::Error> {
        sqlx::query_as(
            "SELECT currency, substr(created_at, 1, 7) AS month, SUM(refunded_amount) AS amount
               FROM payments WHERE refunded_amount > 0
              GROUP BY currency, month ORDER BY currency, month",
        )
        .fetch_all(db)
        .await
    }

    /// Registrations per month.
    pub async fn new_customers_by_month(
        db: impl SqliteExecutor<'_>,
    ) -> Result<Vec<MonthlyCount>, sqlx::Error> {
        sqlx::query_as(
            "SELECT substr(created_at, 1, 7) AS month, COUNT(*) AS count
               FROM customer_profiles GROUP BY month ORDER BY month",
        )
        .fetch_all(db)
        .await
    }

    /// Subscriptions that ended (canceled, or expired unpaid) per month of their end.
    pub async fn churned_by_month(
        db: impl SqliteExecutor<'_>,
    ) -> Result<Vec<MonthlyCount>, sqlx::Error> {
        sqlx::query_as(
            "SELECT substr(ended_at, 1, 7) AS month, COUNT(*) AS count
               FROM subscriptions WHERE ended_at IS NOT NULL
              GROUP BY month ORDER BY month",
        )
        .fetch_all(db)
        .await
    }
}

/// Monthly recurring revenue of prices in one currency, in minor units: monthly prices as they
/// are, others scaled to a month (a year is 12 months, a week 52/12 of a month, a day 365/12),
/// summed exactly and rounded half up once.
pub fn monthly_recurring_revenue(prices: &[RecurringPrice]) -> i64 {
    // Sum in twelfths of a month so every interval is an integer.
    let twelfths: i64 = prices
        .iter()
        .map(|price| match price.interval.as_str() {
            "year" => price.amount,
            "week" => price.amount * 52,
            "day" => price.amount * 365,
            _ => price.amount * 12,
        })
        .sum();
    (twelfths + 6) / 12
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(interval: &str, amount: i64) -> RecurringPrice {
        RecurringPrice {
            currency: "eur".into(),
            interval: interval.into(),
            amount,
        }
    }

    #[test]
    fn mrr_normalises_every_interval_to_a_month() {
        assert_eq!(monthly_recurring_revenue(&[price("month", 990)]), 990);
        // 9900 a year is 825 a month.
        assert_eq!(
            monthly_recurring_revenue(&[price("month", 990), price("year", 9_900)]),
            1_815
        );
        // 100 a week is 433.33… a month.
        assert_eq!(monthly_recurring_revenue(&[price("week", 100)]), 433);
        assert_eq!(monthly_recurring_revenue(&[]), 0);
    }
}
