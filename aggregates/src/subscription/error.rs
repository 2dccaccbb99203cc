//! Why a subscription command was refused.

/// A rule of the [`Subscription`](super::Subscription) aggregate that a command broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
    /// An event for another customer's or another Stripe subscription's aggregate.
    #[error("the event concerns another subscription")]
    Mismatch,
}
