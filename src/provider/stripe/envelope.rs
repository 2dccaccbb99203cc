//! A Stripe event as billstream reads it: the envelope fields it needs, leniently (localstripe's
//! events lack `pending_webhooks` and `request`; Stripe adds fields over time).

use serde::Deserialize;
use serde_json::Value;

/// A verified Stripe event.
#[derive(Debug, Clone, Deserialize)]
pub struct StripeEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created: i64,
    #[serde(default)]
    pub livemode: bool,
    pub data: EventData,
}

/// The object the event is about, as it was when the event was created.
#[derive(Debug, Clone, Deserialize)]
pub struct EventData {
    pub object: Value,
}

impl StripeEvent {
    /// Parses an event body; `None` when it is not a Stripe event.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let event: Self = serde_json::from_slice(body).ok()?;
        (!event.id.is_empty() && !event.kind.is_empty()).then_some(event)
    }

    /// The object's id (`pi_…`, `cus_…`).
    pub fn object_id(&self) -> Option<&str> {
        self.data.object["id"].as_str()
    }

    /// The object's type (`payment_intent`, `customer`).
    pub fn object_type(&self) -> Option<&str> {
        self.data.object["object"].as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_without_newer_fields_parses() {
        let event = StripeEvent::parse(
            br#"{"id":"evt_1","type":"payment_intent.succeeded","created":1700000000,
                "api_version":"2017-08-15","livemode":false,
                "data":{"object":{"id":"pi_1","object":"payment_intent"}}}"#,
        )
        .unwrap();
        assert_eq!(event.object_id(), Some("pi_1"));
        assert_eq!(event.object_type(), Some("payment_intent"));
    }

    #[test]
    fn something_else_is_not_an_event() {
        assert!(StripeEvent::parse(b"{}").is_none());
        assert!(StripeEvent::parse(br#"{"id":"evt_1","type":"x"}"#).is_none());
        assert!(StripeEvent::parse(b"not json").is_none());
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use serde_json::{json, Map, Value};

    use super::*;

    /// Any JSON value: scalars of every kind (huge, negative, fractional numbers, unicode
    /// strings) nested in arrays and objects.
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from), // NaN and infinities become null
            ".{0,24}".prop_map(Value::from),
            "\\PC{0,24}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..6)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    /// Object keys, often the envelope's own.
    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec!["id", "type", "created", "data", "object", "livemode"])
                .prop_map(str::to_owned),
            ".{0,12}",
        ]
    }

    /// An object with the envelope's fields set to arbitrary values (each present or not).
    fn envelope_shaped() -> impl Strategy<Value = Value> {
        let field = || prop::option::of(any_json());
        (
            field(),
            field(),
            field(),
            field(),
            field(),
            prop::option::of(any_json()),
        )
            .prop_map(|(id, kind, created, data, livemode, object)| {
                let mut envelope = Map::new();
                let mut data = data;
                if let (Some(Value::Object(data)), Some(object)) = (&mut data, object) {
                    data.insert("object".into(), object);
                }
                for (name, value) in [
                    ("id", id),
                    ("type", kind),
                    ("created", created),
                    ("data", data),
                    ("livemode", livemode),
                ] {
                    if let Some(value) = value {
                        envelope.insert(name.into(), value);
                    }
                }
                Value::Object(envelope)
            })
    }

    /// Whatever `parse` accepts is an event with an id and a type.
    fn check(body: &[u8]) -> Result<(), TestCaseError> {
        if let Some(event) = StripeEvent::parse(body) {
            prop_assert!(!event.id.is_empty() && !event.kind.is_empty());
            let _ = (event.object_id(), event.object_type());
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_arbitrary_bytes(
            body in prop::collection::vec(any::<u8>(), 0..1024),
        ) {
            check(&body)?;
        }

        #[test]
        fn parse_never_panics_on_arbitrary_json_values(value in any_json()) {
            check(value.to_string().as_bytes())?;
        }

        #[test]
        fn parse_never_panics_on_envelopes_with_arbitrary_field_values(
            value in envelope_shaped(),
        ) {
            check(value.to_string().as_bytes())?;
        }

        #[test]
        fn well_formed_events_round_trip_id_type_created_and_object_id(
            id in "\\PC{1,40}",
            kind in "\\PC{1,40}",
            created in any::<i64>(),
            livemode in any::<bool>(),
            object_id in "\\PC{0,40}",
            object_type in "[a-z_.]{1,30}",
            extra in prop::collection::vec((".{1,12}", any_json()), 0..4),
        ) {
            let mut object = json!({ "id": object_id, "object": object_type });
            let mut envelope = json!({
                "id": id, "object": "event", "type": kind, "created": created,
                "livemode": livemode, "data": { "object": object.clone() },
            });
            // Fields Stripe adds over time, beside ours: ignored.
            for (name, value) in extra {
                if envelope.get(&name).is_none() {
                    envelope[&name] = value.clone();
                }
                if object.get(&name).is_none() {
                    object[&name] = value;
                }
            }
            envelope["data"]["object"] = object.clone();
            let event = StripeEvent::parse(envelope.to_string().as_bytes());
            prop_assert!(event.is_some(), "{} was refused", envelope);
            let event = event.unwrap();
            prop_assert_eq!(&event.id, &id);
            prop_assert_eq!(&event.kind, &kind);
            prop_assert_eq!(event.created, created);
            prop_assert_eq!(event.livemode, livemode);
            prop_assert_eq!(event.object_id(), Some(object_id.as_str()));
            prop_assert_eq!(event.object_type(), Some(object_type.as_str()));
            // Every field of the object is kept (floats aside: serde_json's parsing of them
            // may differ in the last digit, which is why the inbox stores the raw body).
            let kept = event.data.object.as_object().map(|kept| kept.keys().collect::<Vec<_>>());
            prop_assert_eq!(kept, object.as_object().map(|sent| sent.keys().collect::<Vec<_>>()));
        }
    }
}
