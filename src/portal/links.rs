//! Signed, expiring invoice links: anyone holding one can view (and, while it is open, pay)
//! one invoice without signing in. The signature is an HMAC-SHA256 over the invoice id and
//! the expiry, with a key derived from the configured secret for this purpose only (the JWT
//! secret itself never signs a link), and is compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How long a link stays valid: 30 days.
pub const LINK_LIFETIME_SECONDS: i64 = 30 * 86_400;

/// Why a link is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkError {
    /// Correctly signed, but past its expiry.
    Expired,
    /// Not signed by us, or changed since.
    Tampered,
}

/// A link's query: `expires` (Unix seconds) and `signature` (hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedLink {
    pub expires: i64,
    pub signature: String,
}

/// Signs and checks invoice links.
pub struct InvoiceLinks {
    key: [u8; 32],
}

impl InvoiceLinks {
    /// Links keyed from `secret` (the service's configured secret), through a derivation
    /// that no other use of the secret shares.
    pub fn new(secret: &[u8]) -> Self {
        let mut derive =
            HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
        derive.update(b"billstream portal: signed invoice links, v1");
        Self {
            key: derive.finalize().into_bytes().into(),
        }
    }

    fn mac(&self, invoice_id: &str, expires: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("a 32-byte key");
        mac.update(invoice_id.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// A link to `invoice_id` valid until `now + LINK_LIFETIME_SECONDS`.
    pub fn sign(&self, invoice_id: &str, now: i64) -> SignedLink {
        let expires = now + LINK_LIFETIME_SECONDS;
        SignedLink {
            expires,
            signature: hex::encode(self.mac(invoice_id, expires).finalize().into_bytes()),
        }
    }

    /// The path of a signed link to `invoice_id`.
    pub fn path(&self, invoice_id: &str, now: i64) -> (String, i64) {
        let link = self.sign(invoice_id, now);
        (
            format!(
                "/i/{invoice_id}?expires={}&signature={}",
                link.expires, link.signature
            ),
            link.expires,
        )
    }

    /// Checks a link: the signature first (constant time), then the expiry.
    pub fn verify(
        &self,
        invoice_id: &str,
        expires: i64,
        signature: &str,
        now: i64,
    ) -> Result<(), LinkError> {
        let bytes = hex::decode(signature).map_err(|_| LinkError::Tampered)?;
        self.mac(invoice_id, expires)
            .verify_slice(&bytes)
            .map_err(|_| LinkError::Tampered)?;
        if now > expires {
            return Err(LinkError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_verifies_until_it_expires() {
        let links = InvoiceLinks::new(b"the configured secret");
        let link = links.sign("inv-1", 1_000);
        assert_eq!(
            links.verify("inv-1", link.expires, &link.signature, 1_000),
            Ok(())
        );
        assert_eq!(
            links.verify("inv-1", link.expires, &link.signature, link.expires + 1),
            Err(LinkError::Expired)
        );
    }

    #[test]
    fn a_changed_link_is_refused() {
        let links = InvoiceLinks::new(b"the configured secret");
        let link = links.sign("inv-1", 1_000);
        let cases = [
            ("inv-2", link.expires, link.signature.clone()),
            ("inv-1", link.expires + 86_400, link.signature.clone()),
            ("inv-1", link.expires, "00".repeat(32)),
            ("inv-1", link.expires, "not hex".to_owned()),
        ];
        for (invoice, expires, signature) in cases {
            assert_eq!(
                links.verify(invoice, expires, &signature, 1_000),
                Err(LinkError::Tampered)
            );
        }
        let other = InvoiceLinks::new(b"another secret");
        assert_eq!(
            other.verify("inv-1", link.expires, &link.signature, 1_000),
            Err(LinkError::Tampered)
        );
    }

    #[test]
    fn the_key_is_not_the_secret() {
        let links = InvoiceLinks::new(b"the configured secret");
        assert_ne!(&links.key[..], &b"the configured secret"[..]);
    }
}
