//! Stripe's webhook events, typed: the envelope the inbox files an event by, and the event's
//! object decoded into what it means for billstream (`ProviderEvent`). Which event types
//! billstream acts on is decided here; the objects are read by `decode` and `billing_decode`,
//! leniently, so older shapes (localstripe's) keep decoding.

#[cfg(test)]
mod tests;

use serde_json::Value;

use super::billing_decode::{self, id_of};
use super::decode;
use super::envelope::StripeEvent;
use crate::provider::{EventEnvelope, IncomingEvent, ProviderEvent};

/// PaymentIntent events that carry an outcome billstream records.
const PAYMENT_INTENT_EVENTS: &[&str] = &[
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "payment_intent.requires_action",
    "payment_intent.processing",
    "payment_intent.canceled",
];

const SUBSCRIPTION_EVENTS: &[&str] = &[
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "customer.subscription.trial_will_end",
    "customer.subscription.paused",
    "customer.subscription.resumed",
];

/// Invoice events: each brings the invoice forward to the state its object shows.
const INVOICE_EVENTS: &[&str] = &[
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_succeeded",
    "invoice.payment_failed",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "invoice.updated",
];

/// The envelope of a webhook body, its object left undecoded (what the endpoint needs to store
/// a delivery); `None` when the body is not a Stripe event.
pub fn read_envelope(body: &[u8]) -> Option<EventEnvelope> {
    StripeEvent::parse(body).map(|event| split(event).0)
}

/// A webhook body, typed; `None` when it is not a Stripe event. An object that does not read
/// as its event type promises is reported as `Unreadable`, not refused here: the inbox keeps
/// such events and records why they failed.
pub fn decode_event(body: &[u8]) -> Option<IncomingEvent> {
    let (envelope, object) = split(StripeEvent::parse(body)?);
    let event = typed(&envelope.event_type, envelope.created, object);
    Some(IncomingEvent { envelope, event })
}

/// The envelope fields, and the object they were read from.
fn split(event: StripeEvent) -> (EventEnvelope, Value) {
    let text = |value: &Value| value.as_str().map(str::to_owned);
    let object = event.data.object;
    let envelope = EventEnvelope {
        object_id: text(&object["id"]),
        object_type: text(&object["object"]),
        // A charge, a refund or an invoice names its PaymentIntent by id (unexpanded).
        payment_intent: text(&object["payment_intent"]),
        id: event.id,
        event_type: event.kind,
        created: event.created,
        livemode: event.livemode,
    };
    (envelope, object)
}

/// What an event of `event_type` about `object` means.
fn typed(event_type: &str, created: i64, object: Value) -> ProviderEvent {
    let text = |value: &Value| value.as_str().map(str::to_owned);
    match event_type {
        kind if PAYMENT_INTENT_EVENTS.contains(&kind) => {
            match decode::intent_snapshot(object, created) {
                Ok(snapshot) => ProviderEvent::PaymentIntent(snapshot),
                Err(error) => ProviderEvent::Unreadable {
                    reason: error.to_string(),
                },
            }
        }
        "charge.refunded" => match decode::charge_refund(&object) {
            Some(charge) => ProviderEvent::ChargeRefunded(charge),
            None => ProviderEvent::Unreadable {
                reason: "a charge without a payment_intent".into(),
            },
        },
        "customer.updated" => ProviderEvent::CustomerUpdated {
            stripe_customer_id: text(&object["id"]),
            name: text(&object["name"]),
            phone: text(&object["phone"]),
        },
        "customer.deleted" => ProviderEvent::CustomerDeleted {
            stripe_customer_id: text(&object["id"]),
        },
        kind if SUBSCRIPTION_EVENTS.contains(&kind) => {
            match billing_decode::subscription(&object) {
                Ok(subscription) => ProviderEvent::Subscription(subscription),
                Err(error) => unreadable_of_customer(&object, error.to_string()),
            }
        }
        kind if INVOICE_EVENTS.contains(&kind) => match billing_decode::invoice(&object) {
            Ok(invoice) => ProviderEvent::Invoice(invoice),
            Err(error) => unreadable_of_customer(&object, error.to_string()),
        },
        _ => ProviderEvent::Other,
    }
}

fn unreadable_of_customer(object: &Value, reason: String) -> ProviderEvent {
    ProviderEvent::UnreadableOfCustomer {
        customer: id_of(&object["customer"]).map(str::to_owned),
        reason,
    }
}
