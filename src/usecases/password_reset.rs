//! The forgotten password: asking for a link by e-mail, and setting a new password with it.
//!
//! Asking answers the same, at the same speed, whether or not the address has an account: the
//! handler only validates the address and hands the rest (the lookup, the command, the mail,
//! which the mailer queues from the event) to a background task, so nothing the caller can time
//! depends on the account. Confirming checks the token's MAC, asks the customer aggregate
//! whether the reset is still open, and records the new password with the reset used; the
//! password change ends every session and token issued before it (`auth::sessions`).

use std::sync::Arc;
use std::time::Duration;

use aggregates::customer::{
    Customer, CustomerCommand, CustomerError, Email, RequestPasswordReset, ResetPassword,
};
use chrono::Utc;
use cqrs_es::AggregateError;
use projections::{CustomerProfile, CustomerProfiles};
use sqlx::SqlitePool;

use crate::auth::{PasswordHasher, PlainPassword, ResetClaim, ResetTokens};
use crate::error::AppError;
use crate::usecases::common::{command_metadata, Commands};

/// Password resets.
pub struct PasswordResetService {
    commands: Arc<Commands<Customer>>,
    pool: SqlitePool,
    hasher: Arc<PasswordHasher>,
    tokens: Arc<ResetTokens>,
    ttl: Duration,
}

impl PasswordResetService {
    /// Wires the service; a reset lasts `ttl`.
    pub fn new(
        commands: Commands<Customer>,
        pool: SqlitePool,
        hasher: Arc<PasswordHasher>,
        tokens: Arc<ResetTokens>,
        ttl: Duration,
    ) -> Self {
        Self {
            commands: Arc::new(commands),
            pool,
            hasher,
            tokens,
            ttl,
        }
    }

    /// Opens a reset for the account of `email`, if there is one (and it is not deleted), in
    /// the background; returns once the address is validated, the same way in every case.
    pub fn request(&self, email: &str, request_id: Option<&str>) -> Result<(), AppError> {
        let email = Email::parse(email)?;
        let commands = self.commands.clone();
        let pool = self.pool.clone();
        let ttl = chrono::TimeDelta::from_std(self.ttl).unwrap_or(chrono::TimeDelta::MAX);
        let metadata = command_metadata(request_id);
        tokio::spawn(async move {
            let owner =
                match CustomerProfiles::find_credentials_by_email(&pool, email.as_str()).await {
                    Ok(Some(credentials)) => {
                        CustomerProfiles::find_by_id(&pool, &credentials.customer_id).await
                    }
                    Ok(None) => Ok(None),
                    Err(error) => Err(error),
                };
            let customer = match owner {
                Ok(Some(profile)) if !profile.deleted => profile,
                Ok(_) => return,
                Err(error) => {
                    tracing::error!(%error, "cannot look up the account of a password reset");
                    return;
                }
            };
            let now = Utc::now();
            let command = CustomerCommand::RequestPasswordReset(RequestPasswordReset {
                reset_id: uuid::Uuid::new_v4().simple().to_string(),
                expires_at: now + ttl,
                requested_at: now,
            });
            if let Err(error) = commands.execute(&customer.id, command, metadata).await {
                tracing::error!(%error, "cannot record a password reset request");
            }
        });
        Ok(())
    }

    /// Whether `token` could still set a password now: its MAC is ours and the reset is open.
    pub async fn check(&self, token: &str) -> Result<ResetClaim, AppError> {
        let claim = self
            .tokens
            .verify(token)
            .map_err(|_| AppError::ResetTokenInvalid)?;
        let customer = self
            .commands
            .load(&claim.customer_id)
            .await
            .map_err(reset_refusal)?;
        customer
            .check_password_reset(&claim.reset_id, Utc::now())
            .map_err(|refused| reset_refusal(AggregateError::UserError(refused)))?;
        Ok(claim)
    }

    /// Sets `password` (the registration's rules) through the reset `token` names, which is
    /// then used; returns the profile at its new credentials.
    #[tracing::instrument(skip_all)]
    pub async fn confirm(
        &self,
        token: &str,
        password: &str,
        request_id: Option<&str>,
    ) -> Result<CustomerProfile, AppError> {
        let claim = self.check(token).await?;
        let password = PlainPassword::parse("password", password)?;
        let password_hash = self
            .hasher
            .hash(&password)
            .await
            .map_err(AppError::internal)?;
        let command = CustomerCommand::ResetPassword(ResetPassword {
            reset_id: claim.reset_id,
            password_hash,
            now: Utc::now(),
        });
        self.commands
            .execute(&claim.customer_id, command, command_metadata(request_id))
            .await
            .map_err(reset_refusal)?;
        CustomerProfiles::find_by_id(&self.pool, &claim.customer_id)
            .await?
            .ok_or(AppError::ResetTokenInvalid)
    }
}

/// A reset naming no account is as invalid as a forged one.
fn reset_refusal(error: AggregateError<CustomerError>) -> AppError {
    match error {
        AggregateError::UserError(CustomerError::NotRegistered) => AppError::ResetTokenInvalid,
        other => other.into(),
    }
}
