//! Credit note numbers: `AV-year-sequence`, their own gapless sequence claimed in the
//! appending transaction, also under concurrency; and concurrent notes on one invoice never
//! credit more than it.

use std::collections::HashMap;

use aggregates::invoice::{CreditScope, InvoiceCommand, InvoiceError, IssueCreditNote};
use billstream::store::InvoiceCqrs;
use billstream::usecases::invoices::numbering::{
    credit_with_next_number, finalize_with_next_number, NumberingError,
};
use chrono::{DateTime, TimeZone, Utc};
use sqlx::SqlitePool;

use crate::invoice_numbers::{draft, due, setup};

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap()
}

async fn finalized(cqrs: &InvoiceCqrs, pool: &SqlitePool, id: &str) {
    draft(cqrs, id).await;
    finalize_with_next_number(cqrs, pool, id, at(), due(), HashMap::new())
        .await
        .unwrap();
}

async fn full_note(
    cqrs: &InvoiceCqrs,
    pool: &SqlitePool,
    invoice_id: &str,
    note_id: &str,
) -> Result<String, NumberingError> {
    credit_with_next_number(
        cqrs,
        pool,
        invoice_id,
        at(),
        |number| {
            InvoiceCommand::IssueCreditNote(IssueCreditNote {
                credit_note_id: note_id.to_owned(),
                number,
                scope: CreditScope::Full,
                reason: "Annulée".into(),
                at: at(),
            })
        },
        HashMap::new(),
    )
    .await
    .map(|number| number.text)
}

#[tokio::test]
async fn twenty_concurrent_credit_notes_take_twenty_consecutive_numbers() {
    let (_dir, pool, cqrs) = setup().await;
    let ids: Vec<String> = (0..20).map(|i| format!("inv-{i:02}")).collect();
    for id in &ids {
        finalized(&cqrs, &pool, id).await;
    }
    let notes = ids.iter().map(|id| {
        let (cqrs, pool) = (&cqrs, &pool);
        async move { full_note(cqrs, pool, id, &format!("cn-{id}")).await }
    });
    let mut numbers: Vec<String> = futures::future::join_all(notes)
        .await
        .into_iter()
        .map(|outcome| outcome.expect("credited"))
        .collect();
    numbers.sort();
    let expected: Vec<String> = (1..=20).map(|n| format!("AV-2026-{n:06}")).collect();
    assert_eq!(numbers, expected, "consecutive, no gap, no duplicate");
    let claimed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM credit_note_numbers")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(claimed, 20);
    // The invoices' own sequence is untouched by the notes.
    let invoices: i64 = sqlx::query_scalar("SELECT MAX(sequence) FROM invoice_numbers")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(invoices, 20);
}

#[tokio::test]
async fn of_ten_concurrent_full_notes_on_one_invoice_one_is_issued_and_no_number_is_lost() {
    let (_dir, pool, cqrs) = setup().await;
    finalized(&cqrs, &pool, "only").await;
    let notes = (0..10).map(|i| {
        let (cqrs, pool) = (&cqrs, &pool);
        async move { full_note(cqrs, pool, "only", &format!("cn-{i}")).await }
    });
    let outcomes = futures::future::join_all(notes).await;
    let issued: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().ok()).collect();
    assert_eq!(issued, vec!["AV-2026-000001"], "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert!(
            matches!(
                refused,
                NumberingError::Invoice(InvoiceError::NotCreditable("void"))
            ),
            "{refused:?}"
        );
    }
    // The next note anywhere takes number 2: the refused ones left no hole.
    finalized(&cqrs, &pool, "next").await;
    assert_eq!(
        full_note(&cqrs, &pool, "next", "cn-next").await.unwrap(),
        "AV-2026-000002"
    );
}
