//! A payment as a page of history shows it, borrowed from the row being read (the API writes
//! each row's JSON as it is read, with no owned copy of a column in between).

use crate::payments::PaymentRow;

/// A payment as a page of history shows it, borrowed from the row being read: the page is
/// written out row by row, without an owned copy of each column in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentListed<'r> {
    pub payment_id: &'r str,
    pub payment_intent_id: &'r str,
    pub amount: i64,
    pub currency: &'r str,
    pub status: &'r str,
    pub description: Option<&'r str>,
    pub failure_code: Option<&'r str>,
    pub failure_message: Option<&'r str>,
    pub refunded_amount: i64,
    /// JSON text of the provider's next action, while one is required.
    pub next_action: Option<&'r str>,
    /// JSON object text.
    pub metadata: &'r str,
    pub created_position: i64,
    pub created_at: &'r str,
    pub updated_at: &'r str,
}

impl<'r> PaymentListed<'r> {
    /// Its columns in the order `from_direct` reads them.
    pub(crate) const COLUMNS: &'static str =
        "payment_id, payment_intent_id, amount, currency, status, \
        description, failure_code, failure_message, refunded_amount, next_action, metadata, \
        created_position, created_at, updated_at";

    /// A row of `SELECT {COLUMNS}`, by index.
    pub(crate) fn from_direct(row: &'r rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            payment_id: text(row, 0)?,
            payment_intent_id: text(row, 1)?,
            amount: row.get(2)?,
            currency: text(row, 3)?,
            status: text(row, 4)?,
            description: optional_text(row, 5)?,
            failure_code: optional_text(row, 6)?,
            failure_message: optional_text(row, 7)?,
            refunded_amount: row.get(8)?,
            next_action: optional_text(row, 9)?,
            metadata: text(row, 10)?,
            created_position: row.get(11)?,
            created_at: text(row, 12)?,
            updated_at: text(row, 13)?,
        })
    }
}

/// The text in column `index`, borrowed from the row.
fn text<'r>(row: &'r rusqlite::Row<'_>, index: usize) -> rusqlite::Result<&'r str> {
    optional_text(row, index)?.ok_or(rusqlite::Error::InvalidColumnType(
        index,
        "text".into(),
        rusqlite::types::Type::Null,
    ))
}

/// The text or NULL in column `index`, borrowed from the row.
fn optional_text<'r>(
    row: &'r rusqlite::Row<'_>,
    index: usize,
) -> rusqlite::Result<Option<&'r str>> {
    let value = row.get_ref(index)?;
    value.as_str_or_null().map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(index, value.data_type(), Box::new(error))
    })
}

impl PaymentRow {
    /// The columns a page of history shows, borrowed.
    pub fn listed(&self) -> PaymentListed<'_> {
        PaymentListed {
            payment_id: &self.payment_id,
            payment_intent_id: &self.payment_intent_id,
            amount: self.amount,
            currency: &self.currency,
            status: &self.status,
            description: self.description.as_deref(),
            failure_code: self.failure_code.as_deref(),
            failure_message: self.failure_message.as_deref(),
            refunded_amount: self.refunded_amount,
            next_action: self.next_action.as_deref(),
            metadata: &self.metadata,
            created_position: self.created_position,
            created_at: &self.created_at,
            updated_at: &self.updated_at,
        }
    }
}
