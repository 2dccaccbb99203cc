//! Recurring revenue: what subscriptions bring per month.

use super::SubscriptionStatus;

/// One subscription's price, as the statistics see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurringPrice {
    /// Stripe's status text.
    pub status: String,
    /// `day`, `week`, `month` or `year`.
    pub interval: String,
    /// How many intervals one period lasts (3 months for a quarterly price; 1 or more).
    pub interval_count: i64,
    /// Per period, in minor units.
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
/// week 52/12 of a month, a day 365/12) and spread over the intervals of their period (a
/// quarterly price over 3 months), summed exactly and rounded half up once.
pub fn monthly_recurring_revenue(prices: &[RecurringPrice]) -> i64 {
    let counting: Vec<&RecurringPrice> = prices.iter().filter(|price| price.counts()).collect();
    // Sum in twelfths of a month, over a common multiple of the interval counts, so that every
    // term is an integer.
    let common = counting
        .iter()
        .map(|price| i128::from(price.interval_count.max(1)))
        .fold(1, lcm);
    let parts: i128 = counting
        .iter()
        .map(|price| {
            let twelfths = i128::from(price.amount)
                * match price.interval.as_str() {
                    "year" => 1,
                    "week" => 52,
                    "day" => 365,
                    _ => 12,
                };
            twelfths * (common / i128::from(price.interval_count.max(1)))
        })
        .sum();
    let whole = 12 * common;
    i64::try_from((parts + whole / 2).div_euclid(whole)).unwrap_or(i64::MAX)
}

fn lcm(a: i128, b: i128) -> i128 {
    fn gcd(a: i128, b: i128) -> i128 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    a / gcd(a, b) * b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(status: &str, interval: &str, amount: i64) -> RecurringPrice {
        RecurringPrice {
            status: status.into(),
            interval: interval.into(),
            interval_count: 1,
            amount,
        }
    }

    fn every(count: i64, interval: &str, amount: i64) -> RecurringPrice {
        RecurringPrice {
            interval_count: count,
            ..price("active", interval, amount)
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
    fn a_price_for_several_intervals_is_spread_over_them() {
        // 3000 a quarter is 1000 a month; 100 every two weeks is 216.66… a month.
        assert_eq!(
            monthly_recurring_revenue(&[every(3, "month", 3_000)]),
            1_000
        );
        assert_eq!(monthly_recurring_revenue(&[every(2, "week", 100)]), 217);
        // Summed exactly before rounding: 1000 + 216.66… + 990.
        assert_eq!(
            monthly_recurring_revenue(&[
                every(3, "month", 3_000),
                every(2, "week", 100),
                price("active", "month", 990)
            ]),
            2_207
        );
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
