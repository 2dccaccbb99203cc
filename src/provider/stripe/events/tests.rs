//! The typed decoding of each event kind billstream acts on, from Stripe-shaped bodies written
//! for these tests: the current API's shapes, localstripe's older ones, and broken ones.

use serde_json::{json, Value};

use super::{decode_event, read_envelope};
use crate::provider::{IncomingEvent, IntentStatus, ProviderEvent};

fn body(id: &str, event_type: &str, object: Value) -> Vec<u8> {
    json!({
        "id": id, "object": "event", "api_version": "2024-06-20", "created": 1_800_000_100,
        "livemode": false, "pending_webhooks": 1, "type": event_type,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": object},
    })
    .to_string()
    .into_bytes()
}

fn decoded(event_type: &str, object: Value) -> IncomingEvent {
    decode_event(&body("evt_test", event_type, object)).expect("a Stripe event")
}

fn succeeded_intent() -> Value {
    json!({
        "id": "pi_3Test", "object": "payment_intent", "amount": 2_500, "amount_received": 2_500,
        "currency": "eur", "status": "succeeded", "client_secret": "pi_3Test_secret_abc",
        "created": 1_800_000_000, "customer": "cus_Ada", "description": "Order 1001",
        "invoice": null, "latest_charge": "ch_3Test", "livemode": false,
        "metadata": {"order": "1001", "billstream_payment_id": "7f0c", "gift": true},
        "last_payment_error": null, "next_action": null, "payment_method_types": ["card"],
    })
}

#[test]
fn a_succeeded_intent_decodes_with_billstreams_id_apart_from_the_customers_metadata() {
    let event = decoded("payment_intent.succeeded", succeeded_intent());
    assert_eq!(event.envelope.id, "evt_test");
    assert_eq!(event.envelope.event_type, "payment_intent.succeeded");
    assert_eq!(event.envelope.created, 1_800_000_100);
    assert_eq!(event.envelope.object_id.as_deref(), Some("pi_3Test"));
    assert_eq!(
        event.envelope.object_type.as_deref(),
        Some("payment_intent")
    );
    let ProviderEvent::PaymentIntent(snapshot) = event.event else {
        panic!("not a PaymentIntent event: {:?}", event.event);
    };
    assert_eq!(snapshot.intent.status, IntentStatus::Succeeded);
    assert_eq!(snapshot.intent.amount_received, 2_500);
    assert_eq!(snapshot.billstream_payment_id.as_deref(), Some("7f0c"));
    assert_eq!(snapshot.customer.as_deref(), Some("cus_Ada"));
    assert_eq!(snapshot.invoice, None);
    assert_eq!(snapshot.description.as_deref(), Some("Order 1001"));
    assert_eq!(snapshot.created, 1_800_000_000);
    // Only the customer's string entries: billstream's key and a non-string value stay out.
    let metadata: Vec<(&str, &str)> = snapshot
        .metadata
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    assert_eq!(metadata, vec![("order", "1001")]);
}

#[test]
fn an_intent_with_an_expanded_customer_and_an_invoice_names_both_by_id() {
    let mut object = succeeded_intent();
    object["customer"] = json!({"id": "cus_Ada", "object": "customer"});
    object["invoice"] = json!("in_1Test");
    object["metadata"] = json!({});
    let ProviderEvent::PaymentIntent(snapshot) = decoded("payment_intent.succeeded", object).event
    else {
        panic!("not a PaymentIntent event");
    };
    assert_eq!(snapshot.customer.as_deref(), Some("cus_Ada"));
    assert_eq!(snapshot.invoice.as_deref(), Some("in_1Test"));
    assert_eq!(snapshot.billstream_payment_id, None);
}

#[test]
fn a_localstripe_intent_of_the_older_shape_decodes_with_the_events_time() {
    // localstripe (API 2017-08-15): no amount_received, no created, `requires_source`.
    let object = json!({
        "id": "pi_old", "object": "payment_intent", "amount": 900, "currency": "eur",
        "status": "requires_source", "customer": "cus_old", "metadata": {},
        "client_secret": "pi_old_secret_x", "invoice": null, "next_action": null,
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."},
    });
    let event = decode_event(
        json!({"id": "evt_old", "object": "event", "api_version": "2017-08-15",
               "created": 1_700_000_000, "type": "payment_intent.payment_failed",
               "data": {"object": object}})
        .to_string()
        .as_bytes(),
    )
    .expect("an event without pending_webhooks or request is still an event");
    assert!(!event.envelope.livemode);
    let ProviderEvent::PaymentIntent(snapshot) = event.event else {
        panic!("not a PaymentIntent event");
    };
    assert_eq!(snapshot.intent.status, IntentStatus::RequiresPaymentMethod);
    assert_eq!(snapshot.intent.amount_received, 0);
    assert_eq!(snapshot.created, 1_700_000_000);
    let error = snapshot.intent.last_error.expect("the decline");
    assert_eq!(error.code, "card_declined");
}

#[test]
fn an_intent_in_an_unknown_status_is_unreadable_with_the_reason() {
    let mut object = succeeded_intent();
    object["status"] = json!("teleported");
    let event = decoded("payment_intent.succeeded", object).event;
    let ProviderEvent::Unreadable { reason } = event else {
        panic!("not unreadable: {event:?}");
    };
    assert!(reason.contains("status teleported"), "{reason}");
}

fn refunded_charge() -> Value {
    json!({
        "id": "ch_3Test", "object": "charge", "amount": 2_500, "amount_captured": 2_500,
        "amount_refunded": 700, "captured": true, "currency": "eur", "customer": "cus_Ada",
        "payment_intent": "pi_3Test", "refunded": false, "status": "succeeded",
        "refunds": {"object": "list", "has_more": false, "data": [
            {"id": "re_ours", "object": "refund", "amount": 500, "status": "succeeded",
             "metadata": {"billstream_refund_id": "7f0c-1"}},
            {"id": "re_dashboard", "object": "refund", "amount": 200, "status": "pending",
             "metadata": {}},
            {"id": "re_failed", "object": "refund", "amount": 300, "status": "failed",
             "metadata": {"billstream_refund_id": "7f0c-2"}},
        ]},
    })
}

#[test]
fn a_refunded_charge_decodes_its_totals_and_each_refund_with_billstreams_refund_id() {
    let event = decoded("charge.refunded", refunded_charge());
    assert_eq!(event.envelope.payment_intent.as_deref(), Some("pi_3Test"));
    assert_eq!(event.envelope.ordering_key(), Some("pi_3Test"));
    let ProviderEvent::ChargeRefunded(charge) = event.event else {
        panic!("not a refunded charge");
    };
    assert_eq!(charge.charge_id, "ch_3Test");
    assert_eq!(charge.payment_intent, "pi_3Test");
    assert_eq!(charge.customer.as_deref(), Some("cus_Ada"));
    assert_eq!(
        (charge.amount_captured, charge.amount_refunded),
        (2_500, 700)
    );
    let listed: Vec<(&str, Option<&str>)> = charge
        .refunds
        .iter()
        .map(|refund| (refund.id.as_str(), refund.billstream_refund_id.as_deref()))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("re_ours", Some("7f0c-1")),
            ("re_dashboard", None),
            ("re_failed", Some("7f0c-2"))
        ]
    );
    let standing: Vec<&str> = charge
        .standing_refunds()
        .map(|refund| refund.id.as_str())
        .collect();
    assert_eq!(standing, vec!["re_ours", "re_dashboard"]);
}

#[test]
fn a_charge_without_a_refund_list_keeps_its_totals() {
    // Since API version 2022-11-15 a charge no longer embeds its refunds.
    let mut object = refunded_charge();
    object.as_object_mut().unwrap().remove("refunds");
    let ProviderEvent::ChargeRefunded(charge) = decoded("charge.refunded", object).event else {
        panic!("not a refunded charge");
    };
    assert!(charge.refunds.is_empty());
    assert_eq!(charge.amount_refunded, 700);
}

#[test]
fn a_localstripe_charge_without_amount_captured_counts_a_captured_charge_in_full() {
    let object = json!({
        "id": "ch_old", "object": "charge", "amount": 1_200, "captured": true,
        "amount_refunded": 1_200, "customer": "cus_old", "payment_intent": "pi_old",
        "refunds": {"object": "list", "data": [
            {"id": "re_old", "object": "refund", "amount": 1_200, "charge": "ch_old",
             "date": 1_700_000_000, "metadata": {}},
            {"object": "refund", "amount": 5},
        ]},
    });
    let ProviderEvent::ChargeRefunded(charge) = decoded("charge.refunded", object).event else {
        panic!("not a refunded charge");
    };
    assert_eq!(charge.amount_captured, 1_200);
    // No status means it went through; a listed refund without an id is passed over.
    assert_eq!(charge.refunds.len(), 1);
    assert_eq!(charge.refunds[0].status, "succeeded");
    assert_eq!(charge.standing_refunds().count(), 1);
}

#[test]
fn an_uncaptured_charge_of_the_older_shape_captured_nothing() {
    let object = json!({"id": "ch_auth", "amount": 800, "captured": false,
                        "payment_intent": {"id": "pi_auth", "object": "payment_intent"}});
    let ProviderEvent::ChargeRefunded(charge) = decoded("charge.refunded", object).event else {
        panic!("not a refunded charge");
    };
    assert_eq!(charge.amount_captured, 0);
    assert_eq!(charge.payment_intent, "pi_auth");
}

#[test]
fn a_charge_without_a_payment_intent_is_unreadable() {
    let mut object = refunded_charge();
    object["payment_intent"] = Value::Null;
    assert_eq!(
        decoded("charge.refunded", object).event,
        ProviderEvent::Unreadable {
            reason: "a charge without a payment_intent".into()
        }
    );
}

#[test]
fn a_customer_update_carries_the_providers_values_unchecked() {
    let object = json!({"id": "cus_Ada", "object": "customer", "name": "Ada King",
                        "phone": null, "email": "ada@example.com", "metadata": {}});
    assert_eq!(
        decoded("customer.updated", object).event,
        ProviderEvent::CustomerUpdated {
            stripe_customer_id: Some("cus_Ada".into()),
            name: Some("Ada King".into()),
            phone: None,
        }
    );
}

#[test]
fn a_deleted_customer_is_named_by_its_id() {
    let object = json!({"id": "cus_Ada", "object": "customer", "deleted": true});
    assert_eq!(
        decoded("customer.deleted", object).event,
        ProviderEvent::CustomerDeleted {
            stripe_customer_id: Some("cus_Ada".into())
        }
    );
}

#[test]
fn a_subscription_event_decodes_the_subscription_with_billstreams_id() {
    let object = json!({
        "id": "sub_1Test", "object": "subscription", "status": "past_due", "customer": "cus_Ada",
        "cancel_at_period_end": false, "created": 1_800_000_000,
        "metadata": {"billstream_subscription_id": "5b1e"},
        "items": {"object": "list", "data": [{"id": "si_1", "current_period_start": 1_800_000_000,
            "current_period_end": 1_802_678_400,
            "price": {"id": "price_pro", "unit_amount": 2_990, "currency": "eur",
                      "recurring": {"interval": "month"}}}]},
    });
    let ProviderEvent::Subscription(subscription) =
        decoded("customer.subscription.updated", object).event
    else {
        panic!("not a subscription event");
    };
    assert_eq!(subscription.id, "sub_1Test");
    assert_eq!(subscription.status, "past_due");
    assert_eq!(subscription.customer.as_deref(), Some("cus_Ada"));
    assert_eq!(subscription.billstream_id.as_deref(), Some("5b1e"));
    assert_eq!(subscription.price_id.as_deref(), Some("price_pro"));
    assert_eq!(subscription.current_period_end, Some(1_802_678_400));
}

#[test]
fn an_unreadable_subscription_still_names_its_customer() {
    let object = json!({"id": "sub_1Test", "object": "subscription", "customer": "cus_Ada"});
    let event = decoded("customer.subscription.deleted", object).event;
    let ProviderEvent::UnreadableOfCustomer { customer, reason } = event else {
        panic!("not unreadable: {event:?}");
    };
    assert_eq!(customer.as_deref(), Some("cus_Ada"));
    assert!(reason.contains("no status"), "{reason}");
}

#[test]
fn an_invoice_event_decodes_the_invoice_and_files_it_with_its_payment_intent() {
    let object = json!({
        "id": "in_1Test", "object": "invoice", "status": "paid", "customer": "cus_Ada",
        "currency": "eur", "subtotal": 1_000, "tax": 200, "total": 1_200, "amount_paid": 1_200,
        "amount_due": 1_200, "created": 1_800_000_000, "number": "ADA-0001",
        "subscription": "sub_1Test", "payment_intent": "pi_inv",
        "metadata": {"billstream_invoice_id": "9c2d"},
        "status_transitions": {"finalized_at": 1_800_000_010, "paid_at": 1_800_000_020},
        "lines": {"object": "list", "data": [{"description": "Pro", "amount": 1_000,
            "quantity": 1, "tax_amounts": [{"amount": 200}]}]},
    });
    let event = decoded("invoice.paid", object);
    assert_eq!(event.envelope.ordering_key(), Some("pi_inv"));
    let ProviderEvent::Invoice(invoice) = event.event else {
        panic!("not an invoice event");
    };
    assert_eq!(invoice.id, "in_1Test");
    assert_eq!(invoice.billstream_id.as_deref(), Some("9c2d"));
    assert_eq!(invoice.customer.as_deref(), Some("cus_Ada"));
    assert_eq!(invoice.subscription.as_deref(), Some("sub_1Test"));
    assert_eq!((invoice.total, invoice.amount_paid), (1_200, 1_200));
    assert_eq!(invoice.paid_at, Some(1_800_000_020));
}

#[test]
fn an_unreadable_invoice_without_a_customer_names_none() {
    let event = decoded(
        "invoice.finalized",
        json!({"object": "invoice", "status": "open"}),
    )
    .event;
    assert_eq!(
        event,
        ProviderEvent::UnreadableOfCustomer {
            customer: None,
            reason: "payment provider failure: unexpected invoice shape from the provider: no id"
                .into()
        }
    );
}

#[test]
fn kinds_billstream_does_not_act_on_are_other() {
    for event_type in [
        "payment_intent.created",
        "invoice.sent",
        "balance.available",
    ] {
        let event = decoded(event_type, json!({"id": "x_1", "object": "thing"}));
        assert_eq!(event.event, ProviderEvent::Other, "{event_type}");
        assert_eq!(event.envelope.ordering_key(), Some("x_1"));
    }
}

#[test]
fn the_envelope_is_read_without_the_object_and_a_non_event_is_refused() {
    let envelope =
        read_envelope(&body("evt_env", "charge.refunded", refunded_charge())).expect("an envelope");
    assert_eq!(envelope.id, "evt_env");
    assert_eq!(envelope.object_id.as_deref(), Some("ch_3Test"));
    assert_eq!(envelope.object_type.as_deref(), Some("charge"));
    assert_eq!(envelope.payment_intent.as_deref(), Some("pi_3Test"));
    assert!(read_envelope(b"{}").is_none());
    assert!(decode_event(br#"{"id":"evt_1","type":"x"}"#).is_none());
    assert!(decode_event(b"not json").is_none());
}
