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
    #[error("this invoice is {0}; only a draft can be voided (a finalized invoice is corrected by a credit note)")]
    NotVoidable(&'static str),
    #[error("this invoice is {0}; only a finalized (open, paid or uncollectible) invoice can be credited")]
    NotCreditable(&'static str),
    #[error("the invoice has no line {0}")]
    NoSuchLine(usize),
    #[error("line {0} is named twice")]
    LineTwice(usize),
    #[error("line {line} has {remaining} left to credit")]
    QuantityOverCredited { line: usize, remaining: i64 },
    #[error(
        "the credit note would credit {requested}; only {left} of the invoice is left to credit"
    )]
    OverCredited { requested: i64, left: i64 },
    #[error("nothing is left to credit on this invoice")]
    NothingToCredit,
    #[error("no such credit note on this invoice")]
    NoSuchCreditNote,
    #[error("this credit note id was already used")]
    CreditNoteExists,
}
