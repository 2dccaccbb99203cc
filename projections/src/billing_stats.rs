//! Billing statistics for operators, computed from the read models: subscriptions by status,
//! monthly recurring revenue, revenue by month, new customers and churn by month. Months are
//! `YYYY-MM` (UTC).

use sqlx::SqliteExecutor;

/// Queries over the read models.
pub struct BillingStats;

/// A subscription's price per interval, with its status (the domain decides which count).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SubscriptionPrice {
    pub currency: String,
    pub status: String,
    pub interval: String,
    /// Intervals per period (3 for a quarterly price).
    pub interval_count: i64,
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

    /// Every priced subscription: currency, status, interval (and how many) and amount.
    pub async fn subscription_prices(
        db: impl SqliteExecutor<'_>,
    ) -> Result<Vec<SubscriptionPrice>, sqlx::Error> {
        sqlx::query_as(
            "SELECT currency, status, interval, interval_count, amount FROM subscriptions
              WHERE currency IS NOT NULL AND interval IS NOT NULL AND amount IS NOT NULL",
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

    /// Credit notes refunded (on paid invoices) per currency and month of the note. Notes on
    /// unpaid invoices are left out: they lowered what was paid, which the paid invoices hold.
    pub async fn credit_note_refunds_by_month(
        db: impl SqliteExecutor<'_>,
    ) -> Result<Vec<MonthlyAmount>, sqlx::Error> {
        sqlx::query_as(
            "SELECT currency, substr(issued_at, 1, 7) AS month, SUM(total) AS amount
               FROM invoice_credit_notes WHERE outcome = 'refund'
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
