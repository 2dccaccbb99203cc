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
    /// `ResetPassword` with a reset this customer never requested.
    #[error("this password reset link is not valid; ask for a new one")]
    UnknownPasswordReset,
    /// `ResetPassword` with a reset that was already used.
    #[error("this password reset link was already used; ask for a new one")]
    PasswordResetUsed,
    /// `ResetPassword` after the reset's expiry, or after a later password change.
    #[error("this password reset link has expired; ask for a new one")]
    PasswordResetExpired,
}
