//! The operator console in a real browser against the real binary: signed out it sends to the
//! sign-in form, the operator token opens it, the projections' table lists the views, and a
//! Rebuild button starts a job whose page follows it to its end.

use super::browse::{click, element, fill, text, wait_path, wait_text};
use super::server::{portal_url, OPERATOR_TOKEN};
use crate::support::browser::with_browser;

#[tokio::test]
async fn an_operator_signs_in_sees_the_views_and_follows_a_rebuild_to_its_end_in_a_real_browser() {
    let base = portal_url().await.to_owned();
    with_browser("console_rebuild", 1200, 900, |c| async move {
        c.goto(&format!("{base}/admin")).await?;
        wait_path(&c, "/admin/login").await?;

        fill(&c, "#token", OPERATOR_TOKEN).await?;
        click(&c, "main form button[type=submit]").await?;
        wait_text(&c, "h1", "Projections").await?;
        let views = text(&c, "table.views tbody").await?;
        for view in ["customer_profiles", "payments", "subscriptions", "invoices"] {
            assert!(views.contains(view), "{views}");
        }

        click(&c, "tr[data-view=payments] button[type=submit]").await?;
        wait_path(&c, "/admin/jobs/").await?;
        wait_text(&c, "h1", "Rebuild of payments").await?;
        // The page's module follows the job until it ends.
        wait_text(&c, "[data-job-state]", "succeeded").await?;
        let box_state = element(&c, ".job").await?.attr("data-done").await?;
        assert_eq!(box_state.as_deref(), Some("true"));

        // Signing out closes the console again.
        click(&c, "header form button[type=submit]").await?;
        wait_path(&c, "/admin/login").await?;
        c.goto(&format!("{base}/admin")).await?;
        wait_path(&c, "/admin/login").await?;
        Ok(())
    })
    .await;
}
