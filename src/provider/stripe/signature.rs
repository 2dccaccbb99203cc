//! Stripe's webhook signature scheme: `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256>[,v1=…]`
//! over `"{t}.{body}"`, keyed by the endpoint's signing secret. Several `v1` values may be
//! present (Stripe sends one per active secret during a rotation); other schemes (`v0`) are
//! ignored.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header a delivery's signature comes in (HTTP header names are case-insensitive).
pub const HEADER: &str = "stripe-signature";

/// Why a delivery's signature was refused. The HTTP layer answers all of them alike.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no Stripe-Signature header")]
    Missing,
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    #[error("the signature timestamp is outside the tolerance")]
    OutsideTolerance,
    #[error("no v1 signature matches")]
    NoMatch,
}

/// The `Stripe-Signature` header value for `body` signed at `timestamp` with `secret`.
pub fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(sign(secret, timestamp, body))
    )
}

/// The raw HMAC-SHA256 of `"{timestamp}.{body}"`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    mac(secret, timestamp, body)
        .finalize()
        .into_bytes()
        .to_vec()
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any size");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Checks a delivery: the header's timestamp within `tolerance_seconds` of `now` (either way),
/// and some `v1` value matching some secret, compared in constant time.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[&str],
    tolerance_seconds: i64,
    now: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        let (scheme, value) = part
            .trim()
            .split_once('=')
            .ok_or(SignatureError::Malformed)?;
        match scheme {
            // Stripe sends one timestamp; a second one is a forgery attempt or garbage.
            "t" if timestamp.is_none() => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                );
            }
            "t" => return Err(SignatureError::Malformed),
            "v1" => {
                if let Ok(bytes) = hex::decode(value) {
                    candidates.push(bytes);
                }
            }
            _ => {} // other schemes (v0, future ones) are not ours to check
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::NoMatch);
    }
    if now.abs_diff(timestamp) > tolerance_seconds.unsigned_abs() {
        return Err(SignatureError::OutsideTolerance);
    }
    let matched = secrets.iter().any(|secret| {
        candidates.iter().any(|candidate| {
            // `verify_slice` compares in constant time.
            mac(secret, timestamp, body).verify_slice(candidate).is_ok()
        })
    });
    if matched {
        Ok(())
    } else {
        Err(SignatureError::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test";
    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

    fn v1(secret: &str, t: i64) -> String {
        hex::encode(sign(secret, t, BODY))
    }

    fn check(header: &str) -> Result<(), SignatureError> {
        verify(Some(header), BODY, &[SECRET], 300, NOW)
    }

    #[test]
    fn the_header_matches_stripes_documented_construction() {
        // HMAC-SHA256(key "whsec_test", "1700000000.{}"), computed independently with Python's hmac.
        assert_eq!(
            signature_header("whsec_test", 1_700_000_000, b"{}"),
            "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
    }

    #[test]
    fn a_correct_signature_is_accepted() {
        assert_eq!(check(&signature_header(SECRET, NOW, BODY)), Ok(()));
    }

    #[test]
    fn any_of_several_v1_values_may_match() {
        let header = format!(
            "t={NOW},v1={},v1={}",
            v1("whsec_other", NOW),
            v1(SECRET, NOW)
        );
        assert_eq!(check(&header), Ok(()));
    }

    #[test]
    fn a_v0_signature_alone_is_refused() {
        let header = format!("t={NOW},v0={}", v1(SECRET, NOW));
        assert_eq!(check(&header), Err(SignatureError::NoMatch));
    }

    #[test]
    fn other_schemes_beside_a_good_v1_are_ignored() {
        let header = format!("t={NOW},v0=abc,v1={},v9=zzz", v1(SECRET, NOW));
        assert_eq!(check(&header), Ok(()));
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        for t in [NOW - 301, NOW + 301] {
            let header = format!("t={t},v1={}", v1(SECRET, t));
            assert_eq!(check(&header), Err(SignatureError::OutsideTolerance), "{t}");
        }
        for t in [NOW - 300, NOW + 300] {
            let header = format!("t={t},v1={}", v1(SECRET, t));
            assert_eq!(check(&header), Ok(()), "{t}");
        }
    }

    #[test]
    fn a_wrong_secret_or_a_changed_body_is_refused() {
        assert_eq!(
            check(&format!("t={NOW},v1={}", v1("whsec_wrong", NOW))),
            Err(SignatureError::NoMatch)
        );
        let header = signature_header(SECRET, NOW, BODY);
        assert_eq!(
            verify(Some(&header), b"{\"id\":\"evt_2\"}", &[SECRET], 300, NOW),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn a_rotated_secret_still_verifies_during_the_rotation() {
        let header = signature_header("whsec_old", NOW, BODY);
        assert_eq!(
            verify(Some(&header), BODY, &["whsec_new", "whsec_old"], 300, NOW),
            Ok(())
        );
    }

    #[test]
    fn missing_and_garbage_headers_are_refused() {
        assert_eq!(
            verify(None, BODY, &[SECRET], 300, NOW),
            Err(SignatureError::Missing)
        );
        for garbage in [
            "",
            "garbage",
            "t=abc,v1=00",
            "v1=00",
            "t=1,t=2,v1=00",
            "t=,v1=",
        ] {
            assert!(check(garbage).is_err(), "{garbage:?}");
        }
    }

    #[test]
    fn a_signature_over_another_timestamp_is_refused() {
        let header = format!("t={},v1={}", NOW - 10, v1(SECRET, NOW));
        assert_eq!(check(&header), Err(SignatureError::NoMatch));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    const TOLERANCE: i64 = 300;

    /// A value for one `scheme=value` part: numbers of every size, hex and not, anything.
    fn part_value() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            "[+-]?[0-9]{15,60}",
            "[0-9a-fA-F]{0,130}",
            "[0-9a-zA-Z]{0,70}",
            ".{0,40}",
        ]
    }

    /// `t=…,v1=…`-looking headers with arbitrary parts, and arbitrary strings.
    fn any_header() -> impl Strategy<Value = String> {
        let scheme = prop_oneof![
            Just("t".to_owned()),
            Just("v1".to_owned()),
            Just("v0".to_owned()),
            ".{0,4}",
        ];
        let separator = prop_oneof![Just("="), Just(""), Just("=="), Just(" = ")];
        let part = (scheme, separator, part_value()).prop_map(|(s, sep, v)| format!("{s}{sep}{v}"));
        prop_oneof![
            ".*",
            "\\PC*",
            prop::collection::vec(part, 0..6).prop_map(|parts| parts.join(",")),
        ]
    }

    proptest! {
        #[test]
        fn verify_never_panics_on_arbitrary_headers_and_bodies(
            header in prop::option::of(any_header()),
            body in prop::collection::vec(any::<u8>(), 0..256),
            secrets in prop::collection::vec(".{0,40}", 0..3),
            tolerance in any::<i64>(),
            now in any::<i64>(),
        ) {
            let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
            // Only that it returns; a garbage header must never verify against nothing.
            let verdict = verify(header.as_deref(), &body, &secrets, tolerance, now);
            if header.is_none() {
                prop_assert_eq!(&verdict, &Err(SignatureError::Missing));
            }
            if secrets.is_empty() {
                prop_assert!(verdict.is_err());
            }
        }

        #[test]
        fn a_correctly_signed_header_always_verifies(
            secret in ".{0,64}",
            others in prop::collection::vec(".{1,40}", 0..3),
            position in any::<prop::sample::Index>(),
            timestamp in -1_000_000_000_000i64..1_000_000_000_000,
            skew in -TOLERANCE..=TOLERANCE,
            body in prop::collection::vec(any::<u8>(), 0..512),
        ) {
            let header = signature_header(&secret, timestamp, &body);
            let mut secrets: Vec<&str> = others.iter().map(String::as_str).collect();
            secrets.insert(position.index(secrets.len() + 1), &secret);
            prop_assert_eq!(
                verify(Some(&header), &body, &secrets, TOLERANCE, timestamp + skew),
                Ok(())
            );
        }

        #[test]
        fn any_single_byte_change_to_the_body_fails(
            secret in ".{0,64}",
            timestamp in 0i64..4_000_000_000,
            body in prop::collection::vec(any::<u8>(), 1..512),
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let header = signature_header(&secret, timestamp, &body);
            let mut tampered = body.clone();
            tampered[at.index(body.len())] ^= flip;
            prop_assert_eq!(
                verify(Some(&header), &tampered, &[&secret], TOLERANCE, timestamp),
                Err(SignatureError::NoMatch)
            );
        }

        #[test]
        fn any_single_byte_change_to_the_signature_fails(
            secret in ".{0,64}",
            timestamp in 0i64..4_000_000_000,
            body in prop::collection::vec(any::<u8>(), 0..256),
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let mut signature = sign(&secret, timestamp, &body);
            let index = at.index(signature.len());
            signature[index] ^= flip;
            let header = format!("t={timestamp},v1={}", hex::encode(&signature));
            prop_assert_eq!(
                verify(Some(&header), &body, &[&secret], TOLERANCE, timestamp),
                Err(SignatureError::NoMatch)
            );
        }

        #[test]
        fn any_single_character_change_to_the_header_fails(
            secret in ".{0,64}",
            timestamp in 0i64..4_000_000_000,
            body in prop::collection::vec(any::<u8>(), 0..256),
            at in any::<prop::sample::Index>(),
            replacement in b' '..=b'~',
        ) {
            let header = signature_header(&secret, timestamp, &body);
            let mut bytes = header.clone().into_bytes();
            let index = at.index(bytes.len());
            let original = bytes[index];
            let in_signature = index >= header.find(",v1=").expect("a v1 part") + 4;
            // Hex digits are case-insensitive: `A` for `a` is the same signature.
            prop_assume!(if in_signature {
                !replacement.eq_ignore_ascii_case(&original)
            } else {
                replacement != original
            });
            bytes[index] = replacement;
            let tampered = String::from_utf8(bytes).expect("ASCII stays UTF-8");
            prop_assert!(
                verify(Some(&tampered), &body, &[&secret], TOLERANCE, timestamp).is_err(),
                "{} verified",
                tampered
            );
        }
    }
}
