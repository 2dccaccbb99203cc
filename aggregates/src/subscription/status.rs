//! A subscription's status as Stripe names it, and what each status means for billing.

/// Stripe's subscription statuses. The events keep Stripe's spelling as text, so a status
/// Stripe adds later still loads; [`SubscriptionStatus::parse`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionStatus {
    Trialing,
    Active,
    Incomplete,
    IncompleteExpired,
    PastDue,
    Canceled,
    Unpaid,
    Paused,
}

impl SubscriptionStatus {
    const ALL: [Self; 8] = [
        Self::Trialing,
        Self::Active,
        Self::Incomplete,
        Self::IncompleteExpired,
        Self::PastDue,
        Self::Canceled,
        Self::Unpaid,
        Self::Paused,
    ];

    /// Stripe's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::Incomplete => "incomplete",
            Self::IncompleteExpired => "incomplete_expired",
            Self::PastDue => "past_due",
            Self::Canceled => "canceled",
            Self::Unpaid => "unpaid",
            Self::Paused => "paused",
        }
    }

    /// Reads Stripe's spelling; `None` for a status this version does not know.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// True once the subscription ended for good: Stripe never moves it again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Canceled | Self::IncompleteExpired)
    }

    /// True while the subscription bills, or may bill again: it holds its plan.
    pub fn is_live(self) -> bool {
        !self.is_terminal()
    }

    /// True when it counts towards monthly recurring revenue.
    pub fn counts_towards_mrr(self) -> bool {
        matches!(self, Self::Active | Self::PastDue)
    }
}

/// True when Stripe's status text names a status that ended the subscription. An unknown
/// status is not terminal: only Stripe's known end states release a plan.
pub fn is_terminal_status(raw: &str) -> bool {
    SubscriptionStatus::parse(raw).is_some_and(SubscriptionStatus::is_terminal)
}
