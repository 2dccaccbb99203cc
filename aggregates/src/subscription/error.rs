//! Why a subscription command was refused.

/// A rule of the [`Subscription`](super::Subscription) aggregate that a command broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    /// An event for another customer's or another Stripe subscription's aggregate.
    #[error("the event concerns another subscription")]
    Mismatch,
    /// A second, different request under the id of an existing subscription.
    #[error("this subscription already exists with other details")]
    AlreadyRequested,
    /// A change of plan for a subscription that is not recorded or no longer live.
    #[error("this subscription has ended; it can no longer change plan")]
    NotLive,
    /// A command on a subscription billstream never requested nor recorded.
    #[error("no such subscription")]
    NotFound,
    /// A trial reminder for a subscription that is not trialing, or whose trial does not end
    /// soon.
    #[error("this subscription's trial does not end soon")]
    TrialNotEndingSoon,
}
