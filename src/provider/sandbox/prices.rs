//! The sandbox's prices: a plan's price as Stripe shows it (with the legacy `plan` view older
//! integrations read), how long a billing interval lasts, and prorations.

use chrono::{Months, TimeZone, Utc};
use serde_json::{json, Value};

use super::ids::{stripe_like_id, DAY};
use crate::provider::PlanPrice;

/// The sandbox's price for a plan: the configured id, or one derived from the plan.
pub fn ensure(price: &PlanPrice) -> PlanPrice {
    let mut price = price.clone();
    if price.price_id.is_empty() {
        price.price_id = format!("price_{}", price.plan_id);
    }
    price
}

/// `t` plus one billing interval, in calendar months for months and years.
pub fn add_interval(t: i64, interval: &str) -> i64 {
    let months = match interval {
        "day" => return t + DAY,
        "week" => return t + 7 * DAY,
        "year" => 12,
        _ => 1,
    };
    Utc.timestamp_opt(t, 0)
        .single()
        .and_then(|at| at.checked_add_months(Months::new(months)))
        .map(|at| at.timestamp())
        .unwrap_or(t + 30 * DAY)
}

/// `amount × part / whole`, rounded half up (whole > 0, all non-negative).
pub fn prorate(amount: i64, part: i64, whole: i64) -> i64 {
    (amount * part * 2 + whole) / (2 * whole)
}

/// A plan's price as Stripe's `price` object.
pub fn price_object(price: &PlanPrice) -> Value {
    json!({
        "id": price.price_id,
        "object": "price",
        "active": true,
        "currency": price.currency,
        "lookup_key": format!("billstream_{}", price.plan_id),
        "nickname": price.product_name,
        "product": format!("prod_{}", price.plan_id),
        "recurring": {"interval": price.interval, "interval_count": 1},
        "type": "recurring",
        "unit_amount": price.amount,
    })
}

/// The legacy `plan` view of a price, which older integrations (and localstripe) read.
fn plan_object(price: &Value) -> Value {
    json!({
        "id": price["id"],
        "object": "plan",
        "amount": price["unit_amount"],
        "currency": price["currency"],
        "interval": price["recurring"]["interval"],
        "interval_count": 1,
        "nickname": price["nickname"],
        "product": price["product"],
    })
}

/// Puts a subscription on `price`: its one item, and the legacy `plan` beside it.
pub fn set_price(subscription: &mut Value, price: Value) {
    let item_id = subscription["items"]["data"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| stripe_like_id("si"));
    subscription["plan"] = plan_object(&price);
    subscription["items"] = json!({
        "object": "list",
        "data": [{"id": item_id, "object": "subscription_item", "quantity": 1,
                  "price": price, "plan": plan_object(&price)}],
    });
}

/// The price a subscription is on.
pub fn price_of(subscription: &Value) -> Value {
    subscription["items"]["data"][0]["price"].clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_monthly_interval_follows_the_calendar() {
        let jan_31 = Utc
            .with_ymd_and_hms(2027, 1, 31, 12, 0, 0)
            .unwrap()
            .timestamp();
        let feb_28 = Utc
            .with_ymd_and_hms(2027, 2, 28, 12, 0, 0)
            .unwrap()
            .timestamp();
        assert_eq!(add_interval(jan_31, "month"), feb_28);
        let next_year = Utc
            .with_ymd_and_hms(2028, 1, 31, 12, 0, 0)
            .unwrap()
            .timestamp();
        assert_eq!(add_interval(jan_31, "year"), next_year);
    }

    #[test]
    fn prorations_round_half_up() {
        assert_eq!(prorate(990, 1, 2), 495);
        assert_eq!(prorate(999, 1, 2), 500);
        assert_eq!(prorate(2990, 0, 30), 0);
        assert_eq!(prorate(2990, 30, 30), 2990);
    }
}
