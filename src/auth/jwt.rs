//! HS256 bearer tokens: `sub` (customer id), `jti` (the token's own id, for logout), `iat`,
//! `exp`, and `cv` (the customer's credentials version when the token was issued); the
//! algorithm is pinned. The signature proves who issued a token; whether it still holds (the
//! password unchanged, the customer not deleted, the token not logged out) is asked of the
//! database on every request (`auth::store::token_state`).

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The claims billstream signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The customer id.
    pub sub: String,
    /// This token's id (a random UUID): what a logout revokes.
    pub jti: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// The customer's credentials version the password was checked against: a password change
    /// moves it on, and every token carrying an older one stops working. A version rather than
    /// a time, so "issued before the change" holds exactly, within one second or one
    /// millisecond, on any node's clock, and also for a login that checked the old password
    /// while the change committed.
    pub cv: i64,
}

/// A token that could not be issued or was refused.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Tampered, expired, malformed, or signed with another algorithm.
    #[error("invalid token: {0}")]
    Invalid(#[source] jsonwebtoken::errors::Error),
    /// Signing failed (only on a broken key).
    #[error("could not sign token: {0}")]
    Signing(#[source] jsonwebtoken::errors::Error),
}

/// Signing and verification keys with the token lifetime.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl JwtKeys {
    /// Keys from a shared secret.
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        // Only HS256 is accepted: a token claiming `none` or any other algorithm is refused.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl,
        }
    }

    /// Signs a token for `customer_id` whose password was never changed (credentials version
    /// 0), valid from `now` (Unix seconds) for the configured TTL.
    pub fn issue(&self, customer_id: &str, now: i64) -> Result<String, TokenError> {
        self.issue_with_version(customer_id, 0, now)
    }

    /// Signs a token for `customer_id` at `credentials_version`, valid from `now` (Unix
    /// seconds) for the configured TTL.
    pub fn issue_with_version(
        &self,
        customer_id: &str,
        credentials_version: i64,
        now: i64,
    ) -> Result<String, TokenError> {
        let claims = Claims {
            sub: customer_id.to_owned(),
            jti: uuid::Uuid::new_v4().to_string(),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
            cv: credentials_version,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(TokenError::Signing)
    }

    /// Verifies signature, algorithm and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(TokenError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(
            b"0123456789abcdef0123456789abcdef",
            Duration::from_secs(3600),
        )
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn an_issued_token_verifies_to_its_customer() {
        let token = keys().issue("customer-1", now()).unwrap();
        let claims = keys().verify(&token).unwrap();
        assert_eq!(claims.sub, "customer-1");
        assert_eq!(claims.exp - claims.iat, 3600);
        assert_eq!(claims.cv, 0);
    }

    #[test]
    fn every_token_has_its_own_id_and_carries_the_credentials_version() {
        let first = keys().verify(&keys().issue_with_version("c", 3, now()).unwrap());
        let second = keys().verify(&keys().issue_with_version("c", 3, now()).unwrap());
        let (first, second) = (first.unwrap(), second.unwrap());
        assert_ne!(first.jti, second.jti);
        assert_eq!((first.cv, second.cv), (3, 3));
    }

    #[test]
    fn a_token_without_an_id_is_refused() {
        let claims = serde_json::json!({"sub": "c", "iat": now(), "exp": now() + 60, "cv": 0});
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .unwrap();
        assert!(keys().verify(&token).is_err());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let token = keys().issue("customer-1", now() - 7200).unwrap();
        assert!(keys().verify(&token).is_err());
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = JwtKeys::new(b"another-secret-another-secret-xx", Duration::from_secs(60));
        let token = other.issue("customer-1", now()).unwrap();
        assert!(keys().verify(&token).is_err());
    }
}
