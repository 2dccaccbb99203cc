//! The Stripe adapter as the provider port: customers, PaymentIntents and refunds through
//! async-stripe's request builders, Billing through `billing`; answers decoded by `decode` and
//! `billing_decode`. Requests go out through `transport`, with its retries.

use std::collections::HashMap;
use std::str::FromStr;

use async_trait::async_trait;
use stripe_core::customer::{CreateCustomer, DeleteCustomer, UpdateCustomer};
use stripe_core::payment_intent::{
    ConfirmPaymentIntent, CreatePaymentIntent, RetrievePaymentIntent, UpdatePaymentIntent,
};
use stripe_core::refund::CreateRefund;
use stripe_types::Currency;

use super::decode;
use super::metadata;
use super::transport::{Failure, StripeProvider};
use crate::provider::{
    ChargeError, CustomerDetails, ListedEvent, NewCreditNote, NewCustomer, NewInvoice,
    NewPaymentIntent, NewRefund, NewSubscription, PaymentIntent, PaymentProvider, PlanPrice,
    ProviderCustomer, ProviderError, ProviderInvoice, ProviderSubscription, Refund,
};

/// On a customer call, a missing object is the customer.
fn missing_means_customer(error: ProviderError) -> ProviderError {
    match error {
        ProviderError::NoSuchPaymentIntent => ProviderError::NoSuchCustomer,
        other => other,
    }
}

fn currency(code: &str) -> Result<Currency, ProviderError> {
    Currency::from_str(code).map_err(|_| {
        ProviderError::Provider(format!("currency {code} unknown to the Stripe client"))
    })
}

#[async_trait]
impl PaymentProvider for StripeProvider {
    #[tracing::instrument(skip_all)]
    async fn create_customer(
        &self,
        customer: &NewCustomer,
        idempotency_key: &str,
    ) -> Result<ProviderCustomer, ProviderError> {
        let mut request = CreateCustomer::new()
            .email(customer.email.as_str())
            .name(customer.name.as_str())
            .metadata(HashMap::from([(
                metadata::CUSTOMER_ID.to_owned(),
                customer.customer_id.clone(),
            )]));
        if let Some(phone) = &customer.phone {
            request = request.phone(phone.as_str());
        }
        let created = self.call(&request, Some(idempotency_key)).await?;
        Ok(ProviderCustomer {
            id: decode::object_id(&created)?,
        })
    }

    #[tracing::instrument(skip_all)]
    async fn update_customer(
        &self,
        stripe_customer_id: &str,
        details: &CustomerDetails,
        idempotency_key: &str,
    ) -> Result<(), ProviderError> {
        // Stripe clears a field set to the empty string.
        let request = UpdateCustomer::new(stripe_customer_id)
            .name(details.name.as_str())
            .phone(details.phone.as_deref().unwrap_or(""));
        self.call(&request, Some(idempotency_key))
            .await
            .map_err(missing_means_customer)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn delete_customer(&self, stripe_customer_id: &str) -> Result<(), ProviderError> {
        self.call(&DeleteCustomer::new(stripe_customer_id), None)
            .await
            .map_err(missing_means_customer)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn create_payment_intent(
        &self,
        intent: &NewPaymentIntent,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, ProviderError> {
        let mut metadata: HashMap<String, String> = intent.metadata.clone().into_iter().collect();
        metadata.insert(metadata::PAYMENT_ID.into(), intent.payment_id.clone());
        let mut request = CreatePaymentIntent::new(intent.amount, currency(&intent.currency)?)
            .customer(intent.stripe_customer_id.as_str())
            .metadata(metadata);
        if let Some(description) = &intent.description {
            request = request.description(description.as_str());
        }
        decode::payment_intent(self.call(&request, Some(idempotency_key)).await?)
    }

    #[tracing::instrument(skip_all)]
    async fn confirm_payment_intent(
        &self,
        payment_intent_id: &str,
        payment_method: &str,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, ProviderError> {
        // Attach the method by updating the intent, then confirm without it: valid on Stripe,
        // and the only form localstripe accepts.
        let attach = UpdatePaymentIntent::new(payment_intent_id).payment_method(payment_method);
        self.call(&attach, Some(&format!("{idempotency_key}-attach")))
            .await
            .map_err(|error| match error {
                ProviderError::NoSuchPaymentIntent => ProviderError::InvalidPaymentMethod(format!(
                    "No such PaymentMethod: '{payment_method}'"
                )),
                other => other,
            })?;
        match self
            .send(
                &ConfirmPaymentIntent::new(payment_intent_id),
                Some(idempotency_key),
            )
            .await
        {
            Ok(confirmed) => decode::payment_intent(confirmed),
            Err(Failure::CardError {
                code,
                decline_code,
                message,
            }) => {
                // A decline is an outcome, not an error: report the intent with its decline.
                let mut intent = self.retrieve_payment_intent(payment_intent_id).await?;
                let decline = ChargeError {
                    code,
                    decline_code,
                    message,
                };
                match &mut intent.last_error {
                    Some(error) if error.decline_code.is_none() => {
                        error.decline_code = decline.decline_code;
                    }
                    Some(_) => {}
                    None => intent.last_error = Some(decline),
                }
                Ok(intent)
            }
            Err(Failure::Final(error)) => Err(error),
            Err(Failure::Transient(reason)) => Err(ProviderError::Provider(reason)),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn retrieve_payment_intent(
        &self,
        payment_intent_id: &str,
    ) -> Result<PaymentIntent, ProviderError> {
        decode::payment_intent(
            self.call(&RetrievePaymentIntent::new(payment_intent_id), None)
                .await?,
        )
    }

    #[tracing::instrument(skip_all)]
    async fn create_refund(
        &self,
        refund: &NewRefund,
        idempotency_key: &str,
    ) -> Result<Refund, ProviderError> {
        let request = CreateRefund::new()
            .payment_intent(refund.payment_intent_id.as_str())
            .amount(refund.amount)
            .metadata(HashMap::from([(
                metadata::REFUND_ID.to_owned(),
                refund.refund_id.clone(),
            )]));
        decode::refund(&self.call(&request, Some(idempotency_key)).await?)
    }

    #[tracing::instrument(skip_all)]
    async fn set_default_payment_method(
        &self,
        stripe_customer_id: &str,
        payment_method: &str,
        idempotency_key: &str,
    ) -> Result<(), ProviderError> {
        self.stripe_set_default_payment_method(stripe_customer_id, payment_method, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn ensure_price(&self, price: &PlanPrice) -> Result<PlanPrice, ProviderError> {
        self.stripe_ensure_price(price).await
    }

    #[tracing::instrument(skip_all)]
    async fn create_subscription(
        &self,
        subscription: &NewSubscription,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        self.stripe_create_subscription(subscription, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn cancel_subscription(
        &self,
        subscription_id: &str,
        at_period_end: bool,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        self.stripe_cancel_subscription(subscription_id, at_period_end, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn resume_subscription(
        &self,
        subscription_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        self.stripe_resume_subscription(subscription_id, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn change_subscription_price(
        &self,
        subscription_id: &str,
        price: &PlanPrice,
        idempotency_key: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        self.stripe_change_price(subscription_id, price, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn create_invoice(
        &self,
        invoice: &NewInvoice,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        self.stripe_create_invoice(invoice, idempotency_key).await
    }

    #[tracing::instrument(skip_all)]
    async fn finalize_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        self.stripe_invoice_action(invoice_id, "finalize", None, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn pay_invoice(
        &self,
        invoice_id: &str,
        payment_method: Option<&str>,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        self.stripe_invoice_action(invoice_id, "pay", payment_method, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn void_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        self.stripe_void_invoice(invoice_id, idempotency_key).await
    }

    #[tracing::instrument(skip_all)]
    async fn credit_invoice(
        &self,
        invoice_id: &str,
        credit: &NewCreditNote,
        idempotency_key: &str,
    ) -> Result<(), ProviderError> {
        self.stripe_credit_invoice(invoice_id, credit, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn send_invoice(
        &self,
        invoice_id: &str,
        idempotency_key: &str,
    ) -> Result<ProviderInvoice, ProviderError> {
        self.stripe_invoice_action(invoice_id, "send", None, idempotency_key)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn list_events(&self, since: i64) -> Result<Vec<ListedEvent>, ProviderError> {
        self.stripe_list_events(since).await
    }

    #[tracing::instrument(skip_all)]
    async fn retrieve_subscription(
        &self,
        subscription_id: &str,
    ) -> Result<ProviderSubscription, ProviderError> {
        self.stripe_retrieve_subscription(subscription_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn retrieve_invoice(&self, invoice_id: &str) -> Result<ProviderInvoice, ProviderError> {
        self.stripe_retrieve_invoice(invoice_id).await
    }
}
