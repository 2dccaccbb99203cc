//! Why a document cannot be rendered.
//!
//! Every check happens before anything is drawn or written: a document with inconsistent
//! amounts is refused rather than printed with wrong totals.

/// Input that cannot make a correct document, or a failure of the PDF writer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentError {
    #[error("currency {0:?} is not an ISO 4217 code (three capital letters)")]
    InvalidCurrency(String),
    #[error("currency {0} has more than two decimals, which EN 16931 amounts cannot carry")]
    CurrencyTooPrecise(String),
    #[error("{field} must not be empty")]
    MissingField { field: &'static str },
    #[error("{field} {value:?} is not valid: {expected}")]
    InvalidIdentifier {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("a document needs at least one line")]
    NoLines,
    #[error(
        "line {line}: quantity must not be 0 (a credit is a negative quantity) (got {quantity})"
    )]
    InvalidQuantity { line: usize, quantity: i64 },
    #[error("line {line}: unit price must not be negative (got {unit_price})")]
    NegativeUnitPrice { line: usize, unit_price: i64 },
    #[error("line {line}: VAT rate {rate_bps} bps is above 100 %")]
    InvalidVatRate { line: usize, rate_bps: u32 },
    #[error("line {line}: subtotal is {given} but quantity × unit price is {expected}")]
    LineSubtotalMismatch {
        line: usize,
        expected: i64,
        given: i64,
    },
    #[error("line {line}: VAT is {given} but the rate applied to the subtotal gives {expected}")]
    LineVatMismatch {
        line: usize,
        expected: i64,
        given: i64,
    },
    #[error("line {line}: a seller under the VAT franchise cannot charge VAT ({rate_bps} bps)")]
    VatUnderFranchise { line: usize, rate_bps: u32 },
    #[error("total {field} is {given} but the lines give {expected}")]
    TotalMismatch {
        field: &'static str,
        expected: i64,
        given: i64,
    },
    #[error("the document is marked paid but {amount_due} is still due")]
    PaidWithAmountDue { amount_due: i64 },
    #[error("the amount paid must not be negative (got {0})")]
    NegativeAmountPaid(i64),
    #[error("the seller charges VAT, so its VAT number must be given")]
    MissingSellerVatNumber,
    #[error("the service period ends ({end}) before it starts ({start})")]
    InvalidServicePeriod {
        start: chrono::NaiveDate,
        end: chrono::NaiveDate,
    },
    #[error("amounts overflow")]
    Overflow,
    #[error("the PDF could not be written: {0}")]
    Pdf(String),
}
