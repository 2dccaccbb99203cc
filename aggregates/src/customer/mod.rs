//! The customer account: identity, profile and credentials.

mod billing;
mod commands;
mod countries;
mod error;
mod events;
mod resets;
mod values;

#[cfg(test)]
mod reset_tests;
#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod tests;

pub use billing::{
    french_vat_key, parse_siren, parse_vat_number, BillingAddress, BillingDetails, RawAddress,
    RawBilling,
};
pub use commands::{
    ChangeBillingDetails, ChangeMailPreferences, ChangePassword, CustomerCommand,
    CustomerStripeFact, FieldUpdate, RegisterCustomer, RequestPasswordReset, ResetPassword,
    SignOut, StripeCustomerChange, UpdateProfile,
};
pub use error::CustomerError;
pub use events::CustomerEvent;
pub use values::{CustomerName, Email, MailLanguage, PasswordHash, Phone};

use cqrs_es::event_sink::EventSink;
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

/// A customer's state, rebuilt from its events.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    profile: Option<Profile>,
    /// When the profile last changed, whoever changed it.
    last_change_at: Option<DateTime<Utc>>,
    /// Stripe events already applied (or recorded as stale): each acts once. This set is in
    /// every snapshot and grows by one id per Stripe `customer.*` event about this customer —
    /// changes made in Stripe's dashboard, not the service's own traffic — so it stays small.
    /// It cannot be left to the webhook inbox: the inbox marks an event applied in a later
    /// transaction than the command's, so after a crash between the two the event is applied
    /// again, and only this set makes that second application record nothing.
    stripe_events: BTreeSet<String>,
    /// Password resets and e-mail preferences (`resets.rs`).
    #[serde(default)]
    account: resets::AccountState,
    /// The billing details, if the customer gave any.
    #[serde(default)]
    billing: Option<BillingDetails>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Profile {
    name: String,
    phone: Option<String>,
}

impl Aggregate for Customer {
    const TYPE: &'static str = "Customer";
    type Command = CustomerCommand;
    type Event = CustomerEvent;
    type Error = CustomerError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let events = self.decide(command)?;
        crate::emit(self, sink, events).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            CustomerEvent::CustomerRegistered {
                name,
                phone,
                registered_at: at,
                ..
            }
            | CustomerEvent::ProfileUpdated {
                name,
                phone,
                updated_at: at,
            } => {
                self.profile = Some(Profile { name, phone });
                self.last_change_at = Some(self.last_change_at.map_or(at, |last| last.max(at)));
            }
            CustomerEvent::PasswordChanged { changed_at, .. } => {
                self.account.password_changed(changed_at);
            }
            // A session's end changes no decision the account makes.
            CustomerEvent::StripeCustomerDeleted { .. } | CustomerEvent::SignedOut { .. } => {}
            CustomerEvent::BillingDetailsChanged { billing, .. } => self.billing = billing,
            CustomerEvent::PasswordResetRequested { .. }
            | CustomerEvent::PasswordResetCompleted { .. }
            | CustomerEvent::MailPreferencesChanged { .. } => self.account.apply(event),
            CustomerEvent::StripeEventApplied {
                stripe_event_id, ..
            }
            | CustomerEvent::StaleStripeEventIgnored {
                stripe_event_id, ..
            } => {
                self.stripe_events.insert(stripe_event_id);
            }
        }
    }
}

impl Customer {
    /// The customer's name, once registered.
    pub fn name(&self) -> Option<&str> {
        self.profile.as_ref().map(|profile| profile.name.as_str())
    }

    /// The billing details, if any were given.
    pub fn billing(&self) -> Option<&BillingDetails> {
        self.billing.as_ref()
    }

    /// The language chosen for the customer's e-mail (`None`: the service's default).
    pub fn language(&self) -> Option<MailLanguage> {
        self.account.language()
    }

    /// Whether password reset `reset_id` could still set a password at `now` (a question the
    /// portal asks before showing the new-password form; `ResetPassword` decides the same).
    pub fn check_password_reset(
        &self,
        reset_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), CustomerError> {
        self.registered()?;
        self.account.check_reset(reset_id, now)
    }

    /// Refuses a command on an account that was never opened.
    fn registered(&self) -> Result<(), CustomerError> {
        match self.profile {
            Some(_) => Ok(()),
            None => Err(CustomerError::NotRegistered),
        }
    }

    /// The pure decision: which events a command produces from the current state.
    fn decide(&self, command: CustomerCommand) -> Result<Vec<CustomerEvent>, CustomerError> {
        match command {
            CustomerCommand::Register(register) => {
                if self.profile.is_some() {
                    return Err(CustomerError::AlreadyRegistered);
                }
                Ok(vec![CustomerEvent::CustomerRegistered {
                    email: register.email.as_str().to_owned(),
                    name: register.name.as_str().to_owned(),
                    phone: register.phone.map(|p| p.as_str().to_owned()),
                    password_hash: register.password_hash,
                    stripe_customer_id: register.stripe_customer_id,
                    registered_at: register.registered_at,
                }])
            }
            CustomerCommand::UpdateProfile(update) => {
                let current = self.profile.as_ref().ok_or(CustomerError::NotRegistered)?;
                let name = update
                    .name
                    .map_or_else(|| current.name.clone(), |n| n.as_str().to_owned());
                let phone = match update.phone {
                    FieldUpdate::Keep => current.phone.clone(),
                    FieldUpdate::Clear => None,
                    FieldUpdate::Set(phone) => Some(phone.as_str().to_owned()),
                };
                // An update that changes nothing records nothing: retries stay harmless.
                if name == current.name && phone == current.phone {
                    return Ok(vec![]);
                }
                Ok(vec![CustomerEvent::ProfileUpdated {
                    name,
                    phone,
                    updated_at: update.updated_at,
                }])
            }
            CustomerCommand::ApplyStripeEvent(fact) => self.decide_stripe_event(fact),
            CustomerCommand::RequestPasswordReset(request) => {
                self.registered()?;
                Ok(resets::AccountState::request_reset(request))
            }
            CustomerCommand::ResetPassword(reset) => {
                self.registered()?;
                self.account.reset_password(reset)
            }
            CustomerCommand::ChangeMailPreferences(change) => {
                self.registered()?;
                Ok(self.account.change_mail_preferences(change))
            }
            CustomerCommand::ChangeBillingDetails(change) => {
                self.registered()?;
                let billing = change.billing.filter(|billing| !billing.is_empty());
                // Unchanged details record nothing: retries stay harmless.
                if billing == self.billing {
                    return Ok(vec![]);
                }
                Ok(vec![CustomerEvent::BillingDetailsChanged {
                    billing,
                    changed_at: change.changed_at,
                }])
            }
            CustomerCommand::SignOut(sign_out) => {
                self.registered()?;
                Ok(vec![CustomerEvent::SignedOut {
                    token_id: sign_out.token_id,
                    expires_at: sign_out.expires_at,
                    signed_out_at: sign_out.at,
                }])
            }
            CustomerCommand::ChangePassword(change) => {
                if self.profile.is_none() {
                    return Err(CustomerError::NotRegistered);
                }
                Ok(vec![CustomerEvent::PasswordChanged {
                    password_hash: change.password_hash,
                    changed_at: change.changed_at,
                }])
            }
        }
    }

    /// A Stripe event acts once, and one older than the last profile change is recorded as
    /// stale instead of overwriting newer details.
    fn decide_stripe_event(
        &self,
        fact: CustomerStripeFact,
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        let current = self.profile.as_ref().ok_or(CustomerError::NotRegistered)?;
        if self.stripe_events.contains(&fact.stripe_event_id) {
            return Ok(vec![]);
        }
        let applied = CustomerEvent::StripeEventApplied {
            stripe_event_id: fact.stripe_event_id.clone(),
            event_type: fact.event_type.clone(),
            created: fact.created,
        };
        match fact.change {
            StripeCustomerChange::Deleted => Ok(vec![
                applied,
                CustomerEvent::StripeCustomerDeleted { at: fact.created },
            ]),
            StripeCustomerChange::Updated { name, phone } => {
                let name = name.map_or_else(|| current.name.clone(), |n| n.as_str().to_owned());
                let phone = phone.map(|p| p.as_str().to_owned());
                if name == current.name && phone == current.phone {
                    return Ok(vec![]);
                }
                if self.last_change_at.is_some_and(|last| fact.created < last) {
                    return Ok(vec![CustomerEvent::StaleStripeEventIgnored {
                        stripe_event_id: fact.stripe_event_id,
                        event_type: fact.event_type,
                        created: fact.created,
                        reason: "the profile changed after this event was created".into(),
                    }]);
                }
                Ok(vec![
                    applied,
                    CustomerEvent::ProfileUpdated {
                        name,
                        phone,
                        updated_at: fact.created,
                    },
                ])
            }
        }
    }
}
