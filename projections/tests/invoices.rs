//! The invoices projection over hand-built events: rows, lists and statistics.

mod common;

use common::{append, fresh_pool};
use projections::{Invoices, Projector};
use serde_json::json;

fn created(total: i64, currency: &str) -> serde_json::Value {
    json!({"InvoiceCreated": {
        "customer_id": "cust-1", "currency": currency,
        "lines": [{"description": "Audit", "quantity": 1, "unit_amount": total, "tax_rate_bps": 0}],
        "totals": {"subtotal": total, "tax": 0, "total": total},
        "memo": null, "due_days": 30, "collection_method": "send_invoice",
        "created_at": "2026-11-01T10:00:00Z"
    }})
}

fn finalized(number: &str, due: &str) -> serde_json::Value {
    let sequence: i64 = number.rsplit('-').next().unwrap().parse().unwrap();
    json!({"InvoiceFinalized": {"number": number, "year": 2026, "sequence": sequence,
        "due_date": due, "at": "2026-11-02T10:00:00Z"}})
}

#[tokio::test]
async fn invoices_are_listed_newest_first_and_summed_per_currency() {
    let dir = tempfile::tempdir().unwrap();
    let pool = fresh_pool(&dir).await;
    // Paid, open and overdue, open not yet due, draft, void — in eur; one open in usd.
    append(&pool, "Invoice", "paid", 1, created(1_000, "eur")).await;
    append(
        &pool,
        "Invoice",
        "paid",
        2,
        finalized("BS-2026-000001", "2026-12-01"),
    )
    .await;
    append(&pool, "Invoice", "paid", 3, json!({"InvoicePaid": {"amount": 1_000, "reference": "pi_1", "at": "2026-11-03T10:00:00Z"}})).await;
    append(&pool, "Invoice", "overdue", 1, created(2_000, "eur")).await;
    append(
        &pool,
        "Invoice",
        "overdue",
        2,
        finalized("BS-2026-000002", "2026-11-10"),
    )
    .await;
    append(&pool, "Invoice", "due-later", 1, created(4_000, "eur")).await;
    append(
        &pool,
        "Invoice",
        "due-later",
        2,
        finalized("BS-2026-000003", "2026-12-31"),
    )
    .await;
    append(&pool, "Invoice", "draft", 1, created(8_000, "eur")).await;
    append(&pool, "Invoice", "voided", 1, created(16_000, "eur")).await;
    append(
        &pool,
        "Invoice",
        "voided",
        2,
        finalized("BS-2026-000004", "2026-12-31"),
    )
    .await;
    append(
        &pool,
        "Invoice",
        "voided",
        3,
        json!({"InvoiceVoided": {"at": "2026-11-05T10:00:00Z"}}),
    )
    .await;
    append(&pool, "Invoice", "dollars", 1, created(500, "usd")).await;
    append(
        &pool,
        "Invoice",
        "dollars",
        2,
        finalized("BS-2026-000005", "2026-12-31"),
    )
    .await;
    Projector::with_all_projections(pool.clone())
        .catch_up()
        .await
        .unwrap();

    let paid = Invoices::find(&pool, "paid").await.unwrap().unwrap();
    assert_eq!((paid.status.as_str(), paid.amount_paid), ("paid", 1_000));
    assert_eq!(paid.number.as_deref(), Some("BS-2026-000001"));

    let listed: Vec<String> = Invoices::list(&pool, "cust-1", None, None, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.invoice_id)
        .collect();
    assert_eq!(
        listed,
        ["dollars", "voided", "draft", "due-later", "overdue", "paid"]
    );
    let open = Invoices::list(&pool, "cust-1", Some("open"), None, 10)
        .await
        .unwrap();
    assert_eq!(open.len(), 3);

    let stats = Invoices::stats(&pool, "cust-1", "2026-11-24")
        .await
        .unwrap();
    let eur = stats.iter().find(|s| s.currency == "eur").unwrap();
    assert_eq!(
        (eur.draft, eur.open, eur.paid, eur.void, eur.uncollectible),
        (1, 2, 1, 1, 0)
    );
    assert_eq!(eur.total_invoiced, 1_000 + 2_000 + 4_000);
    assert_eq!(eur.total_paid, 1_000);
    assert_eq!(eur.total_outstanding, 6_000);
    assert_eq!(eur.total_overdue, 2_000);
    let usd = stats.iter().find(|s| s.currency == "usd").unwrap();
    assert_eq!((usd.open, usd.total_outstanding), (1, 500));

    let live = Invoices::all(&pool).await.unwrap();
    Projector::with_all_projections(pool.clone())
        .replay(&|_, _| {})
        .await
        .unwrap();
    assert_eq!(Invoices::all(&pool).await.unwrap(), live);
}
