//! The card form every payment page shares, and the plain words for where a payment stands
//! and why a card was declined. In Stripe mode the form is Stripe Elements, confirming with
//! the intent's client secret or creating a PaymentMethod; in sandbox mode it is billstream's
//! own form, whose card number goes to the sandbox (standing in for Stripe's API) and comes
//! back as a sandbox payment-method id. Either way only that id reaches the portal.

use aggregates::payment::PaymentStatus;

use super::i18n::{fill, Catalog};
use super::page::Visitor;

/// The card form's settings.
pub struct CardForm {
    /// `sandbox` or `stripe`.
    pub mode: &'static str,
    pub publishable_key: String,
    /// Stripe mode, a one-off payment: Stripe.js confirms the intent itself.
    pub client_secret: String,
    /// Where Stripe.js goes once it confirmed the intent.
    pub return_url: String,
    pub action: String,
    pub button: String,
    pub hidden: Vec<(String, String)>,
    /// The message of the last attempt (a refused card), shown above the button.
    pub error: String,
}

impl CardForm {
    /// A form posting a payment-method id to `action`.
    pub fn new(
        visitor: &Visitor,
        action: String,
        button: String,
        hidden: Vec<(String, String)>,
        error: String,
    ) -> Self {
        Self {
            mode: if visitor.sandbox { "sandbox" } else { "stripe" },
            publishable_key: visitor.stripe_key.clone().unwrap_or_default(),
            client_secret: String::new(),
            return_url: String::new(),
            action,
            button,
            hidden,
            error,
        }
    }

    /// In Stripe mode, confirm the intent with its client secret in the browser, then go to
    /// `return_url`.
    pub fn confirming(mut self, client_secret: &str, return_url: String) -> Self {
        if self.mode == "stripe" {
            self.client_secret = client_secret.to_owned();
            self.return_url = return_url;
        }
        self
    }
}

/// A payment status in a word or two.
pub fn status_label(t: &Catalog, status: &str) -> &'static str {
    match PaymentStatus::parse(status) {
        Some(PaymentStatus::RequiresPaymentMethod) => t.status_requires_payment_method,
        Some(PaymentStatus::RequiresAction) => t.status_requires_action,
        Some(PaymentStatus::Processing) => t.status_processing,
        Some(PaymentStatus::Succeeded) => t.status_succeeded,
        Some(PaymentStatus::Failed) => t.status_failed,
        Some(PaymentStatus::Canceled) => t.status_canceled,
        Some(PaymentStatus::PartiallyRefunded) => t.status_partially_refunded,
        Some(PaymentStatus::Refunded) => t.status_refunded,
        None => t.status_processing,
    }
}

/// Why a card was declined, in plain words.
pub fn decline_reason(t: &Catalog, code: Option<&str>) -> String {
    match code.unwrap_or("generic_decline") {
        "generic_decline" | "card_declined" | "do_not_honor" => t.decline_generic.to_owned(),
        "insufficient_funds" => t.decline_insufficient_funds.to_owned(),
        "payment_intent_authentication_failure" | "authentication_required" => {
            t.decline_authentication.to_owned()
        }
        "expired_card" => t.decline_expired_card.to_owned(),
        "incorrect_cvc" | "invalid_cvc" => t.decline_incorrect_cvc.to_owned(),
        "lost_card" | "stolen_card" | "pickup_card" => t.decline_lost_or_stolen.to_owned(),
        other => fill(t.decline_other, &[("code", other)]),
    }
}
