//! A credit note is issued once, like an invoice (see `issue`): its PDF/A-3 with Factur-X
//! XML of type 381 and its UBL `CreditNote` are rendered from the event log
//! (`credit_source`), stored in `credit_note_documents` (first write wins, never rewritten),
//! and the PDF's SHA-256 recorded on the invoice (`CreditNoteDocumentIssued`). Every download
//! serves the stored bytes.

use aggregates::invoice::{InvoiceCommand, RecordDocument};
use chrono::Utc;
use projections::CreditNoteRow;

use super::credit_source::credit_note_document;
use super::issue::rendered;
use super::{InvoiceService, IssuedDocument};
use crate::error::AppError;
use crate::usecases::common::command_metadata;

impl InvoiceService {
    /// The legal document of the customer's credit note (by id or number; 404 for anyone
    /// else's).
    pub async fn credit_note_file(
        &self,
        customer_id: &str,
        id_or_number: &str,
    ) -> Result<(CreditNoteRow, IssuedDocument), AppError> {
        let note = self.owned_credit_note(customer_id, id_or_number).await?;
        if let (Some(recorded), Some(stored)) = (
            note.document_sha256.as_deref(),
            self.stored_credit_note(&note.credit_note_id).await?,
        ) {
            if stored.sha256 == recorded {
                return Ok((note, stored));
            }
        }
        let document = self
            .issue_credit_note(&note.invoice_id, &note.credit_note_id)
            .await?;
        Ok((note, document))
    }

    /// The stored document of a credit note, issuing it first if it was not yet.
    pub async fn issue_credit_note(
        &self,
        invoice_id: &str,
        credit_note_id: &str,
    ) -> Result<IssuedDocument, AppError> {
        let document = match self.stored_credit_note(credit_note_id).await? {
            Some(document) => document,
            None => {
                self.render_and_store_credit_note(invoice_id, credit_note_id)
                    .await?
            }
        };
        let recorded = self.commands.load(invoice_id).await?;
        if recorded.credit_note_document_sha256(credit_note_id) != Some(document.sha256.as_str()) {
            let command = InvoiceCommand::RecordCreditNoteDocument {
                credit_note_id: credit_note_id.to_owned(),
                document: RecordDocument {
                    sha256: document.sha256.clone(),
                    at: Utc::now(),
                },
            };
            self.commands
                .execute(invoice_id, command, command_metadata(None))
                .await?;
        }
        Ok(document)
    }

    async fn stored_credit_note(
        &self,
        credit_note_id: &str,
    ) -> Result<Option<IssuedDocument>, AppError> {
        Ok(sqlx::query_as(
            "SELECT sha256, pdf, facturx_xml, ubl_xml FROM credit_note_documents
              WHERE credit_note_id = ?",
        )
        .bind(credit_note_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn render_and_store_credit_note(
        &self,
        invoice_id: &str,
        credit_note_id: &str,
    ) -> Result<IssuedDocument, AppError> {
        let source = credit_note_document(
            &self.pool,
            invoice_id,
            credit_note_id,
            &self.seller,
            self.language,
        )
        .await?
        .ok_or(AppError::NotFound)?;
        let document = rendered(&source, "credit note")?;
        self.store_once(
            "INSERT INTO credit_note_documents
               (credit_note_id, sha256, pdf, facturx_xml, ubl_xml, issued_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (credit_note_id) DO NOTHING",
            credit_note_id,
            &document,
        )
        .await?;
        self.stored_credit_note(credit_note_id)
            .await?
            .ok_or_else(|| {
                AppError::InvalidState("the credit note's document was not stored".into())
            })
    }
}
