//! The customer's journey in a real browser against the real binary, in French then English:
//! sign up → subscribe to particulier with 4242 → a one-off payment declined with
//! 4000 0000 0000 0002 shows its reason → a 3-D Secure payment with 4000 0000 0000 3220
//! completed on the challenge page → a two-line invoice whose live total is the server's →
//! paid → its PDF downloaded → its signed link opened signed out → English → signed out, and
//! `/dashboard` is closed. It saves the README's screenshots on the way.

use fantoccini::Client;
use serde_json::{json, Value};

use super::browse::{
    click, click_text, element, fill, save_full_page, text, wait_invoice_page, wait_path, wait_text,
};
use super::server::portal_url;
use crate::support::browser::with_browser;
use crate::support::processes::repo_dir;

/// Spaces as people read them: the no-break spaces of French amounts become plain ones.
fn plain(text: &str) -> String {
    text.replace(['\u{A0}', '\u{202F}'], " ")
}

/// Pays with a test card through the sandbox card form of the page.
async fn pay_with(client: &Client, number: &str) -> anyhow::Result<()> {
    fill(client, "#card-number", number).await?;
    fill(client, "#card-expiry", "12/34").await?;
    fill(client, "#card-cvc", "123").await?;
    click(client, ".card-form button[type=submit]").await
}

/// Fetches `href` in the page (with its cookies): status, content type, first bytes.
async fn fetch_start(client: &Client, href: &str) -> anyhow::Result<(u64, String, String)> {
    let script = r#"
        const [href, done] = [arguments[0], arguments[arguments.length - 1]];
        fetch(href).then(async (r) => {
            const head = new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5));
            done([r.status, r.headers.get("content-type"), head]);
        }).catch((e) => done([0, String(e), ""]));
    "#;
    let answer = client.execute_async(script, vec![json!(href)]).await?;
    let at = |i: usize| answer[i].clone();
    Ok((
        at(0).as_u64().unwrap_or(0),
        at(1).as_str().unwrap_or_default().to_owned(),
        at(2).as_str().unwrap_or_default().to_owned(),
    ))
}

#[tokio::test]
async fn a_customer_subscribes_pays_and_finds_the_invoice_in_a_real_browser() {
    let base = portal_url().await.to_owned();
    with_browser("portal_journey", 1200, 900, |c| async move {
        c.goto(&format!("{base}/")).await?;
        // The browser speaks English; the visitor picks French with the switch.
        click(&c, "a[hreflang=fr]").await?;
        wait_text(&c, "h1", "Des offres simples").await?;
        let lang = c
            .execute("return document.documentElement.lang", vec![])
            .await?;
        assert_eq!(lang, Value::from("fr"));

        // Sign up.
        click(&c, ".menu a[href='/register']").await?;
        fill(&c, "#name", "Ada Lovelace").await?;
        // The only customer of this address on the run's server: the README's screenshots
        // show a plausible name and address.
        fill(&c, "#email", "ada@example.com").await?;
        fill(&c, "#password", "correct horse battery").await?;
        click(&c, "main form button[type=submit]").await?;
        wait_path(&c, "/plans").await?;
        wait_text(&c, ".flash", "Bienvenue").await?;

        // Subscribe to particulier with 4242.
        click(&c, "a[href='/plans/particulier/subscribe']").await?;
        wait_path(&c, "/plans/particulier/subscribe").await?;
        pay_with(&c, "4242 4242 4242 4242").await?;
        wait_path(&c, "/dashboard").await?;
        wait_text(&c, ".flash", "abonnement").await?;
        let subscription = wait_text(&c, ".subscription", "Particulier").await?;
        assert!(subscription.contains("Essai gratuit"), "{subscription}");

        // A one-off payment declined: the reason in plain words.
        c.goto(&format!("{base}/pay")).await?;
        fill(&c, "#amount", "15,00").await?;
        click(&c, "main form button[type=submit]").await?;
        wait_text(&c, "h1", "15,00").await?;
        pay_with(&c, "4000 0000 0000 0002").await?;
        let declined = wait_text(&c, ".status-box", "refusé").await?;
        assert!(
            declined.contains("votre banque a refusé la carte"),
            "{declined}"
        );

        // 3-D Secure, completed on the challenge page.
        c.goto(&format!("{base}/pay")).await?;
        fill(&c, "#amount", "42").await?;
        click(&c, "main form button[type=submit]").await?;
        wait_text(&c, "h1", "42,00").await?;
        pay_with(&c, "4000 0000 0000 3220").await?;
        let challenge = wait_text(&c, "main .lead", "42,00").await?;
        assert!(challenge.contains("confirmer"), "{challenge}");
        click(&c, "button[data-success=true]").await?;
        wait_text(&c, ".status-box", "Paiement reçu").await?;

        // A two-line invoice: the live total is the one the server computes.
        c.goto(&format!("{base}/invoices/new")).await?;
        fill(&c, "#description-0", "Audit").await?;
        fill(&c, "#quantity-0", "2").await?;
        fill(&c, "#unit_amount-0", "500").await?;
        fill(&c, "#tax_rate-0", "20").await?;
        click(&c, "[data-add]").await?;
        fill(&c, "#description-1", "Déplacement").await?;
        fill(&c, "#quantity-1", "1").await?;
        fill(&c, "#unit_amount-1", "3,33").await?;
        fill(&c, "#tax_rate-1", "5,5").await?;
        let live = wait_text(&c, "[data-total]", "203,51").await?;
        assert_eq!(plain(&live), "1 203,51 €");
        click(&c, "main form button.primary").await?;
        let invoice_path = wait_invoice_page(&c).await?;
        let total = text(&c, "[data-invoice-total]").await?;
        assert_eq!(total, live, "the live total is the server's");
        assert_eq!(plain(&text(&c, "[data-invoice-tax]").await?), "200,18 €");

        // Pay it.
        pay_with(&c, "4242 4242 4242 4242").await?;
        wait_text(&c, ".flash", "payée").await?;
        wait_text(&c, "h1 .badge", "Payée").await?;

        // Download its PDF.
        let pdf = element(&c, "a[download]")
            .await?
            .attr("href")
            .await?
            .unwrap_or_default();
        let (status, kind, head) = fetch_start(&c, &pdf).await?;
        assert_eq!(
            (status, kind.as_str(), head.as_str()),
            (200, "application/pdf", "%PDF-")
        );

        // Its signed link, signed out.
        let link = element(&c, "[data-share-link]")
            .await?
            .attr("href")
            .await?
            .unwrap_or_default();
        let session = c.get_named_cookie("bs_session").await?;
        c.delete_cookie("bs_session").await?;
        c.goto(&format!("{base}{link}")).await?;
        wait_text(&c, "h1", "Facture BS-").await?;
        wait_text(&c, "h1 .badge", "Payée").await?;
        assert_eq!(text(&c, "[data-invoice-total]").await?, total);
        let public_pdf = element(&c, "a[download]")
            .await?
            .attr("href")
            .await?
            .unwrap_or_default();
        let (status, kind, head) = fetch_start(&c, &public_pdf).await?;
        assert_eq!(
            (status, kind.as_str(), head.as_str()),
            (200, "application/pdf", "%PDF-")
        );
        let menu = text(&c, ".menu").await?;
        assert!(!menu.contains("Tableau de bord"), "signed out: {menu}");
        c.add_cookie(session).await?;

        // Switch to English: the same invoice, in English.
        c.goto(&format!("{base}{invoice_path}")).await?;
        click(&c, "a[hreflang=en]").await?;
        wait_text(&c, "h1", "Invoice BS-").await?;
        assert_eq!(
            c.execute("return document.documentElement.lang", vec![])
                .await?,
            Value::from("en")
        );
        assert_eq!(text(&c, "[data-invoice-total]").await?, "€1,203.51");
        // The README's screenshots are rewritten only on request (UPDATE_SCREENSHOTS=1): the
        // signed link's expiry and the dates differ on every run, and a test run must not
        // leave the tree changed. Otherwise they go under target/.
        let screenshots = if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
            repo_dir().join("docs/screenshots")
        } else {
            repo_dir().join("target/screenshots")
        };
        save_full_page(&c, &screenshots.join("invoice.png"), 1200).await?;
        c.goto(&format!("{base}/dashboard")).await?;
        wait_text(&c, "h1", "Hello, Ada Lovelace").await?;
        save_full_page(&c, &screenshots.join("dashboard.png"), 1200).await?;
        c.set_window_size(1200, 900).await?;

        // Sign out: the dashboard is closed, and asks to sign in to come back to it.
        click_text(&c, "Sign out").await?;
        wait_text(&c, ".flash", "signed out").await?;
        c.goto(&format!("{base}/dashboard")).await?;
        wait_path(&c, "/login?next=/dashboard").await?;
        wait_text(&c, ".flash", "Please sign in").await?;
        Ok(())
    })
    .await;
}
