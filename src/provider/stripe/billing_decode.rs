//! Lenient decoding of Stripe's subscriptions and invoices, across API versions: periods on the
//! subscription or on its items, a `price` or a legacy `plan`, an invoice's subscription and
//! payment at the top level or under `parent` / `payments`, taxes as `tax_amounts` or `taxes`.
//! Shared by the Stripe adapter, the sandbox and the webhook intake.

use serde_json::Value;

use super::metadata;
use crate::provider::{ProviderError, ProviderInvoice, ProviderInvoiceLine, ProviderSubscription};

/// An id field that Stripe sends either as an id or as the expanded object.
pub fn id_of(value: &Value) -> Option<&str> {
    value.as_str().or_else(|| value["id"].as_str())
}

fn text(value: &Value) -> Option<String> {
    value.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

fn malformed(what: &str, reason: &str) -> ProviderError {
    ProviderError::Provider(format!(
        "unexpected {what} shape from the provider: {reason}"
    ))
}

/// A subscription from its Stripe JSON.
pub fn subscription(object: &Value) -> Result<ProviderSubscription, ProviderError> {
    let id = text(&object["id"]).ok_or_else(|| malformed("subscription", "no id"))?;
    let status = text(&object["status"]).ok_or_else(|| malformed("subscription", "no status"))?;
    let item = &object["items"]["data"][0];
    let price = if item["price"].is_object() {
        &item["price"]
    } else if item["plan"].is_object() {
        &item["plan"]
    } else {
        &object["plan"]
    };
    let price_id = id_of(&item["price"])
        .or_else(|| id_of(&item["plan"]))
        .or_else(|| id_of(&object["plan"]))
        .map(str::to_owned);
    Ok(ProviderSubscription {
        id,
        customer: id_of(&object["customer"]).map(str::to_owned),
        status,
        price_id,
        amount: price["unit_amount"]
            .as_i64()
            .or_else(|| price["amount"].as_i64()),
        currency: text(&price["currency"]),
        interval: text(&price["recurring"]["interval"]).or_else(|| text(&price["interval"])),
        interval_count: price["recurring"]["interval_count"]
            .as_u64()
            .or_else(|| price["interval_count"].as_u64())
            .and_then(|count| u32::try_from(count).ok()),
        current_period_start: object["current_period_start"]
            .as_i64()
            .or_else(|| item["current_period_start"].as_i64()),
        current_period_end: object["current_period_end"]
            .as_i64()
            .or_else(|| item["current_period_end"].as_i64()),
        trial_end: object["trial_end"].as_i64(),
        cancel_at_period_end: object["cancel_at_period_end"].as_bool().unwrap_or(false),
        canceled_at: object["canceled_at"].as_i64(),
        ended_at: object["ended_at"].as_i64(),
        created: object["created"]
            .as_i64()
            .or_else(|| object["start_date"].as_i64()),
        billstream_id: text(&object["metadata"][metadata::SUBSCRIPTION_ID]),
    })
}

fn line(line: &Value) -> ProviderInvoiceLine {
    let taxes = if line["tax_amounts"].is_array() {
        &line["tax_amounts"]
    } else {
        &line["taxes"]
    };
    let tax = taxes
        .as_array()
        .map(|taxes| taxes.iter().filter_map(|t| t["amount"].as_i64()).sum())
        .unwrap_or(0);
    ProviderInvoiceLine {
        description: text(&line["description"]).unwrap_or_else(|| "Subscription".into()),
        quantity: line["quantity"].as_i64().unwrap_or(1).max(1),
        amount: line["amount"].as_i64().unwrap_or(0),
        tax,
    }
}

/// An invoice from its Stripe JSON.
pub fn invoice(object: &Value) -> Result<ProviderInvoice, ProviderError> {
    let id = text(&object["id"]).ok_or_else(|| malformed("invoice", "no id"))?;
    let status = text(&object["status"]).ok_or_else(|| malformed("invoice", "no status"))?;
    let lines: Vec<ProviderInvoiceLine> = object["lines"]["data"]
        .as_array()
        .map(|lines| lines.iter().map(line).collect())
        .unwrap_or_default();
    let line_tax: i64 = lines.iter().map(|line| line.tax).sum();
    let subtotal = object["subtotal"]
        .as_i64()
        .unwrap_or_else(|| lines.iter().map(|line| line.amount).sum());
    let tax = object["tax"].as_i64().unwrap_or(line_tax);
    let total = object["total"].as_i64().unwrap_or(subtotal + tax);
    let subscription = id_of(&object["subscription"])
        .or_else(|| id_of(&object["parent"]["subscription_details"]["subscription"]))
        .map(str::to_owned);
    let payment_intent = id_of(&object["payment_intent"])
        .or_else(|| id_of(&object["payments"]["data"][0]["payment"]["payment_intent"]))
        .map(str::to_owned);
    let transitions = &object["status_transitions"];
    Ok(ProviderInvoice {
        id,
        customer: id_of(&object["customer"]).map(str::to_owned),
        subscription,
        status,
        number: text(&object["number"]),
        currency: text(&object["currency"]).unwrap_or_else(|| "eur".into()),
        collection_method: text(&object["collection_method"])
            .unwrap_or_else(|| "charge_automatically".into()),
        lines,
        subtotal,
        tax,
        total,
        amount_paid: object["amount_paid"].as_i64().unwrap_or(0),
        amount_due: object["amount_due"].as_i64().unwrap_or(total),
        created: object["created"]
            .as_i64()
            .or_else(|| object["date"].as_i64())
            .unwrap_or(0),
        due_date: object["due_date"].as_i64(),
        finalized_at: transitions["finalized_at"].as_i64(),
        paid_at: transitions["paid_at"].as_i64(),
        hosted_invoice_url: text(&object["hosted_invoice_url"]),
        invoice_pdf: text(&object["invoice_pdf"]),
        payment_intent,
        attempt_count: object["attempt_count"]
            .as_u64()
            .map(|n| n.min(u64::from(u32::MAX)) as u32)
            .unwrap_or(0),
        next_payment_attempt: object["next_payment_attempt"].as_i64(),
        last_payment_error: text(&object["last_payment_error"]["message"]),
        memo: text(&object["description"]),
        billstream_id: text(&object["metadata"][metadata::INVOICE_ID]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_recent_subscription_takes_its_period_from_its_item() {
        let sub = subscription(&json!({
            "id": "sub_1", "object": "subscription", "status": "active", "customer": "cus_1",
            "cancel_at_period_end": false,
            "items": {"data": [{"current_period_start": 100, "current_period_end": 200,
                "price": {"id": "price_1", "unit_amount": 990, "currency": "eur",
                          "recurring": {"interval": "month", "interval_count": 3}}}]}
        }))
        .unwrap();
        assert_eq!(sub.current_period_end, Some(200));
        assert_eq!(sub.price_id.as_deref(), Some("price_1"));
        assert_eq!(sub.amount, Some(990));
        assert_eq!(sub.interval.as_deref(), Some("month"));
        assert_eq!(sub.interval_count, Some(3));
    }

    #[test]
    fn a_legacy_subscription_on_a_plan_is_read() {
        let sub = subscription(&json!({
            "id": "sub_1", "status": "trialing", "current_period_start": 1, "current_period_end": 2,
            "plan": {"id": "plan_1", "amount": 2990, "currency": "eur", "interval": "month"},
            "items": {"data": [{"plan": {"id": "plan_1", "amount": 2990, "currency": "eur", "interval": "month"}}]}
        }))
        .unwrap();
        assert_eq!(sub.price_id.as_deref(), Some("plan_1"));
        assert_eq!(sub.amount, Some(2990));
        assert_eq!(sub.current_period_start, Some(1));
    }

    #[test]
    fn an_invoice_of_either_shape_gives_its_subscription_payment_and_taxes() {
        let old = invoice(&json!({
            "id": "in_1", "status": "paid", "subscription": "sub_1", "payment_intent": "pi_1",
            "currency": "eur", "total": 1200, "subtotal": 1000, "tax": 200, "amount_paid": 1200,
            "lines": {"data": [{"description": "Plan", "amount": 1000, "quantity": 1,
                                 "tax_amounts": [{"amount": 200}]}]}
        }))
        .unwrap();
        let new = invoice(&json!({
            "id": "in_1", "status": "paid", "currency": "eur", "total": 1200, "subtotal": 1000,
            "amount_paid": 1200,
            "parent": {"subscription_details": {"subscription": "sub_1"}},
            "payments": {"data": [{"payment": {"payment_intent": "pi_1"}}]},
            "lines": {"data": [{"description": "Plan", "amount": 1000, "quantity": 1,
                                 "taxes": [{"amount": 200}]}]}
        }))
        .unwrap();
        for decoded in [old, new] {
            assert_eq!(decoded.subscription.as_deref(), Some("sub_1"));
            assert_eq!(decoded.payment_intent.as_deref(), Some("pi_1"));
            assert_eq!(decoded.tax, 200);
            assert_eq!(decoded.lines[0].tax, 200);
        }
    }

    #[test]
    fn an_invoice_without_an_id_is_a_provider_error() {
        assert!(matches!(
            invoice(&json!({"status": "open"})),
            Err(ProviderError::Provider(_))
        ));
    }
}
