//! The console's event log in a real browser: filtered by aggregate and event type, by
//! aggregate id and by a time span, a customer's timeline opened from the log, and the charts'
//! SVG.

use super::browse::{click, fill, text, wait_path, wait_text};
use crate::helpers::spawn_app_with;
use crate::support::browser::with_browser;

const OPERATOR: &str = "operator-token-for-the-console-log";

#[tokio::test]
async fn an_operator_filters_the_event_log_and_opens_a_customers_timeline() {
    let app = spawn_app_with(&[("OPERATOR_TOKEN", OPERATOR)]).await;
    let ada = app
        .register("log-ada@example.com", "correct horse battery", "Ada")
        .await;
    let grace = app
        .register("log-grace@example.com", "correct horse battery", "Grace")
        .await;
    let ada_id = ada["customer"]["id"].as_str().unwrap().to_owned();
    let grace_id = grace["customer"]["id"].as_str().unwrap().to_owned();
    app.create_intent(ada["token"].as_str().unwrap(), 1_250, "eur")
        .await;

    let base = app.url("");
    with_browser("console_events", 1200, 900, |c| async move {
        c.goto(&format!("{base}/admin/login")).await?;
        fill(&c, "#token", OPERATOR).await?;
        click(&c, "main form button[type=submit]").await?;
        wait_text(&c, "h1", "Projections").await?;
        click(&c, "nav a[href='/admin/events']").await?;
        wait_text(&c, "h1", "Event log").await?;

        fill(&c, "#aggregate_type", "Customer").await?;
        fill(&c, "#event_type", "CustomerRegistered").await?;
        click(&c, "form.filters button[type=submit]").await?;
        wait_path(&c, "/admin/events?event_type=CustomerRegistered").await?;
        let rows = text(&c, "table.events tbody").await?;
        assert!(rows.contains(&ada_id) && rows.contains(&grace_id), "{rows}");
        assert!(!rows.contains("Payment"), "{rows}");

        fill(&c, "#aggregate_id", &grace_id).await?;
        click(&c, "form.filters button[type=submit]").await?;
        // With Grace's id: the page before already reads `…&aggregate_id=&…`, and text read
        // from it goes stale when the new page replaces it.
        wait_path(
            &c,
            &format!(
                "/admin/events?event_type=CustomerRegistered&aggregate_type=Customer&aggregate_id={grace_id}"
            ),
        )
        .await?;
        let rows = text(&c, "table.events tbody").await?;
        assert!(
            rows.contains(&grace_id) && !rows.contains(&ada_id),
            "{rows}"
        );

        // A span before anything happened matches nothing.
        c.goto(&format!("{base}/admin/events?until=2000-01-01"))
            .await?;
        wait_text(&c, "main", "No event matches.").await?;

        // Ada's timeline, from her line in the log.
        c.goto(&format!(
            "{base}/admin/events?aggregate_type=Customer&aggregate_id={ada_id}"
        ))
        .await?;
        click(&c, "a.customer-link").await?;
        wait_text(&c, "h1", &format!("Customer {ada_id}")).await?;
        let timeline = text(&c, "table.timeline tbody").await?;
        assert!(timeline.contains("Payment"), "{timeline}");
        assert!(!timeline.contains(&grace_id), "{timeline}");

        // The charts are drawn by billstream as inline SVG.
        click(&c, "nav a[href='/admin/charts']").await?;
        wait_text(&c, "h1", "Charts").await?;
        let title = text(&c, ".chart-mrr svg.chart title").await?;
        assert_eq!(title, "Monthly recurring revenue by currency");
        let drawn = c
            .execute(
                "return document.querySelectorAll('svg.chart').length",
                vec![],
            )
            .await?;
        assert!(drawn.as_u64() >= Some(1), "{drawn}");
        Ok(())
    })
    .await;
}
