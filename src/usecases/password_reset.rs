//! The forgotten password: asking for a link by e-mail, and setting a new password with it.
//!
//! Asking answers the same, at the same speed, whether or not the address has an account: the
//! lookup and the command (the mailer then queues the message from the event) run before the
//! answer, so a 202 means the request is on the log, and the answer is held until
//! [`ANSWER_FLOOR`] after the request began, far longer than the work takes, so nothing the
//! caller can time depends on the account. Confirming checks the token's MAC, asks the customer aggregate
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

/// The shortest time a reset request takes to answer, whatever the address: the lookup and the
/// command take a few milliseconds, so their difference disappears under it.
pub const ANSWER_FLOOR: Duration = Duration::from_millis(250);

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

    /// Opens a reset for the account of `email`, if there is one (and it is not deleted);
    /// answers no sooner than [`ANSWER_FLOOR`] after it was called, the same way in every case.
    pub async fn request(&self, email: &str, request_id: Option<&str>) -> Result<(), AppError> {
        let started = tokio::time::Instant::now();
        let email = Email::parse(email)?;
        let opened = self.open_reset(&email, request_id).await;
        tokio::time::sleep_until(started + ANSWER_FLOOR).await;
        opened
    }

    /// The lookup and the command behind [`Self::request`].
    async fn open_reset(&self, email: &Email, request_id: Option<&str>) -> Result<(), AppError> {
        let Some(credentials) =
            CustomerProfiles::find_credentials_by_email(&self.pool, email.as_str()).await?
        else {
            return Ok(());
        };
        let customer =
            match CustomerProfiles::find_by_id(&self.pool, &credentials.customer_id).await? {
                Some(profile) if !profile.deleted => profile,
                _ => return Ok(()),
            };
        let ttl = chrono::TimeDelta::from_std(self.ttl).unwrap_or(chrono::TimeDelta::MAX);
        let now = Utc::now();
        let command = CustomerCommand::RequestPasswordReset(RequestPasswordReset {
            reset_id: uuid::Uuid::new_v4().simple().to_string(),
            expires_at: now + ttl,
            requested_at: now,
        });
        self.commands
            .execute(&customer.id, command, command_metadata(request_id))
            .await?;
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
