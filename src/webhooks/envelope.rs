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
