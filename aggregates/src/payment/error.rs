//! Why a payment command was refused.

/// A rule of the [`Payment`](super::Payment) aggregate that a command broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// `Create` with other details on a payment that exists.
    #[error("this payment already exists with other details")]
    AlreadyCreated,
    /// Any other command on a payment that was never created.
    #[error("no such payment")]
    NotCreated,
    /// A new confirmation of a payment that already succeeded, was refunded or canceled.
    #[error("this payment is already {0} and cannot be confirmed again")]
    AlreadyFinal(&'static str),
    /// A refund of a payment that has not succeeded (or is fully refunded).
    #[error("only a succeeded payment can be refunded; this one is {0}")]
    NotRefundable(&'static str),
    /// A refund of nothing, or larger than what remains captured and not already requested.
    #[error("must be from 1 to the refundable amount, {refundable}")]
    RefundExceedsCaptured { refundable: i64 },
    /// A verdict on a refund that was never requested.
    #[error("no such refund request")]
    UnknownRefund,
}
