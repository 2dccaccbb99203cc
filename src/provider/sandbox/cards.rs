//! Stripe's test payment methods and card numbers, and how each behaves.

/// What a test card does when charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardBehaviour {
    /// The charge succeeds.
    Succeeds,
    /// The issuer declines with this decline code and message.
    Declines {
        decline_code: &'static str,
        message: &'static str,
    },
    /// 3-D Secure is required; the charge waits for authentication.
    RequiresAuthentication,
}

/// A recognised test payment method: the `pm_…` id it stands for and its behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestCard {
    pub payment_method: &'static str,
    pub brand: &'static str,
    pub last4: &'static str,
    pub behaviour: CardBehaviour,
}

const CARDS: &[(&str, &str, TestCard)] = &[
    (
        "pm_card_visa",
        "4242424242424242",
        TestCard {
            payment_method: "pm_card_visa",
            brand: "visa",
            last4: "4242",
            behaviour: CardBehaviour::Succeeds,
        },
    ),
    (
        "pm_card_mastercard",
        "5555555555554444",
        TestCard {
            payment_method: "pm_card_mastercard",
            brand: "mastercard",
            last4: "4444",
            behaviour: CardBehaviour::Succeeds,
        },
    ),
    (
        "pm_card_chargeDeclined",
        "4000000000000002",
        TestCard {
            payment_method: "pm_card_chargeDeclined",
            brand: "visa",
            last4: "0002",
            behaviour: CardBehaviour::Declines {
                decline_code: "generic_decline",
                message: "Your card was declined.",
            },
        },
    ),
    (
        "pm_card_chargeDeclinedInsufficientFunds",
        "4000000000009995",
        TestCard {
            payment_method: "pm_card_chargeDeclinedInsufficientFunds",
            brand: "visa",
            last4: "9995",
            behaviour: CardBehaviour::Declines {
                decline_code: "insufficient_funds",
                message: "Your card has insufficient funds.",
            },
        },
    ),
    (
        // Attaches to a customer, then every charge fails: what a card that later expires or
        // is blocked does to a subscription.
        "pm_card_chargeCustomerFail",
        "4000000000000341",
        TestCard {
            payment_method: "pm_card_chargeCustomerFail",
            brand: "visa",
            last4: "0341",
            behaviour: CardBehaviour::Declines {
                decline_code: "generic_decline",
                message: "Your card was declined.",
            },
        },
    ),
    (
        "pm_card_authenticationRequired",
        "4000000000003220",
        TestCard {
            payment_method: "pm_card_authenticationRequired",
            brand: "visa",
            last4: "3220",
            behaviour: CardBehaviour::RequiresAuthentication,
        },
    ),
];

/// The test card for a `pm_…` id or a card number (spaces and dashes ignored).
pub fn resolve(payment_method: &str) -> Option<TestCard> {
    let digits: String = payment_method
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    CARDS
        .iter()
        .find(|(id, number, _)| *id == payment_method || *number == digits)
        .map(|(_, _, card)| *card)
}

/// True when `raw` looks like a card number rather than a payment-method id.
pub fn looks_like_card_number(raw: &str) -> bool {
    let digits = raw.chars().filter(char::is_ascii_digit).count();
    (12..=19).contains(&digits)
        && raw
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-'))
}

/// The sandbox's PaymentMethod for a test card number — `(id, brand, last4)` — as Stripe's API
/// makes one for Stripe.js; `None` for a number that is not one of the test cards.
pub fn test_payment_method(
    card_number: &str,
) -> Option<(&'static str, &'static str, &'static str)> {
    if !looks_like_card_number(card_number) {
        return None;
    }
    resolve(card_number).map(|card| (card.payment_method, card.brand, card.last4))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_numbers_resolve_to_the_same_card() {
        assert_eq!(resolve("pm_card_visa"), resolve("4242 4242 4242 4242"));
        assert_eq!(
            resolve("4000000000009995").unwrap().behaviour,
            CardBehaviour::Declines {
                decline_code: "insufficient_funds",
                message: "Your card has insufficient funds."
            }
        );
        assert!(resolve("pm_card_unknown").is_none());
        assert!(resolve("4111111111111111").is_none());
    }
}
