//! Secrets that stay in the store: a stored event or Stripe payload shown to an operator
//! (terminal or API) has them replaced, at any depth.

use serde_json::Value;

/// Fields never shown: password hashes, and PaymentIntent client secrets (which let anyone
/// confirm the payment from a browser).
const REDACTED: &[&str] = &["password_hash", "client_secret"];

/// Replaces secret fields at any depth.
pub fn redact_secrets(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                if REDACTED.contains(&key.as_str()) {
                    *field = Value::String("<redacted>".into());
                } else {
                    redact_secrets(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_secrets),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn password_hashes_and_client_secrets_are_redacted_at_any_depth() {
        let mut payload = json!({
            "CustomerRegistered": {"email": "a@b.co", "password_hash": "$2b$"},
            "data": {"object": [{"client_secret": "pi_1_secret_x"}]},
        });
        redact_secrets(&mut payload);
        assert_eq!(payload["CustomerRegistered"]["password_hash"], "<redacted>");
        assert_eq!(payload["CustomerRegistered"]["email"], "a@b.co");
        assert_eq!(payload["data"]["object"][0]["client_secret"], "<redacted>");
    }
}
