//! Stripe Billing and Invoicing through the Stripe adapter. These endpoints are called with
//! form parameters of billstream's choosing (`FormRequest`), so one code path serves Stripe and
//! older-shaped implementations of its API (localstripe: Plans instead of Prices, no
//! `default_payment_method` on subscriptions). Responses are decoded by `billing_decode`.
//! Invoices and credit notes are in `invoices`, voiding in `void`.

use miniserde::json::Value as MiniValue;
use serde_json::Value;
use stripe::StripeRequest;
use stripe_client_core::{RequestBuilder, StripeMethod};

use super::billing_decode;
use super::metadata;
use super::transport::{Failure, StripeProvider};
use crate::provider::{NewSubscription, PlanPrice, ProviderError, ProviderSubscription};

/// A request to any Stripe endpoint with form-encoded parameters.
pub struct FormRequest {
    method: StripeMethod,
    path: String,
    form: Vec<(String, String)>,
}

impl FormRequest {
    pub(super) fn new(method: StripeMethod, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            form: Vec::new(),
        }
    }

    pub(super) fn post(path: impl Into<String>) -> Self {
        Self::new(StripeMethod::Post, path)
    }

    pub(super) fn get(path: impl Into<String>) -> Self {
        Self::new(StripeMethod::Get, path)
    }

    pub(super) fn param(mut self, key: impl Into<String>, value: impl ToString) -> Self {
        self.form.push((key.into(), value.to_string()));
        self
    }
}

impl StripeRequest for FormRequest {
    type Output = MiniValue;

    fn build(&self) -> RequestBuilder {
        let mut builder = RequestBuilder::new(self.method, self.path.clone());
        let encoded = serde_urlencoded::to_string(&self.form).unwrap_or_default();
        if !encoded.is_empty() {
            match self.method {
                StripeMethod::Get => builder.query = Some(encoded),
                _ => builder.body = Some(encoded),
            }
        }
        builder
    }
}

/// A missing object on a subscription call is the subscription.
fn missing_subscription(error: ProviderError) -> ProviderError {
    match error {
        ProviderError::NoSuchPaymentIntent => ProviderError::NoSuchSubscription,
        other => other,
    }
}

/// A missing object on an invoice call is the invoice.
pub(super) fn missing_invoice(error: ProviderError) -> ProviderError {
    match error {
        ProviderError::NoSuchPaymentIntent => ProviderError::NoSuchInvoice,
        other => other,
    }
}

/// The price parameter of a subscription item: a Price, or a legacy Plan.
fn item_price(request: FormRequest, index: usize, price: &PlanPrice) -> FormRequest {
    let field = if price.legacy_plan { "plan" } else { "price" };
    request.param(format!("items[{index}][{field}]"), &price.price_id)
}

/// The lookup key of a plan's price: a changed amount, currency or interval is a new price.
fn lookup_key(price: &PlanPrice) -> String {
    format!(
        "billstream_{}_{}_{}_{}",
        price.plan_id, price.amount, price.currency, price.interval
    )
}

impl StripeProvider {
    pub(super) async fn stripe_set_default_payment_method(
        &self,
        customer: &str,
        payment_method: &str,
        key: &str,
    ) -> Result<(), ProviderError> {
        // Attaching a test token (pm_card_visa) yields a new PaymentMethod: use its id.
        let attach = FormRequest::post(format!("/payment_methods/{payment_method}/attach"))
            .param("customer", customer);
        let attached = match self.send(&attach, Some(&format!("{key}-attach"))).await {
            Ok(attached) => attached,
            Err(Failure::CardError { message, .. }) => {
                return Err(ProviderError::InvalidPaymentMethod(message))
            }
            Err(Failure::Final(ProviderError::NoSuchPaymentIntent)) => {
                return Err(ProviderError::InvalidPaymentMethod(format!(
                    "No such PaymentMethod: '{payment_method}'"
                )))
            }
            Err(failure) => return Err(failure.into_error()),
        };
        let id = attached["id"].as_str().unwrap_or(payment_method).to_owned();
        let update = FormRequest::post(format!("/customers/{customer}"))
            .param("invoice_settings[default_payment_method]", id);
        self.call(&update, Some(key))
            .await
            .map(|_| ())
            .map_err(|e| match e {
                ProviderError::NoSuchPaymentIntent => ProviderError::NoSuchCustomer,
                other => other,
            })
    }

    pub(super) async fn stripe_ensure_price(
        &self,
        price: &PlanPrice,
    ) -> Result<PlanPrice, ProviderError> {
        if !price.price_id.is_empty() {
            return Ok(price.clone());
        }
        let key = lookup_key(price);
        let found = FormRequest::get("/prices")
            .param("lookup_keys[]", &key)
            .param("active", "true");
        match self.call(&found, None).await {
            Ok(list) => {
                let price_id = match list["data"][0]["id"].as_str() {
                    Some(id) => id.to_owned(),
                    None => {
                        let create = FormRequest::post("/prices")
                            .param("unit_amount", price.amount)
                            .param("currency", &price.currency)
                            .param("recurring[interval]", &price.interval)
                            .param("product_data[name]", &price.product_name)
                            .param("lookup_key", &key)
                            .param(metadata::form_param(metadata::PLAN_ID), &price.plan_id);
                        let created = self.call(&create, Some(&key)).await?;
                        billing_id(&created)?
                    }
                };
                Ok(PlanPrice {
                    price_id,
                    legacy_plan: false,
                    ..price.clone()
                })
            }
            // No Prices API (localstripe answers a plain-text 404, which the client reports as
            // an unreadable error): a legacy Plan whose id is the lookup key.
            Err(ProviderError::NoSuchPaymentIntent | ProviderError::Provider(_)) => {
                let existing = self
                    .call(&FormRequest::get(format!("/plans/{key}")), None)
                    .await;
                match existing {
                    Ok(_) => {}
                    Err(ProviderError::NoSuchPaymentIntent) => {
                        let create = FormRequest::post("/plans")
                            .param("id", &key)
                            .param("amount", price.amount)
                            .param("currency", &price.currency)
                            .param("interval", &price.interval)
                            .param("product[name]", &price.product_name);
                        self.call(&create, Some(&key)).await?;
                    }
                    Err(other) => return Err(other),
                }
                Ok(PlanPrice {
                    price_id: key,
                    legacy_plan: true,
                    ..price.clone()
                })
            }
            Err(other) => Err(other),
        }
    }

    pub(super) async fn stripe_create_subscription(
        &self,
        new: &NewSubscription,
        key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        let mut request = FormRequest::post("/subscriptions")
            .param("customer", &new.stripe_customer_id)
            .param("payment_behavior", "allow_incomplete")
            .param(
                metadata::form_param(metadata::SUBSCRIPTION_ID),
                &new.subscription_id,
            );
        request = item_price(request, 0, &new.price);
        if let Some(days) = new.trial_days.filter(|days| *days > 0) {
            request = request.param("trial_period_days", days);
        }
        let created = self
            .send(&request, Some(key))
            .await
            .map_err(|failure| match failure {
                Failure::CardError { message, .. } => ProviderError::InvalidPaymentMethod(message),
                other => other.into_error(),
            })?;
        billing_decode::subscription(&created)
    }

    pub(super) async fn stripe_update_subscription(
        &self,
        request: FormRequest,
        key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        let updated = self
            .call(&request, Some(key))
            .await
            .map_err(missing_subscription)?;
        billing_decode::subscription(&updated)
    }

    pub(super) async fn stripe_resume_subscription(
        &self,
        id: &str,
        key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        let request =
            FormRequest::post(format!("/subscriptions/{id}")).param("cancel_at_period_end", false);
        self.stripe_update_subscription(request, key).await
    }

    pub(super) async fn stripe_cancel_subscription(
        &self,
        id: &str,
        at_period_end: bool,
        key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        let request = if at_period_end {
            FormRequest::post(format!("/subscriptions/{id}")).param("cancel_at_period_end", true)
        } else {
            FormRequest::new(StripeMethod::Delete, format!("/subscriptions/{id}"))
        };
        self.stripe_update_subscription(request, key).await
    }

    /// The subscription as Stripe has it now.
    pub(super) async fn stripe_retrieve_subscription(
        &self,
        id: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        let subscription = self
            .call(&FormRequest::get(format!("/subscriptions/{id}")), None)
            .await
            .map_err(missing_subscription)?;
        billing_decode::subscription(&subscription)
    }

    pub(super) async fn stripe_change_price(
        &self,
        id: &str,
        price: &PlanPrice,
        key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        let current = self
            .call(&FormRequest::get(format!("/subscriptions/{id}")), None)
            .await
            .map_err(missing_subscription)?;
        let item = current["items"]["data"][0]["id"]
            .as_str()
            .ok_or_else(|| ProviderError::Provider("a subscription without items".into()))?;
        let request = FormRequest::post(format!("/subscriptions/{id}")).param("items[0][id]", item);
        self.stripe_update_subscription(item_price(request, 0, price), key)
            .await
    }
}

pub(super) fn billing_id(object: &Value) -> Result<String, ProviderError> {
    object["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| ProviderError::Provider("a Stripe object without an id".into()))
}
