//! What can be asked of a customer. Time and provider ids arrive in the command.

use chrono::{DateTime, Utc};

use super::billing::BillingDetails;
use super::values::{CustomerName, Email, MailLanguage, PasswordHash, Phone};

/// Every command the [`Customer`](super::Customer) aggregate accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomerCommand {
    /// Opens the account.
    Register(RegisterCustomer),
    /// Changes the name and/or phone.
    UpdateProfile(UpdateProfile),
    /// Replaces the password hash (the current password was verified by the caller).
    ChangePassword(ChangePassword),
    /// Applies what a Stripe event says about the customer's Stripe record.
    ApplyStripeEvent(CustomerStripeFact),
    /// Opens a password reset (the caller mails its link).
    RequestPasswordReset(RequestPasswordReset),
    /// Sets a new password through a pending reset.
    ResetPassword(ResetPassword),
    /// Changes the language of the customer's e-mail and whether receipts are sent.
    ChangeMailPreferences(ChangeMailPreferences),
    /// Replaces the billing details (company, SIREN, VAT number, address), or removes them.
    ChangeBillingDetails(ChangeBillingDetails),
    /// Ends one session (a token, by its id): refused from then on, on every node.
    SignOut(SignOut),
}

/// Ends the session of token `token_id`, which would expire by itself at `expires_at`.
#[derive(Debug, Clone, PartialEq)]
pub struct SignOut {
    pub token_id: String,
    pub expires_at: DateTime<Utc>,
    pub at: DateTime<Utc>,
}

/// What one Stripe event says about a customer.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerStripeFact {
    pub stripe_event_id: String,
    pub event_type: String,
    /// Stripe's `created` for the event.
    pub created: DateTime<Utc>,
    pub change: StripeCustomerChange,
}

/// The change a Stripe customer event reports.
#[derive(Debug, Clone, PartialEq)]
pub enum StripeCustomerChange {
    /// `customer.updated`: the record's name and phone as Stripe now has them.
    Updated {
        name: Option<CustomerName>,
        phone: Option<Phone>,
    },
    /// `customer.deleted`.
    Deleted,
}

/// Opens an account whose Stripe customer already exists.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterCustomer {
    pub email: Email,
    pub name: CustomerName,
    pub phone: Option<Phone>,
    pub password_hash: PasswordHash,
    pub stripe_customer_id: String,
    pub registered_at: DateTime<Utc>,
}

/// How a PATCH treats an optional field: leave it, clear it, or set it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum FieldUpdate<T> {
    /// The field was absent: keep the current value.
    #[default]
    Keep,
    /// The field was `null` (or empty): remove the value.
    Clear,
    /// The field holds a new value.
    Set(T),
}

/// Changes profile fields; absent fields are kept.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateProfile {
    pub name: Option<CustomerName>,
    pub phone: FieldUpdate<Phone>,
    pub updated_at: DateTime<Utc>,
}

/// Stores a new password hash.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangePassword {
    pub password_hash: PasswordHash,
    pub changed_at: DateTime<Utc>,
}

/// Opens a password reset: `reset_id` is a fresh random nonce (the link's token is derived
/// from it by the caller, and only the nonce is recorded).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestPasswordReset {
    pub reset_id: String,
    pub expires_at: DateTime<Utc>,
    pub requested_at: DateTime<Utc>,
}

/// Uses pending reset `reset_id` to store a new password hash, at `now`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResetPassword {
    pub reset_id: String,
    pub password_hash: PasswordHash,
    pub now: DateTime<Utc>,
}

/// Changes the e-mail preferences; `None` keeps a value.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeMailPreferences {
    pub language: Option<MailLanguage>,
    pub receipts: Option<bool>,
    pub changed_at: DateTime<Utc>,
}

/// Replaces the billing details, already validated; `None` (or empty details) removes them.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeBillingDetails {
    pub billing: Option<BillingDetails>,
    pub changed_at: DateTime<Utc>,
}
