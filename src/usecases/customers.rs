//! The customer use cases: register, authenticate, read and change a profile, change a
//! password. Validates input into domain values, talks to the provider, issues commands, and
//! answers from the customer-profile projection (already caught up when a command returns).

use std::sync::Arc;

use aggregates::customer::{
    BillingDetails, ChangeBillingDetails, ChangeMailPreferences, ChangePassword, Customer,
    CustomerCommand, CustomerName, Email, FieldUpdate, MailLanguage, Phone, RegisterCustomer,
    UpdateProfile,
};
use chrono::Utc;
use cqrs_es::AggregateError;
use projections::{CustomerProfile, CustomerProfiles};
use sqlx::SqlitePool;

use crate::auth::{PasswordHasher, PlainPassword};
use crate::error::AppError;
use crate::provider::{CustomerDetails, NewCustomer, PaymentProvider};
use crate::usecases::common::idempotency::{one_off_provider_key, provider_key, Subject};
use crate::usecases::common::{command_metadata, Commands};

/// A registration as the client sent it, not yet validated.
#[derive(Debug)]
pub struct Registration {
    pub email: String,
    pub password: String,
    pub name: String,
    pub phone: Option<String>,
}

/// A profile change as the client sent it, not yet validated.
#[derive(Debug, Default)]
pub struct ProfileChange {
    pub name: Option<String>,
    pub phone: FieldUpdate<String>,
}

/// Customer accounts.
pub struct CustomerService {
    commands: Commands<Customer>,
    pool: SqlitePool,
    provider: Arc<dyn PaymentProvider>,
    hasher: Arc<PasswordHasher>,
}

impl CustomerService {
    /// Wires the service.
    pub fn new(
        commands: Commands<Customer>,
        pool: SqlitePool,
        provider: Arc<dyn PaymentProvider>,
        hasher: Arc<PasswordHasher>,
    ) -> Self {
        Self {
            commands,
            pool,
            provider,
            hasher,
        }
    }

    /// Opens an account and its provider customer. The e-mail is unique in any case, also
    /// when two registrations race: the event store lets only one `CustomerRegistered` per
    /// address commit.
    #[tracing::instrument(skip_all)]
    pub async fn register(
        &self,
        registration: Registration,
        request_id: Option<&str>,
    ) -> Result<CustomerProfile, AppError> {
        let email = Email::parse(&registration.email)?;
        let password = PlainPassword::parse("password", &registration.password)?;
        let name = CustomerName::parse(&registration.name)?;
        let phone = parse_optional_phone(registration.phone.as_deref())?;
        if self.email_owner(&email).await?.is_some() {
            return Err(AppError::EmailTaken);
        }
        let password_hash = self
            .hasher
            .hash(&password)
            .await
            .map_err(AppError::internal)?;

        let customer_id = uuid::Uuid::new_v4().to_string();
        let provider_customer = self
            .provider
            .create_customer(
                &NewCustomer {
                    customer_id: customer_id.clone(),
                    email: email.as_str().to_owned(),
                    name: name.as_str().to_owned(),
                    phone: phone.as_ref().map(|p| p.as_str().to_owned()),
                },
                &provider_key(Subject::Customer, &customer_id, "create"),
            )
            .await?;

        let command = CustomerCommand::Register(RegisterCustomer {
            email: email.clone(),
            name,
            phone,
            password_hash,
            stripe_customer_id: provider_customer.id.clone(),
            registered_at: Utc::now(),
        });
        // One attempt: a conflict here is another registration of the same address (a new
        // aggregate has no other writer), which no retry can win.
        match self
            .commands
            .cqrs()
            .execute_with_metadata(&customer_id, command, command_metadata(request_id))
            .await
        {
            Ok(()) => self.commands.catch_up().await,
            Err(AggregateError::AggregateConflict) => {
                // Another registration took the address between our check and our commit.
                // Undo the provider customer we created for nothing.
                if let Err(error) = self.provider.delete_customer(&provider_customer.id).await {
                    tracing::warn!(%error, "could not delete the provider customer of a lost registration race");
                }
                return Err(match self.email_owner(&email).await? {
                    Some(_) => AppError::EmailTaken,
                    None => AppError::Conflict,
                });
            }
            Err(error) => return Err(error.into()),
        }
        self.profile(&customer_id).await
    }

    /// The account for an e-mail and password. Unknown e-mail and wrong password are refused
    /// alike and take about as long; so is a deleted account.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate(
        &self,
        email: &str,
        password: &str,
    ) -> Result<CustomerProfile, AppError> {
        let password = PlainPassword::unchecked(password);
        let credentials = match Email::parse(email) {
            Ok(email) => {
                CustomerProfiles::find_credentials_by_email(&self.pool, email.as_str()).await?
            }
            Err(_) => None,
        };
        let Some(credentials) = credentials else {
            self.hasher
                .verify_decoy(&password)
                .await
                .map_err(AppError::internal)?;
            return Err(AppError::InvalidCredentials);
        };
        let matches = self
            .hasher
            .verify(&password, &credentials.password_hash)
            .await
            .map_err(AppError::internal)?;
        if !matches {
            return Err(AppError::InvalidCredentials);
        }
        let profile = self.profile(&credentials.customer_id).await?;
        // A deleted account cannot sign in; a password changed while this one was being
        // checked makes it stale (the token would carry the new credentials' version).
        if profile.deleted || profile.credentials_version != credentials.credentials_version {
            return Err(AppError::InvalidCredentials);
        }
        Ok(profile)
    }

    /// The profile of `customer_id`.
    pub async fn profile(&self, customer_id: &str) -> Result<CustomerProfile, AppError> {
        CustomerProfiles::find_by_id(&self.pool, customer_id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Changes name and/or phone, here and at the provider.
    #[tracing::instrument(skip_all, fields(customer_id))]
    pub async fn update_profile(
        &self,
        customer_id: &str,
        change: ProfileChange,
        request_id: Option<&str>,
    ) -> Result<CustomerProfile, AppError> {
        let name = change
            .name
            .as_deref()
            .map(CustomerName::parse)
            .transpose()?;
        let phone = match change.phone {
            FieldUpdate::Keep => FieldUpdate::Keep,
            FieldUpdate::Clear => FieldUpdate::Clear,
            FieldUpdate::Set(raw) => match parse_optional_phone(Some(&raw))? {
                Some(phone) => FieldUpdate::Set(phone),
                None => FieldUpdate::Clear,
            },
        };
        let current = self.profile(customer_id).await?;
        let details = CustomerDetails {
            name: name
                .as_ref()
                .map_or_else(|| current.name.clone(), |n| n.as_str().to_owned()),
            phone: match &phone {
                FieldUpdate::Keep => current.phone.clone(),
                FieldUpdate::Clear => None,
                FieldUpdate::Set(phone) => Some(phone.as_str().to_owned()),
            },
        };
        if details.name == current.name && details.phone == current.phone {
            return Ok(current);
        }
        // The provider first: if it fails, nothing changed anywhere.
        self.push_details(&current.stripe_customer_id, &details)
            .await?;
        let command = CustomerCommand::UpdateProfile(UpdateProfile {
            name,
            phone,
            updated_at: Utc::now(),
        });
        for _ in 0..3 {
            let outcome = self
                .commands
                .cqrs()
                .execute_with_metadata(customer_id, command.clone(), command_metadata(request_id))
                .await;
            self.commands.catch_up().await;
            let Err(AggregateError::AggregateConflict) = outcome else {
                outcome?;
                return self.profile(customer_id).await;
            };
            // Something committed first: Stripe's echo of the very change we pushed (then the
            // change is done), webhook bookkeeping that changed nothing visible (then try
            // again), or another update (then that one won).
            let now = self.profile(customer_id).await?;
            if now.name == details.name && now.phone == details.phone {
                return Ok(now);
            }
            if now.name != current.name || now.phone != current.phone {
                self.resync_provider(&now).await;
                return Err(AppError::Conflict);
            }
        }
        Err(AppError::Conflict)
    }

    /// Replaces the password after checking the current one.
    #[tracing::instrument(skip_all, fields(customer_id))]
    pub async fn change_password(
        &self,
        customer_id: &str,
        current_password: &str,
        new_password: &str,
        request_id: Option<&str>,
    ) -> Result<(), AppError> {
        let new_password = PlainPassword::parse("new_password", new_password)?;
        let credentials = CustomerProfiles::find_credentials_by_id(&self.pool, customer_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let matches = self
            .hasher
            .verify(
                &PlainPassword::unchecked(current_password),
                &credentials.password_hash,
            )
            .await
            .map_err(AppError::internal)?;
        if !matches {
            return Err(AppError::WrongCurrentPassword);
        }
        let password_hash = self
            .hasher
            .hash(&new_password)
            .await
            .map_err(AppError::internal)?;
        let command = CustomerCommand::ChangePassword(ChangePassword {
            password_hash,
            changed_at: Utc::now(),
        });
        self.commands
            .execute(customer_id, command, command_metadata(request_id))
            .await?;
        Ok(())
    }

    /// Changes the e-mail preferences (`None` keeps a value): the language the mailer writes
    /// in and whether receipts are sent.
    #[tracing::instrument(skip_all, fields(customer_id))]
    pub async fn change_mail_preferences(
        &self,
        customer_id: &str,
        language: Option<MailLanguage>,
        receipts: Option<bool>,
        request_id: Option<&str>,
    ) -> Result<CustomerProfile, AppError> {
        if language.is_some() || receipts.is_some() {
            let command = CustomerCommand::ChangeMailPreferences(ChangeMailPreferences {
                language,
                receipts,
                changed_at: Utc::now(),
            });
            self.commands
                .execute(customer_id, command, command_metadata(request_id))
                .await?;
        }
        self.profile(customer_id).await
    }

    /// Replaces (or removes, `None`) the billing details, already validated. Invoices
    /// finalized from now on carry them; issued ones keep what they were issued with.
    #[tracing::instrument(skip_all, fields(customer_id))]
    pub async fn change_billing_details(
        &self,
        customer_id: &str,
        billing: Option<BillingDetails>,
        request_id: Option<&str>,
    ) -> Result<CustomerProfile, AppError> {
        let command = CustomerCommand::ChangeBillingDetails(ChangeBillingDetails {
            billing,
            changed_at: Utc::now(),
        });
        self.commands
            .execute(customer_id, command, command_metadata(request_id))
            .await?;
        self.profile(customer_id).await
    }

    /// After losing a race, makes the provider hold the winner's details again.
    async fn resync_provider(&self, winner: &CustomerProfile) {
        let details = CustomerDetails {
            name: winner.name.clone(),
            phone: winner.phone.clone(),
        };
        if let Err(error) = self
            .push_details(&winner.stripe_customer_id, &details)
            .await
        {
            tracing::warn!(%error, "could not re-sync the provider customer after a conflict");
        }
    }

    async fn push_details(
        &self,
        stripe_customer_id: &str,
        details: &CustomerDetails,
    ) -> Result<(), AppError> {
        let key = one_off_provider_key(Subject::Customer, stripe_customer_id, "update");
        self.provider
            .update_customer(stripe_customer_id, details, &key)
            .await?;
        Ok(())
    }

    /// The customer id holding `email`, from the event store's uniqueness table.
    async fn email_owner(&self, email: &Email) -> Result<Option<String>, AppError> {
        Ok(
            sqlx::query_scalar("SELECT customer_id FROM customer_emails WHERE email = ?")
                .bind(email.as_str())
                .fetch_optional(&self.pool)
                .await?,
        )
    }
}

/// A blank phone means "no phone".
fn parse_optional_phone(raw: Option<&str>) -> Result<Option<Phone>, AppError> {
    Ok(raw
        .map(str::trim)
        .filter(|phone| !phone.is_empty())
        .map(Phone::parse)
        .transpose()?)
}
