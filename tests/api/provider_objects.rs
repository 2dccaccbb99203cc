//! The gateway contract for what reconciliation's object pass reads: a subscription and an
//! invoice are retrieved as the provider holds them, and an unknown one is reported missing —
//! on the sandbox, and on localstripe through the Stripe adapter. What differs: localstripe
//! cannot create an invoice through billstream's call (`localstripe_invoices`), so there the
//! invoice retrieved is the one its subscription made.

use aggregates::invoice::{CollectionMethod, InvoiceLine};
use billstream::config::Secret;
use billstream::provider::sandbox::SandboxProvider;
use billstream::provider::stripe::StripeProvider;
use billstream::provider::{
    NewCustomer, NewInvoice, NewSubscription, PaymentProvider, PlanPrice, ProviderError,
};
use uuid::Uuid;

use crate::helpers::open_pool;
use crate::support::localstripe::{LocalStripe, LOCALSTRIPE_KEY};

fn key() -> String {
    format!("objects-{}", Uuid::new_v4())
}

async fn customer(provider: &dyn PaymentProvider) -> String {
    provider
        .create_customer(
            &NewCustomer {
                customer_id: Uuid::new_v4().to_string(),
                email: "objects@example.com".into(),
                name: "Object Test".into(),
                phone: None,
            },
            &key(),
        )
        .await
        .expect("customer created")
        .id
}

/// Unknown ids are reported as the missing object they name, not as a failure.
async fn unknown_objects_are_reported_missing(provider: &dyn PaymentProvider) {
    let subscription = provider.retrieve_subscription("sub_doesnotexist0000").await;
    assert!(
        matches!(subscription, Err(ProviderError::NoSuchSubscription)),
        "{subscription:?}"
    );
    let invoice = provider.retrieve_invoice("in_doesnotexist00000").await;
    assert!(
        matches!(invoice, Err(ProviderError::NoSuchInvoice)),
        "{invoice:?}"
    );
}

#[tokio::test]
async fn the_sandbox_retrieves_subscriptions_and_invoices_as_it_holds_them() {
    let dir = tempfile::tempdir().unwrap();
    let pool = open_pool(&dir.path().join("objects.db")).await;
    let provider = SandboxProvider::new(pool);
    let customer = customer(&provider).await;
    provider
        .set_default_payment_method(&customer, "pm_card_visa", &key())
        .await
        .expect("card set");
    let price = provider
        .ensure_price(&PlanPrice {
            price_id: String::new(),
            legacy_plan: false,
            plan_id: "particulier".into(),
            product_name: "Particulier".into(),
            amount: 990,
            currency: "eur".into(),
            interval: "month".into(),
        })
        .await
        .expect("price");
    let created = provider
        .create_subscription(
            &NewSubscription {
                subscription_id: Uuid::new_v4().to_string(),
                stripe_customer_id: customer.clone(),
                price,
                trial_days: Some(14),
            },
            &key(),
        )
        .await
        .expect("subscribed");
    let retrieved = provider
        .retrieve_subscription(&created.id)
        .await
        .expect("retrieved");
    assert_eq!(retrieved, created);
    assert_eq!(retrieved.status, "trialing");

    let draft = provider
        .create_invoice(
            &NewInvoice {
                invoice_id: Uuid::new_v4().to_string(),
                stripe_customer_id: customer,
                currency: "eur".into(),
                lines: vec![InvoiceLine {
                    description: "Audit".into(),
                    quantity: 1,
                    unit_amount: 10_000,
                    tax_rate_bps: 2_000,
                }],
                memo: None,
                due_days: 30,
                collection_method: CollectionMethod::SendInvoice,
            },
            &key(),
        )
        .await
        .expect("invoice created");
    let retrieved = provider
        .retrieve_invoice(&draft.id)
        .await
        .expect("retrieved");
    assert_eq!(retrieved, draft);
    assert_eq!(retrieved.status, "draft");
    assert_eq!(retrieved.total, 12_000);

    unknown_objects_are_reported_missing(&provider).await;
}

#[tokio::test]
async fn the_stripe_adapter_retrieves_subscriptions_and_invoices_from_localstripe() {
    let localstripe = LocalStripe::start().await;
    let provider = StripeProvider::new(&Secret::new(LOCALSTRIPE_KEY), &localstripe.url).unwrap();
    let customer = customer(&provider).await;
    let subscription_id = localstripe
        .subscribe_directly(&customer, "objects-monthly", 1_500)
        .await;
    let (_, raw) = localstripe
        .get(&format!("/v1/subscriptions/{subscription_id}"))
        .await;

    let subscription = provider
        .retrieve_subscription(&subscription_id)
        .await
        .expect("retrieved");
    assert_eq!(subscription.id, subscription_id);
    assert_eq!(subscription.status, raw["status"].as_str().unwrap());
    assert_eq!(subscription.customer.as_deref(), Some(customer.as_str()));

    let invoice_id = raw["latest_invoice"].as_str().expect("an invoice made");
    let invoice = provider
        .retrieve_invoice(invoice_id)
        .await
        .expect("retrieved");
    let (_, raw_invoice) = localstripe.get(&format!("/v1/invoices/{invoice_id}")).await;
    assert_eq!(invoice.id, invoice_id);
    assert_eq!(invoice.status, raw_invoice["status"].as_str().unwrap());
    assert_eq!(
        invoice.subscription.as_deref(),
        Some(subscription_id.as_str())
    );

    unknown_objects_are_reported_missing(&provider).await;
}
