//! Bearer-token sessions: issued at registration and login, checked on every authenticated
//! request against the customer's state (one indexed read: the credentials version, the
//! deletion flag and the token's revocation), ended by logout — a `SignedOut` event on the
//! customer's log, so every node sharing the log refuses the token (the customer-profile view
//! keeps the revocations).

use std::collections::HashMap;
use std::sync::Arc;

use aggregates::customer::{Customer, CustomerCommand, SignOut};
use chrono::{DateTime, SecondsFormat, Utc};
use projections::{CustomerProfile, Readers};

use super::{store, Claims, JwtKeys};
use crate::error::AppError;
use crate::usecases::common::Commands;

/// Issues and checks the service's bearer tokens.
pub struct Sessions {
    jwt: Arc<JwtKeys>,
    readers: Readers,
    /// Records sign-outs on the customer's log.
    customers: Commands<Customer>,
}

impl Sessions {
    /// Sessions signed with `jwt`, checked against the read models through `readers`, ended
    /// through `customers`.
    pub fn new(jwt: Arc<JwtKeys>, readers: Readers, customers: Commands<Customer>) -> Self {
        Self {
            jwt,
            readers,
            customers,
        }
    }

    /// A token for `profile`, at its current credentials version.
    pub fn issue(&self, profile: &CustomerProfile) -> Result<String, AppError> {
        self.jwt
            .issue_with_version(
                &profile.id,
                profile.credentials_version,
                Utc::now().timestamp(),
            )
            .map_err(AppError::internal)
    }

    /// A fresh token for the session of `claims` (same customer, same credentials version):
    /// what keeps an active portal visitor signed in.
    pub fn reissue(&self, claims: &Claims) -> Result<String, AppError> {
        self.jwt
            .issue_with_version(&claims.sub, claims.cv, Utc::now().timestamp())
            .map_err(AppError::internal)
    }

    /// The claims of `token` if it is validly signed, unexpired, not logged out, and its
    /// customer exists, is not deleted and has not changed the password since it was issued.
    pub async fn authenticate(&self, token: &str) -> Result<Claims, AppError> {
        let claims = self.jwt.verify(token).map_err(|error| {
            tracing::debug!(%error, "bearer token refused");
            AppError::Unauthenticated
        })?;
        let state = store::token_state(&self.readers, &claims.sub, &claims.jti).await?;
        let refusal = match state {
            None => Some("its customer does not exist"),
            Some(state) if state.deleted => Some("its customer was deleted"),
            Some(state) if state.revoked => Some("it was logged out"),
            Some(state) if state.credentials_version != claims.cv => {
                Some("the password changed after it was issued")
            }
            Some(_) => None,
        };
        match refusal {
            Some(reason) => {
                tracing::debug!(reason, "bearer token refused");
                Err(AppError::Unauthenticated)
            }
            None => Ok(claims),
        }
    }

    /// Ends the token `claims` came from: refused from now on, on every node.
    pub async fn logout(&self, claims: &Claims) -> Result<(), AppError> {
        let expires_at = DateTime::from_timestamp(claims.exp, 0)
            .unwrap_or_else(|| Utc::now() + chrono::TimeDelta::days(31));
        let command = CustomerCommand::SignOut(SignOut {
            token_id: claims.jti.clone(),
            expires_at,
            at: Utc::now(),
        });
        // Applied to this node's views before the answer: the token is refused at once here.
        self.customers
            .execute(&claims.sub, command, HashMap::new())
            .await?;
        // Housekeeping: revocations of tokens that have expired are refused by `exp` anyway.
        store::forget_expired_revocations(self.readers.pool(), &timestamp(Utc::now())).await?;
        Ok(())
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}
