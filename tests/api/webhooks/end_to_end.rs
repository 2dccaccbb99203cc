//! Whole flows through the webhook path: a thousand concurrent deliveries, a sandbox payment,
//! localstripe's signed webhooks, and the operators' inbox.

use super::*;

#[tokio::test]
async fn a_thousand_concurrent_deliveries_across_a_hundred_objects_end_in_the_intended_states() {
    let app = app_with_secret(SECRET).await;
    let (token, customer) = stripe_customer(&app, "storm@example.com").await;
    let base = now() - 600;
    let mut deliveries = Vec::new();
    for n in 0..100 {
        for (i, event) in lifecycle(n, &customer, base).into_iter().enumerate() {
            // 10 deliveries per object: every event at least twice, the refund four times.
            let copies = if i == 3 { 4 } else { 2 };
            deliveries.extend(std::iter::repeat_n(event, copies));
        }
    }
    assert_eq!(deliveries.len(), 1_000);
    shuffle(&mut deliveries, 42);
    let statuses: Vec<StatusCode> = futures::stream::iter(deliveries.iter())
        .map(|delivery| deliver(&app, delivery))
        .buffer_unordered(64)
        .map(|response| response.status())
        .collect()
        .await;
    assert!(statuses.iter().all(|status| *status == StatusCode::OK));
    settled(&app).await;

    assert_eq!(count(&app, "SELECT COUNT(*) FROM stripe_inbox").await, 400);
    let mut payments = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/payments/history?limit=100&cursor={cursor}"),
            None => "/api/payments/history?limit=100".to_owned(),
        };
        let page = app.get_json(&path, Some(&token)).await;
        payments.extend(page["data"].as_array().unwrap().clone());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(payments.len(), 100);
    for payment in &payments {
        assert_eq!(payment["status"], "partially_refunded", "{payment}");
        assert_eq!(payment["refunded_amount"], 300, "{payment}");
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM events WHERE event_type = 'PaymentRefunded'"
        )
        .await,
        100
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM events WHERE event_type = 'PaymentCreated'"
        )
        .await,
        100
    );
}

#[tokio::test]
async fn a_sandbox_payment_reaches_its_final_state_through_the_webhook_path() {
    // The sandbox delivers its own signed events to the service.
    let app = spawn_app().await;
    let token = app.token_for("sandbox-hooks@example.com").await;
    let created = app.create_intent(&token, 4_200, "eur").await;
    let intent_id = created["payment_intent_id"].as_str().unwrap();
    let (_, pending) = app
        .confirm(&token, intent_id, "pm_card_authenticationRequired")
        .await;
    assert_eq!(pending["status"], "requires_action");
    app.post_json(
        &format!("/sandbox/payment_intents/{intent_id}/authenticate"),
        &json!({"success": true}),
        None,
    )
    .await;
    // No GET (which would ask the provider): only the webhook can bring the news.
    let mut status = String::new();
    for _ in 0..100 {
        status = sqlx::query_scalar("SELECT status FROM payments WHERE payment_intent_id = ?")
            .bind(intent_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        if status == "succeeded" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "succeeded");
    let applied: String = sqlx::query_scalar(
        "SELECT status FROM stripe_inbox WHERE type = 'payment_intent.succeeded' AND object_id = ?",
    )
    .bind(intent_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(applied, "applied");
}

#[tokio::test]
async fn localstripe_webhooks_reach_the_projections() {
    let localstripe = LocalStripe::start().await;
    let app = spawn_app_with(&[
        ("STRIPE_SECRET_KEY", LOCALSTRIPE_KEY),
        ("STRIPE_API_BASE", &localstripe.url),
        ("STRIPE_WEBHOOK_SECRET", SECRET),
    ])
    .await;
    localstripe
        .register_webhook(
            "billstream",
            &app.url("/api/webhooks/stripe"),
            SECRET,
            &[
                "payment_intent.succeeded",
                "payment_intent.payment_failed",
                "customer.updated",
                "customer.subscription.created",
                "customer.subscription.updated",
                "invoice.created",
                "invoice.payment_succeeded",
            ],
        )
        .await;
    let (token, customer) = stripe_customer(&app, "localstripe-hooks@example.com").await;

    // A payment made in Stripe directly, for a customer we know, shows up in our history.
    let intent_id = localstripe.pay_directly(&customer, 3_300).await;
    let mut found = Value::Null;
    for _ in 0..100 {
        let history = app.get_json("/api/payments/history", Some(&token)).await;
        if let Some(payment) = history["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["payment_intent_id"] == intent_id.as_str())
        {
            found = payment.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(found["status"], "succeeded", "{found}");
    assert_eq!(found["amount"], 3_300);
    let verified: i64 = count(
        &app,
        "SELECT COUNT(*) FROM stripe_inbox WHERE type = 'payment_intent.succeeded'",
    )
    .await;
    assert!(
        verified >= 1,
        "localstripe's signed delivery was verified and stored"
    );

    // A subscription made in Stripe directly shows up in our subscriptions.
    let subscription_id = localstripe
        .subscribe_directly(&customer, "plan_particulier", 990)
        .await;
    let mut row = None;
    for _ in 0..100 {
        row = projections::Subscriptions::find_by_stripe_id(&app.pool, &subscription_id)
            .await
            .unwrap();
        if row.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let row = row.expect("the subscription reached the projection");
    assert_eq!(row.status, "active");
    // A price outside billstream's catalog: recorded, but no plan of ours.
    assert_eq!(row.price.as_deref(), Some("plan_particulier"));
    assert_eq!(row.plan, None);
    assert!(row.current_period_end.is_some());
    let profile = app.get_json("/api/auth/profile", Some(&token)).await;
    assert_eq!(row.customer_id, profile["id"].as_str().unwrap());

    // The customer sees it through the API; another customer does not.
    let listed = app.get_json("/api/subscriptions", Some(&token)).await;
    assert_eq!(
        listed["data"][0]["stripe_subscription_id"],
        subscription_id.as_str()
    );
    assert_eq!(listed["data"][0]["status"], "active");
    assert_eq!(listed["data"][0]["plan"], Value::Null);

    // Its first invoice, made and paid by Stripe, is adopted from the invoice events.
    let mut invoice = Value::Null;
    for _ in 0..100 {
        let invoices = app.get_json("/api/invoices/list", Some(&token)).await;
        invoice = invoices["data"][0].clone();
        if invoice["status"] == "paid" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(invoice["status"], "paid", "{invoice}");
    assert_eq!(invoice["total"], 990);
    assert_eq!(invoice["amount_paid"], 990);
    assert_eq!(invoice["stripe_subscription_id"], subscription_id.as_str());
    let one = app
        .get_json(
            &format!("/api/subscriptions/{}", row.subscription_id),
            Some(&token),
        )
        .await;
    assert_eq!(one, listed["data"][0]);
    let (stranger, _) = stripe_customer(&app, "stranger@example.com").await;
    let hidden = app
        .get(
            &format!("/api/subscriptions/{}", row.subscription_id),
            Some(&stranger),
        )
        .await;
    assert_error(hidden, StatusCode::NOT_FOUND, "not_found").await;
    let empty = app.get_json("/api/subscriptions", Some(&stranger)).await;
    assert_eq!(empty["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn operators_can_list_and_requeue_inbox_events() {
    let app = app_with_secret(SECRET).await;
    deliver(
        &app,
        &event(
            "evt_cli",
            "balance.available",
            now(),
            json!({"id": "bal_1"}),
        ),
    )
    .await;
    settled(&app).await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_billstream"))
            .args(args)
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", app.db_path.display()),
            )
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let listed = run(&["inbox", "list", "--status", "ignored"]);
    let line: Value =
        serde_json::from_slice(listed.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["event_id"], "evt_cli");
    assert_eq!(line["status"], "ignored");
    let retried = run(&["inbox", "retry", "evt_cli"]);
    assert!(String::from_utf8_lossy(&retried.stdout).contains("1 event(s) queued again"));
    let refused = run(&["inbox", "retry"]);
    assert!(!refused.status.success());
}

#[tokio::test]
async fn against_localstripe_our_api_subscribes_on_a_plan_and_the_first_invoice_is_paid() {
    let localstripe = LocalStripe::start().await;
    let app = spawn_app_with(&[
        ("STRIPE_SECRET_KEY", LOCALSTRIPE_KEY),
        ("STRIPE_API_BASE", &localstripe.url),
        ("STRIPE_WEBHOOK_SECRET", SECRET),
    ])
    .await;
    localstripe
        .register_webhook(
            "billstream",
            &app.url("/api/webhooks/stripe"),
            SECRET,
            &[
                "customer.subscription.created",
                "customer.subscription.updated",
                "invoice.created",
                "invoice.payment_succeeded",
                "invoice.payment_failed",
            ],
        )
        .await;
    let (token, _) = stripe_customer(&app, "api-subscriber@example.com").await;
    let card = localstripe.card_payment_method("4242424242424242").await;

    // No Prices API there: the plan's price is a legacy Plan created once by lookup key.
    let response = app
        .post_json(
            "/api/subscriptions",
            &json!({"plan": "professionnel", "payment_method": card, "trial_days": 0}),
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["status"], "active", "{created}");
    assert_eq!(created["plan"], "professionnel");
    assert_eq!(created["amount"], 2_990);
    let (status, plan) = localstripe
        .get("/v1/plans/billstream_professionnel_2990_eur_month")
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");

    let mut invoice = Value::Null;
    for _ in 0..100 {
        let invoices = app.get_json("/api/invoices/list", Some(&token)).await;
        invoice = invoices["data"][0].clone();
        if invoice["status"] == "paid" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(invoice["status"], "paid", "{invoice}");
    assert_eq!(invoice["total"], 2_990);
    assert_eq!(
        invoice["stripe_subscription_id"],
        created["stripe_subscription_id"]
    );

    // Cancelling at period end goes to Stripe and back.
    let id = created["subscription_id"].as_str().unwrap();
    let response = app
        .post_json(
            &format!("/api/subscriptions/{id}/cancel"),
            &json!({"at_period_end": true}),
            Some(&token),
        )
        .await;
    let cancelling: Value = response.json().await.unwrap();
    assert_eq!(cancelling["cancel_at_period_end"], true, "{cancelling}");
}
