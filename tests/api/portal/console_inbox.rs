//! The console's webhook inbox in a real browser: a refund that arrived before its payment is
//! parked with its last error and attempts; once the payment is in, the operator's Retry
//! queues it again and the worker applies it.

use std::time::Duration;

use anyhow::bail;

use super::browse::{click, fill, text, wait_path, wait_text};
use crate::operators::{
    admin_json, deliver, event, inbox_status, operators_app, paid_and_refunded, OPERATOR,
};
use crate::support::browser::with_browser;

#[tokio::test]
async fn an_operator_retries_a_parked_webhook_in_the_console_and_sees_it_applied() {
    let app = operators_app().await;
    let session = app
        .register("console-parked@example.com", "correct horse", "Parked")
        .await;
    let stripe_customer = session["customer"]["stripe_customer_id"].as_str().unwrap();
    let (intent, charge) = paid_and_refunded(stripe_customer);
    deliver(&app, &event("evt_refund", "charge.refunded", charge)).await;
    for _ in 0..100 {
        let stored = admin_json(&app, "/api/admin/inbox/evt_refund").await;
        if stored["attempts"].as_i64() >= Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Fast-forward the other failures: it is parked as after the eighth.
    sqlx::query(
        "UPDATE stripe_inbox SET status = 'parked', attempts = 8 WHERE event_id = 'evt_refund'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    deliver(&app, &event("evt_paid", "payment_intent.succeeded", intent)).await;
    inbox_status(&app, "evt_paid", "applied").await;

    let base = app.url("");
    with_browser("console_inbox", 1200, 900, |c| async move {
        c.goto(&format!("{base}/admin/inbox")).await?;
        wait_path(&c, "/admin/login").await?;
        fill(&c, "#token", OPERATOR).await?;
        click(&c, "main form button[type=submit]").await?;
        wait_text(&c, "h1", "Webhook inbox").await?;

        // Filter to the parked events.
        c.find(fantoccini::Locator::Css("#status option[value=parked]"))
            .await?
            .click()
            .await?;
        click(&c, "form.filters button[type=submit]").await?;
        wait_path(&c, "/admin/inbox?status=parked").await?;
        let row = text(&c, "tr[data-event=evt_refund]").await?;
        assert!(row.contains("not recorded yet"), "{row}");
        assert!(row.contains("parked") && row.contains('8'), "{row}");
        let rows = text(&c, "table.inbox tbody").await?;
        assert!(!rows.contains("evt_paid"), "{rows}");

        click(&c, "tr[data-event=evt_refund] button[type=submit]").await?;
        wait_text(&c, ".flash", "evt_refund is queued again").await?;
        // The worker applies it within a moment.
        for _ in 0..50 {
            c.goto(&format!("{base}/admin/inbox?status=applied"))
                .await?;
            if text(&c, "main").await?.contains("evt_refund") {
                let row = text(&c, "tr[data-event=evt_refund]").await?;
                assert!(row.contains("applied"), "{row}");
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        bail!("evt_refund was never shown applied")
    })
    .await;
}
