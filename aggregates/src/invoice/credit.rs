//! Credit notes (*avoirs*): the only way to correct a finalized invoice, since French law
//! forbids voiding it. A note credits the whole invoice or some quantity of its lines; what
//! all notes credit together never exceeds the invoice, line by line and in total, and a
//! line credited in full credits exactly its amounts (the last part takes what rounding left).
//!
//! On an invoice still owed (open or written off) a note reduces the amount due, and one that
//! credits everything cancels the invoice; on a paid invoice the credited amount goes back to
//! the customer (a refund through the provider).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::commands::RecordDocument;
use super::lines::{InvoiceLine, InvoiceTotals, MAX_TAX_RATE_BPS};
use super::{Invoice, InvoiceAction, InvoiceError, InvoiceEvent, InvoiceStatus};

/// A credit note number: `AV-2026-000001`, its own gapless sequence per year (claimed in
/// the appending transaction by the `credit_note_numbers_claim` trigger).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditNoteNumber {
    pub text: String,
    pub year: i32,
    pub sequence: i64,
}

impl CreditNoteNumber {
    /// Credit note number `sequence` of `year`.
    pub fn sequential(year: i32, sequence: i64) -> Self {
        Self {
            text: format!("AV-{year}-{sequence:06}"),
            year,
            sequence,
        }
    }
}

/// What a note credits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditScope {
    /// Everything not credited yet.
    Full,
    /// A quantity of some lines (each line at most once per note).
    Lines(Vec<CreditedQuantity>),
}

/// A quantity of line `line` (its index on the invoice, from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditedQuantity {
    pub line: usize,
    pub quantity: i64,
}

/// Issues a credit note with the number proposed for it.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueCreditNote {
    /// The note's own id (its documents are stored under it).
    pub credit_note_id: String,
    pub number: CreditNoteNumber,
    pub scope: CreditScope,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// One credited line: the invoice line's description, unit price and rate, the credited
/// quantity and the credited amounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditNoteLine {
    /// Index of the credited line on the invoice.
    pub line: usize,
    pub description: String,
    pub quantity: i64,
    pub unit_amount: i64,
    pub tax_rate_bps: i64,
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
}

/// What a credit note does to the money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreditOutcome {
    /// The amount due of an invoice still owed is reduced.
    ReducesAmountDue,
    /// Everything still owed was credited: the invoice is cancelled.
    CancelsInvoice,
    /// The invoice was paid: the credited amount is refunded.
    Refund,
}

/// What the notes issued so far credited, per invoice line and in total.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credited {
    /// Quantity, subtotal and tax credited of each line, by index.
    pub lines: Vec<(i64, i64, i64)>,
    pub totals: InvoiceTotals,
    pub notes: u32,
}

impl Credited {
    /// Adds a note's lines and totals.
    pub fn add(&mut self, lines: &[CreditNoteLine], totals: InvoiceTotals) {
        for credited in lines {
            if self.lines.len() <= credited.line {
                self.lines.resize(credited.line + 1, (0, 0, 0));
            }
            let entry = &mut self.lines[credited.line];
            *entry = (
                entry.0 + credited.quantity,
                entry.1 + credited.subtotal,
                entry.2 + credited.tax,
            );
        }
        self.totals = InvoiceTotals {
            subtotal: self.totals.subtotal + totals.subtotal,
            tax: self.totals.tax + totals.tax,
            total: self.totals.total + totals.total,
        };
        self.notes += 1;
    }

    fn of_line(&self, index: usize) -> (i64, i64, i64) {
        self.lines.get(index).copied().unwrap_or((0, 0, 0))
    }
}

/// The lines and totals a note of `scope` credits on an invoice with `lines` and `totals`,
/// of which `credited` was credited before.
pub fn credit_lines(
    lines: &[InvoiceLine],
    totals: InvoiceTotals,
    credited: &Credited,
    scope: &CreditScope,
) -> Result<(Vec<CreditNoteLine>, InvoiceTotals), InvoiceError> {
    let requested: Vec<CreditedQuantity> = match scope {
        CreditScope::Full => (0..lines.len())
            .map(|line| CreditedQuantity {
                line,
                quantity: lines[line].quantity - credited.of_line(line).0,
            })
            .filter(|credit| credit.quantity > 0)
            .collect(),
        CreditScope::Lines(requested) => requested.clone(),
    };
    let mut seen = vec![false; lines.len()];
    let mut out = Vec::with_capacity(requested.len());
    for credit in requested {
        let Some(line) = lines.get(credit.line) else {
            return Err(InvoiceError::NoSuchLine(credit.line));
        };
        if std::mem::replace(&mut seen[credit.line], true) {
            return Err(InvoiceError::LineTwice(credit.line));
        }
        let (quantity_before, subtotal_before, tax_before) = credited.of_line(credit.line);
        let amounts = line.amounts();
        let remaining = line.quantity - quantity_before;
        if credit.quantity < 1 || credit.quantity > remaining {
            return Err(InvoiceError::QuantityOverCredited {
                line: credit.line,
                remaining,
            });
        }
        let (subtotal, tax) = if credit.quantity == remaining {
            // The rest of the line: exactly what the invoice charged, whatever rounding did.
            (amounts.subtotal - subtotal_before, amounts.tax - tax_before)
        } else {
            let subtotal = credit.quantity * line.unit_amount;
            let tax = (subtotal * line.tax_rate_bps + MAX_TAX_RATE_BPS / 2) / MAX_TAX_RATE_BPS;
            (subtotal, tax.min(amounts.tax - tax_before))
        };
        out.push(CreditNoteLine {
            line: credit.line,
            description: line.description.clone(),
            quantity: credit.quantity,
            unit_amount: line.unit_amount,
            tax_rate_bps: line.tax_rate_bps,
            subtotal,
            tax,
            total: subtotal + tax,
        });
    }
    if out.is_empty() {
        return Err(InvoiceError::NothingToCredit);
    }
    let sum = sum(&out);
    let left = totals.total - credited.totals.total;
    if sum.total > left {
        return Err(InvoiceError::OverCredited {
            requested: sum.total,
            left,
        });
    }
    Ok((out, sum))
}

/// The totals of credited `lines`.
pub fn sum(lines: &[CreditNoteLine]) -> InvoiceTotals {
    lines
        .iter()
        .fold(InvoiceTotals::default(), |sum, line| InvoiceTotals {
            subtotal: sum.subtotal + line.subtotal,
            tax: sum.tax + line.tax,
            total: sum.total + line.total,
        })
}

/// What a note crediting `credited_now` does to an invoice in `status` of which `left` was
/// still creditable before it.
pub fn outcome(status: InvoiceStatus, credited_now: i64, left: i64) -> CreditOutcome {
    match status {
        InvoiceStatus::Paid => CreditOutcome::Refund,
        _ if credited_now == left => CreditOutcome::CancelsInvoice,
        _ => CreditOutcome::ReducesAmountDue,
    }
}

/// The Invoice aggregate's decisions about credit notes.
impl Invoice {
    /// A credit note on a finalized invoice, within what is left to credit; one that credits
    /// everything still owed cancels the invoice.
    pub(super) fn issue_credit_note(
        &self,
        issue: IssueCreditNote,
    ) -> Result<Vec<InvoiceEvent>, InvoiceError> {
        self.check(InvoiceAction::Credit)?;
        if self.credit_note_ids.contains(&issue.credit_note_id) {
            return Err(InvoiceError::CreditNoteExists);
        }
        let (lines, totals) = credit_lines(&self.lines, self.totals, &self.credited, &issue.scope)?;
        let left = self.total - self.credited.totals.total;
        let outcome = self::outcome(self.status, totals.total, left);
        let mut events = vec![InvoiceEvent::CreditNoteIssued {
            credit_note_id: issue.credit_note_id,
            number: issue.number.text,
            year: issue.number.year,
            sequence: issue.number.sequence,
            lines,
            totals,
            reason: issue.reason,
            outcome,
            at: issue.at,
        }];
        if outcome == CreditOutcome::CancelsInvoice {
            events.push(InvoiceEvent::InvoiceVoided { at: issue.at });
        }
        Ok(events)
    }

    /// A credit note's document is issued once, like the invoice's.
    pub(super) fn record_credit_note_document(
        &self,
        credit_note_id: String,
        record: RecordDocument,
    ) -> Result<Vec<InvoiceEvent>, InvoiceError> {
        if !self.credit_note_ids.contains(&credit_note_id) {
            return Err(InvoiceError::NoSuchCreditNote);
        }
        match self.credit_note_document_sha256(&credit_note_id) {
            Some(issued) if issued == record.sha256 => Ok(vec![]),
            Some(_) => Err(InvoiceError::DocumentAlreadyIssued),
            None => Ok(vec![InvoiceEvent::CreditNoteDocumentIssued {
                credit_note_id,
                sha256: record.sha256,
                at: record.at,
            }]),
        }
    }

    /// The SHA-256 of credit note `credit_note_id`'s issued document, once issued.
    pub fn credit_note_document_sha256(&self, credit_note_id: &str) -> Option<&str> {
        self.credit_note_documents
            .iter()
            .find(|(id, _)| id == credit_note_id)
            .map(|(_, sha256)| sha256.as_str())
    }
}
