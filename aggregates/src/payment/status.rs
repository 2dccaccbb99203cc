//! Where a payment stands, and what each status allows.

use serde::{Deserialize, Serialize};

/// Where a payment stands. `Failed` may be confirmed again with another payment method, as
/// Stripe allows; `Succeeded`, `PartiallyRefunded`, `Refunded` and `Canceled` are final for
/// confirmation.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    #[default]
    RequiresPaymentMethod,
    RequiresAction,
    Processing,
    Succeeded,
    Failed,
    Canceled,
    PartiallyRefunded,
    Refunded,
}

impl PaymentStatus {
    const ALL: [Self; 8] = [
        Self::RequiresPaymentMethod,
        Self::RequiresAction,
        Self::Processing,
        Self::Succeeded,
        Self::Failed,
        Self::Canceled,
        Self::PartiallyRefunded,
        Self::Refunded,
    ];

    /// The status as the API and the read model write it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::RequiresPaymentMethod => "requires_payment_method",
            Self::RequiresAction => "requires_action",
            Self::Processing => "processing",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s output.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// True once the money moved (or the intent died): no confirmation can change it.
    pub fn is_final_for_confirmation(&self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::PartiallyRefunded | Self::Refunded | Self::Canceled
        )
    }

    /// True when captured money remains that a refund may take.
    pub fn is_refundable(&self) -> bool {
        matches!(self, Self::Succeeded | Self::PartiallyRefunded)
    }

    /// True while the outcome waits on the customer's bank or the provider (3-D Secure,
    /// processing): a read asks the provider for news.
    pub fn awaits_provider(&self) -> bool {
        matches!(self, Self::RequiresAction | Self::Processing)
    }

    /// True once the charge succeeded (whatever was refunded since).
    pub fn is_captured(&self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::PartiallyRefunded | Self::Refunded
        )
    }

    /// How far along a payment is: an older event may not move it back to a lower rank.
    pub(super) fn rank(self) -> u8 {
        match self {
            Self::RequiresPaymentMethod => 0,
            Self::Failed | Self::RequiresAction => 1,
            Self::Processing => 2,
            Self::Succeeded | Self::Canceled => 3,
            Self::PartiallyRefunded | Self::Refunded => 4,
        }
    }
}
