//! Credit notes (*avoirs*) on a customer's finalized invoice, issued by whoever may void it:
//! validated here, decided by the Invoice aggregate (never more than the invoice), numbered
//! `AV-year-sequence` gapless (`numbering`), their legal document issued once like the
//! invoice's, and the money moved at the provider (`credit_at_provider`). The note is the
//! legal fact and is recorded first; should the provider fail, a retry with the same
//! Idempotency-Key asks it again.

use aggregates::invoice::lines::{MAX_LINES, MAX_QUANTITY};
use aggregates::invoice::{
    CreditScope, CreditedQuantity, InvoiceAction, InvoiceCommand, InvoiceError, IssueCreditNote,
};
use aggregates::ValidationError;
use chrono::Utc;
use projections::{CreditNoteRow, CreditNotes, Invoices};
use uuid::Uuid;

use super::numbering::{credit_with_next_number, NumberingError};
use super::InvoiceService;
use crate::error::AppError;
use crate::provider::NewCreditNote;
use crate::usecases::common::command_metadata;
use crate::usecases::common::idempotency::{provider_key, DerivedId, Subject};

/// Longest reason, in characters.
const MAX_REASON_CHARS: usize = 500;

/// A quantity of one invoice line to credit, before validation.
#[derive(Debug, Clone)]
pub struct RequestedCredit {
    /// The line's index on the invoice, from 0.
    pub line: i64,
    pub quantity: i64,
}

/// A credit note request, as the API received it.
#[derive(Debug, Clone)]
pub struct CreditNoteRequest {
    /// `None` credits everything not credited yet.
    pub lines: Option<Vec<RequestedCredit>>,
    pub reason: String,
    pub idempotency_key: Option<String>,
}

fn validate(request: &CreditNoteRequest) -> Result<(CreditScope, String), ValidationError> {
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(ValidationError::new(
            "reason",
            format!("must be 1 to {MAX_REASON_CHARS} characters"),
        ));
    }
    let Some(lines) = &request.lines else {
        return Ok((CreditScope::Full, reason.to_owned()));
    };
    if lines.is_empty() || lines.len() > MAX_LINES {
        return Err(ValidationError::new(
            "lines",
            format!("must name 1 to {MAX_LINES} lines, or be left out to credit the whole invoice"),
        ));
    }
    let mut credited = Vec::with_capacity(lines.len());
    for (index, requested) in lines.iter().enumerate() {
        let line = usize::try_from(requested.line)
            .ok()
            .filter(|line| *line < MAX_LINES)
            .ok_or_else(|| {
                ValidationError::new(
                    format!("lines[{index}].line"),
                    "must be the index of a line of the invoice, from 0",
                )
            })?;
        if !(1..=MAX_QUANTITY).contains(&requested.quantity) {
            return Err(ValidationError::new(
                format!("lines[{index}].quantity"),
                format!("must be an integer from 1 to {MAX_QUANTITY}"),
            ));
        }
        credited.push(CreditedQuantity {
            line,
            quantity: requested.quantity,
        });
    }
    Ok((CreditScope::Lines(credited), reason.to_owned()))
}

impl InvoiceService {
    /// Issues a credit note on the customer's finalized invoice. With an Idempotency-Key, a
    /// retry returns the same note.
    pub async fn credit(
        &self,
        customer_id: &str,
        invoice_id: &str,
        request: CreditNoteRequest,
        request_id: Option<&str>,
    ) -> Result<CreditNoteRow, AppError> {
        let (scope, reason) = validate(&request)?;
        self.owned(customer_id, invoice_id).await?;
        let credit_note_id = match request.idempotency_key.as_deref() {
            Some(key) => DerivedId::CreditNoteFromClientKey.of(&format!("{invoice_id}/{key}")),
            None => Uuid::new_v4().to_string(),
        };
        if let Some(existing) = self.credit_note_row(invoice_id, &credit_note_id).await? {
            // A retry: the provider is asked again (idempotently) in case the first failed.
            self.credit_at_provider(&existing).await?;
            return Ok(existing);
        }
        self.commands
            .load(invoice_id)
            .await?
            .check(InvoiceAction::Credit)?;
        let at = Utc::now();
        let issued = credit_with_next_number(
            self.commands.cqrs(),
            &self.pool,
            invoice_id,
            at,
            |number| {
                InvoiceCommand::IssueCreditNote(IssueCreditNote {
                    credit_note_id: credit_note_id.clone(),
                    number,
                    scope: scope.clone(),
                    reason: reason.clone(),
                    at,
                })
            },
            command_metadata(request_id),
        )
        .await;
        match issued {
            // A retry with the same Idempotency-Key that raced the first: the note exists.
            Ok(_) | Err(NumberingError::Invoice(InvoiceError::CreditNoteExists)) => {}
            Err(other) => return Err(other.into()),
        }
        self.commands.catch_up().await;
        if let Err(error) = self.issue_credit_note(invoice_id, &credit_note_id).await {
            tracing::warn!(%invoice_id, %credit_note_id, %error, "the credit note's document could not be issued yet");
        }
        let row = self
            .credit_note_row(invoice_id, &credit_note_id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.credit_at_provider(&row).await?;
        Ok(row)
    }

    /// Records the note at the provider, under a key of its own so a retry does it once:
    /// the amount due falls there too, or the paid amount is refunded.
    async fn credit_at_provider(&self, note: &CreditNoteRow) -> Result<(), AppError> {
        let invoice = Invoices::find(&self.pool, &note.invoice_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let Some(stripe_invoice_id) = invoice.stripe_invoice_id else {
            return Ok(());
        };
        let credit = NewCreditNote {
            credit_note_id: note.credit_note_id.clone(),
            number: note.number.clone(),
            amount: note.total,
            refund: note.outcome == "refund",
        };
        let key = provider_key(Subject::Invoice, &note.credit_note_id, "credit");
        self.provider
            .credit_invoice(&stripe_invoice_id, &credit, &key)
            .await?;
        Ok(())
    }

    /// The credit notes of the customer's invoice, oldest first.
    pub async fn credit_notes(
        &self,
        customer_id: &str,
        invoice_id: &str,
    ) -> Result<Vec<CreditNoteRow>, AppError> {
        self.owned(customer_id, invoice_id).await?;
        Ok(CreditNotes::of_invoice(&self.pool, invoice_id).await?)
    }

    /// The customer's credit note, by id or number (404 for anyone else's).
    pub async fn owned_credit_note(
        &self,
        customer_id: &str,
        id_or_number: &str,
    ) -> Result<CreditNoteRow, AppError> {
        CreditNotes::find(&self.pool, id_or_number)
            .await?
            .filter(|note| note.customer_id == customer_id)
            .ok_or(AppError::NotFound)
    }

    async fn credit_note_row(
        &self,
        invoice_id: &str,
        credit_note_id: &str,
    ) -> Result<Option<CreditNoteRow>, AppError> {
        Ok(CreditNotes::find(&self.pool, credit_note_id)
            .await?
            .filter(|note| note.invoice_id == invoice_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(lines: Option<Vec<(i64, i64)>>, reason: &str) -> CreditNoteRequest {
        CreditNoteRequest {
            lines: lines.map(|lines| {
                lines
                    .into_iter()
                    .map(|(line, quantity)| RequestedCredit { line, quantity })
                    .collect()
            }),
            reason: reason.into(),
            idempotency_key: None,
        }
    }

    fn field_of(request: CreditNoteRequest) -> String {
        validate(&request).unwrap_err().field
    }

    #[test]
    fn no_lines_credits_the_whole_invoice() {
        let (scope, reason) = validate(&request(None, "  Remise commerciale ")).unwrap();
        assert_eq!(scope, CreditScope::Full);
        assert_eq!(reason, "Remise commerciale");
    }

    #[test]
    fn a_reason_lines_and_quantities_are_checked() {
        assert_eq!(field_of(request(None, "  ")), "reason");
        assert_eq!(field_of(request(Some(vec![]), "Erreur")), "lines");
        assert_eq!(
            field_of(request(Some(vec![(-1, 1)]), "Erreur")),
            "lines[0].line"
        );
        assert_eq!(
            field_of(request(Some(vec![(0, 1), (1, 0)]), "Erreur")),
            "lines[1].quantity"
        );
    }
}
