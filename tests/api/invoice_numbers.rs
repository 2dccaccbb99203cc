//! Invoice numbers: sequential per year, no gaps, no duplicates, also under concurrency.

use std::collections::HashMap;

use aggregates::invoice::{
    CollectionMethod, CreateInvoice, Invoice, InvoiceCommand, InvoiceError, InvoiceLine,
};
use aggregates::money::Currency;
use billstream::store::{self, InvoiceCqrs};
use billstream::usecases::invoices::numbering::{finalize_with_next_number, NumberingError};
use chrono::{NaiveDate, TimeZone, Utc};
use sqlx::SqlitePool;

use crate::helpers::open_pool;

pub(crate) async fn draft(cqrs: &InvoiceCqrs, id: &str) {
    cqrs.execute(
        id,
        InvoiceCommand::Create(CreateInvoice {
            customer_id: "cust-1".into(),
            currency: Currency::parse("currency", "eur").unwrap(),
            lines: vec![InvoiceLine::parse(0, "Audit", 1, 50_000, Some(2_000)).unwrap()],
            memo: None,
            due_days: 30,
            collection_method: CollectionMethod::SendInvoice,
            created_at: Utc::now(),
            stripe_invoice_id: None,
            stripe_subscription_id: None,
            provider_totals: None,
        }),
    )
    .await
    .unwrap();
}

pub(crate) fn due() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
}

pub(crate) async fn setup() -> (tempfile::TempDir, SqlitePool, InvoiceCqrs) {
    let dir = tempfile::tempdir().unwrap();
    let pool = open_pool(&dir.path().join("numbers.db")).await;
    let cqrs =
        store::cqrs_for::<Invoice>(pool.clone(), &crate::helpers::writer(&pool).await, None, ());
    (dir, pool, cqrs)
}

#[tokio::test]
async fn fifty_concurrent_finalizations_take_fifty_consecutive_numbers() {
    let (_dir, pool, cqrs) = setup().await;
    let ids: Vec<String> = (0..50).map(|i| format!("inv-{i:02}")).collect();
    for id in &ids {
        draft(&cqrs, id).await;
    }
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap();
    let finalizations = ids.iter().map(|id| {
        let (cqrs, pool) = (&cqrs, &pool);
        async move { finalize_with_next_number(cqrs, pool, id, at, due(), HashMap::new()).await }
    });
    let numbers: Vec<String> = futures::future::join_all(finalizations)
        .await
        .into_iter()
        .map(|outcome| outcome.expect("finalized").text)
        .collect();
    let mut sorted = numbers.clone();
    sorted.sort();
    let expected: Vec<String> = (1..=50).map(|n| format!("BS-2026-{n:06}")).collect();
    assert_eq!(sorted, expected, "consecutive, no gap, no duplicate");
    let claimed: Vec<(i64, String)> =
        sqlx::query_as("SELECT sequence, invoice_id FROM invoice_numbers ORDER BY sequence")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(claimed.len(), 50);
}

#[tokio::test]
async fn a_refused_finalization_leaves_no_gap() {
    let (_dir, pool, cqrs) = setup().await;
    draft(&cqrs, "first").await;
    draft(&cqrs, "second").await;
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let first = finalize_with_next_number(&cqrs, &pool, "first", at, due(), HashMap::new())
        .await
        .unwrap();
    let again = finalize_with_next_number(&cqrs, &pool, "first", at, due(), HashMap::new()).await;
    assert!(matches!(
        again,
        Err(NumberingError::Invoice(InvoiceError::NotDraft("open")))
    ));
    let second = finalize_with_next_number(&cqrs, &pool, "second", at, due(), HashMap::new())
        .await
        .unwrap();
    assert_eq!(
        (first.text.as_str(), second.text.as_str()),
        ("BS-2026-000001", "BS-2026-000002")
    );
}

#[tokio::test]
async fn each_year_starts_again_at_one() {
    let (_dir, pool, cqrs) = setup().await;
    draft(&cqrs, "december").await;
    draft(&cqrs, "january").await;
    let december = Utc.with_ymd_and_hms(2026, 12, 31, 23, 0, 0).unwrap();
    let january = Utc.with_ymd_and_hms(2027, 1, 1, 0, 30, 0).unwrap();
    let a = finalize_with_next_number(&cqrs, &pool, "december", december, due(), HashMap::new())
        .await
        .unwrap();
    let b = finalize_with_next_number(&cqrs, &pool, "january", january, due(), HashMap::new())
        .await
        .unwrap();
    assert_eq!(
        (a.text.as_str(), b.text.as_str()),
        ("BS-2026-000001", "BS-2027-000001")
    );
}
