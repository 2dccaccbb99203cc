//! The views' rows read on SQLite's handle (`direct_rows`, for the mailer) are the rows sqlx
//! reads by column name: a row whose every column holds a value of its own is read the same
//! both ways, so a column out of order in a fixed list cannot go unnoticed.

// Shared by the projection tests; this one needs only its migrated pool.
#[allow(dead_code)]
mod common;

use common::fresh_pool;
use projections::direct_rows::{find, DirectRow};
use projections::in_thread;
use projections::{
    CustomerProfile, CustomerProfiles, InvoiceRow, Invoices, PaymentRow, Payments, SubscriptionRow,
    Subscriptions,
};
use sqlx::SqlitePool;

/// Inserts into `table` a row where each text column holds its own name and each number a
/// value of its own.
async fn insert_distinct(pool: &SqlitePool, table: &str, text: &[&str], numbers: &[&str]) {
    let columns: Vec<&str> = text.iter().chain(numbers).copied().collect();
    let values: Vec<String> = text
        .iter()
        .map(|column| format!("'{column}'"))
        .chain((0..numbers.len()).map(|index| format!("{}", index + 2)))
        .collect();
    sqlx::query(&format!(
        "INSERT INTO {table} ({}) VALUES ({})",
        columns.join(", "),
        values.join(", ")
    ))
    .execute(pool)
    .await
    .unwrap();
}

async fn direct<R: DirectRow + Send + 'static>(
    pool: &SqlitePool,
    key: &'static str,
    value: &str,
) -> Option<R> {
    let value = value.to_owned();
    in_thread::read(pool, move |db| find::<R>(db, key, &value))
        .await
        .unwrap()
}

#[tokio::test]
async fn every_views_row_reads_the_same_on_the_handle_as_through_sqlx() {
    let dir = tempfile::tempdir().unwrap();
    let pool = fresh_pool(&dir).await;
    insert_distinct(
        &pool,
        "customer_profiles",
        &[
            "id",
            "email",
            "name",
            "phone",
            "stripe_customer_id",
            "created_at",
            "updated_at",
            "mail_language",
            "billing",
            "password_hash",
        ],
        &["credentials_version"],
    )
    .await;
    sqlx::query("UPDATE customer_profiles SET deleted = 1, mail_receipts = 0")
        .execute(&pool)
        .await
        .unwrap();
    insert_distinct(
        &pool,
        "payments",
        &[
            "payment_id",
            "customer_id",
            "payment_intent_id",
            "client_secret",
            "currency",
            "status",
            "description",
            "metadata",
            "failure_code",
            "failure_message",
            "next_action",
            "created_at",
            "updated_at",
        ],
        &[
            "amount",
            "amount_received",
            "refunded_amount",
            "confirm_attempts",
            "refund_count",
            "created_position",
        ],
    )
    .await;
    insert_distinct(
        &pool,
        "subscriptions",
        &[
            "subscription_id",
            "customer_id",
            "stripe_subscription_id",
            "plan",
            "price",
            "currency",
            "interval",
            "status",
            "current_period_start",
            "current_period_end",
            "trial_end",
            "canceled_at",
            "ended_at",
            "created_at",
            "updated_at",
        ],
        &["amount", "cancel_at_period_end"],
    )
    .await;
    insert_distinct(
        &pool,
        "invoices",
        &[
            "invoice_id",
            "customer_id",
            "stripe_invoice_id",
            "stripe_subscription_id",
            "number",
            "status",
            "currency",
            "lines",
            "memo",
            "collection_method",
            "due_date",
            "hosted_invoice_url",
            "pdf_url",
            "next_payment_attempt",
            "last_payment_error",
            "created_at",
            "finalized_at",
            "paid_at",
            "sent_at",
            "updated_at",
            "document_sha256",
        ],
        &[
            "subtotal",
            "tax",
            "total",
            "amount_paid",
            "due_days",
            "attempt_count",
            "created_position",
            "amount_credited",
        ],
    )
    .await;

    let profile = CustomerProfiles::find_by_id(&pool, "id").await.unwrap();
    assert!(profile.is_some());
    assert_eq!(direct::<CustomerProfile>(&pool, "id", "id").await, profile);
    let payment = Payments::find(&pool, "payment_id").await.unwrap();
    assert!(payment.is_some());
    assert_eq!(
        direct::<PaymentRow>(&pool, "payment_id", "payment_id").await,
        payment
    );
    let subscription = Subscriptions::find(&pool, "subscription_id").await.unwrap();
    assert!(subscription.is_some());
    assert_eq!(
        direct::<SubscriptionRow>(&pool, "subscription_id", "subscription_id").await,
        subscription
    );
    let invoice = Invoices::find(&pool, "invoice_id").await.unwrap();
    assert!(invoice.is_some());
    assert_eq!(
        direct::<InvoiceRow>(&pool, "invoice_id", "invoice_id").await,
        invoice
    );
    assert_eq!(
        direct::<InvoiceRow>(&pool, "invoice_id", "absent").await,
        None
    );
}
