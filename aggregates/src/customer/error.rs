//! Why a customer command was refused.

/// A rule of the [`Customer`](super::Customer) aggregate that a command broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomerError {
    /// `Register` on an account that already exists.
    #[error("this customer is already registered")]
    AlreadyRegistered,
    /// Any other command on an account that was never opened.
    #[error("no such customer")]
    NotRegistered,
}
