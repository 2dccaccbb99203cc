//! Password reset tokens. A token is `<customer id>.<reset id>.<MAC>`: the reset id is the
//! random nonce the customer's `PasswordResetRequested` event records, and the MAC is an
//! HMAC-SHA256 of both ids under a key derived from the service's secret for this purpose only.
//! So the event log (and the mail outbox, which holds a placeholder instead of the link) never
//! holds a usable token: the mailer recomputes the link when it sends, and whoever confirms
//! must hold the MAC. Whether the reset is still open (unused, unexpired) is the customer
//! aggregate's decision.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A token's parts, once its MAC is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetClaim {
    pub customer_id: String,
    pub reset_id: String,
}

/// A token that is not one of ours (altered, truncated, made up, or under another secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a password reset token of this service")]
pub struct ForgedToken;

/// Makes and checks reset tokens and the links that carry them.
pub struct ResetTokens {
    key: [u8; 32],
    /// The portal's address as customers reach it, without a trailing slash.
    public_url: String,
}

impl ResetTokens {
    /// Tokens keyed from `secret` (the service's configured secret) through a derivation no
    /// other use of it shares; links under `public_url`.
    pub fn new(secret: &[u8], public_url: &str) -> Self {
        let mut derive =
            HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
        derive.update(b"billstream: password reset tokens, v1");
        Self {
            key: derive.finalize().into_bytes().into(),
            public_url: public_url.trim_end_matches('/').to_owned(),
        }
    }

    fn mac(&self, customer_id: &str, reset_id: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("a 32-byte key");
        mac.update(customer_id.as_bytes());
        mac.update(b"\n");
        mac.update(reset_id.as_bytes());
        mac
    }

    /// The token for reset `reset_id` of `customer_id`.
    pub fn token(&self, customer_id: &str, reset_id: &str) -> String {
        let mac = self.mac(customer_id, reset_id).finalize().into_bytes();
        format!("{customer_id}.{reset_id}.{}", URL_SAFE_NO_PAD.encode(mac))
    }

    /// The portal link that opens the new-password form for that reset (the token holds
    /// only URL-safe characters: no escaping needed, in a URL or in HTML).
    pub fn link(&self, customer_id: &str, reset_id: &str) -> String {
        format!(
            "{}/password/reset?token={}",
            self.public_url,
            self.token(customer_id, reset_id)
        )
    }

    /// The ids in `token` if its MAC is ours (compared in constant time).
    pub fn verify(&self, token: &str) -> Result<ResetClaim, ForgedToken> {
        let mut parts = token.trim().splitn(3, '.');
        let (Some(customer_id), Some(reset_id), Some(mac)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(ForgedToken);
        };
        let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| ForgedToken)?;
        self.mac(customer_id, reset_id)
            .verify_slice(&mac)
            .map_err(|_| ForgedToken)?;
        Ok(ResetClaim {
            customer_id: customer_id.to_owned(),
            reset_id: reset_id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> ResetTokens {
        ResetTokens::new(b"the configured secret", "https://billing.example/")
    }

    #[test]
    fn a_token_verifies_to_its_ids_and_rides_in_a_portal_link() {
        let token = tokens().token("cus-1", "r1");
        let claim = tokens().verify(&token).unwrap();
        assert_eq!(
            (claim.customer_id.as_str(), claim.reset_id.as_str()),
            ("cus-1", "r1")
        );
        assert_eq!(
            tokens().link("cus-1", "r1"),
            format!("https://billing.example/password/reset?token={token}")
        );
    }

    #[test]
    fn an_altered_or_foreign_token_is_refused() {
        let token = tokens().token("cus-1", "r1");
        let other = ResetTokens::new(b"another secret", "https://billing.example");
        for forged in [
            token.replace("cus-1", "cus-2"),
            token.replace(".r1.", ".r2."),
            token[..token.len() - 2].to_owned(),
            "cus-1.r1".to_owned(),
            "".to_owned(),
            "a.b.!!!".to_owned(),
            other.token("cus-1", "r1"),
        ] {
            assert_eq!(tokens().verify(&forged), Err(ForgedToken), "{forged}");
        }
    }

    #[test]
    fn the_key_is_not_the_secret() {
        assert_ne!(&tokens().key[..], &b"the configured secret"[..]);
    }
}
