//! Recurring revenue: what subscriptions bring per month.

use super::SubscriptionStatus;

/// One subscription's price, as the statistics see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurringPrice {
    /// Stripe's status text.
    pub status: String,
    /// `day`, `week`, `month` or `year`.
    pub interval: String,
    /// Per interval, in minor units.
    pub amount: i64,
}

impl RecurringPrice {
    /// True when the subscription brings recurring revenue now (active or past due).
    pub fn counts(&self) -> bool {
        SubscriptionStatus::parse(&self.status).is_some_and(SubscriptionStatus::counts_towards_mrr)
    }
}

/// Monthly recurring revenue of the counting subscriptions among `prices` (one currency), in
/// minor units: monthly prices as they are, others scaled to a month (a year is 12 months, a
/// week 52/12 of a month, a day 365/12), summed exactly and rounded half up once.
pub fn monthly_recurring_revenue(prices: &[RecurringPrice]) -> i64 {
    // Sum in twelfths of a month so every interval is an integer.
    let twelfths: i64 = prices
        .iter()
        .filter(|price| price.counts())
        .map(|price| match price.interval.as_str() {
            "year" => price.amount,
            "week" => price.amount * 52,
            "day" => price.amount * 365,
            _ => price.amount * 12,
        })
        .sum();
    (twelfths + 6) / 12
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(status: &str, interval: &str, amount: i64) -> RecurringPrice {
        RecurringPrice {
            status: status.into(),
            interval: interval.into(),
            amount,
        }
    }

    #[test]
    fn mrr_normalises_every_interval_to_a_month() {
        assert_eq!(
            monthly_recurring_revenue(&[price("active", "month", 990)]),
            990
        );
        // 9900 a year is 825 a month.
        assert_eq!(
            monthly_recurring_revenue(&[
                price("active", "month", 990),
                price("past_due", "year", 9_900)
            ]),
            1_815
        );
        // 100 a week is 433.33… a month.
        assert_eq!(
            monthly_recurring_revenue(&[price("active", "week", 100)]),
            433
        );
        assert_eq!(monthly_recurring_revenue(&[]), 0);
    }

    #[test]
    fn only_active_and_past_due_subscriptions_count() {
        let prices = [
            price("trialing", "month", 990),
            price("canceled", "month", 990),
            price("unpaid", "month", 990),
            price("active", "month", 100),
        ];
        assert_eq!(monthly_recurring_revenue(&prices), 100);
    }
}
