//! Why an invoice command was refused.

/// A rule of the [`Invoice`](super::Invoice) aggregate that a command broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceError {
    #[error("this invoice already exists")]
    AlreadyCreated,
    #[error("no such invoice")]
    NotCreated,
    #[error("this invoice is {0}; only a draft can be finalized")]
    NotDraft(&'static str),
    #[error("this invoice is {0}; it must be open")]
    NotOpen(&'static str),
    #[error("this invoice is {0}; it cannot be paid")]
    NotPayable(&'static str),
    #[error("this invoice is a draft; its document is issued when it is finalized")]
    NotIssuable,
    #[error("this invoice's document was already issued with other content")]
    DocumentAlreadyIssued,
    #[error("the payment of {paid} does not match the amount due, {due}")]
    WrongAmount { paid: i64, due: i64 },
}
