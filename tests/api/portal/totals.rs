//! The live totals of `/invoices/new` in a real browser, in a currency without decimals: the
//! script learns the yen's decimals from the server, rounds VAT per line half up as the domain
//! does, and shows the total the created invoice then has.

use serde_json::json;

use super::browse::{click, element, fill, text, wait_invoice_page, wait_path, wait_text};
use super::server::portal_url;
use crate::support::browser::with_browser;

#[tokio::test]
async fn the_live_total_of_a_yen_invoice_is_the_one_the_server_computes() {
    let base = portal_url().await.to_owned();
    let email = format!("yen-{}@example.com", uuid::Uuid::new_v4().simple());
    let registered = reqwest::Client::new()
        .post(format!("{base}/api/auth/register"))
        .json(&json!({"email": email, "password": "correct horse battery", "name": "Yen"}))
        .send()
        .await
        .expect("the API answers");
    assert!(registered.status().is_success(), "{}", registered.status());
    with_browser("portal_yen_live_total", 1000, 900, |c| async move {
        c.goto(&format!("{base}/login?next=/invoices/new")).await?;
        fill(&c, "#email", &email).await?;
        fill(&c, "#password", "correct horse battery").await?;
        click(&c, "main form button[type=submit]").await?;
        wait_path(&c, "/invoices/new").await?;
        element(&c, "#currency")
            .await?
            .select_by_value("jpy")
            .await?;
        fill(&c, "#description-0", "Consulting").await?;
        fill(&c, "#quantity-0", "3").await?;
        fill(&c, "#unit_amount-0", "1,234").await?;
        fill(&c, "#tax_rate-0", "10").await?;
        click(&c, "[data-add]").await?;
        fill(&c, "#description-1", "Travel").await?;
        fill(&c, "#quantity-1", "1").await?;
        fill(&c, "#unit_amount-1", "999").await?;
        fill(&c, "#tax_rate-1", "5.5").await?;
        // 3 × 1,234 + 999 = 4,701; VAT 370.2 → 370 and 54.945 → 55, per line.
        let live = wait_text(&c, "[data-total]", "¥5,126").await?;
        assert_eq!(text(&c, "[data-tax]").await?, "¥425");
        click(&c, "main form button.primary").await?;
        wait_invoice_page(&c).await?;
        assert_eq!(text(&c, "[data-invoice-total]").await?, live);
        Ok(())
    })
    .await;
}
