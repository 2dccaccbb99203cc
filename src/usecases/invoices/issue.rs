//! An invoice is issued once. Its legal document — the PDF/A-3 with the Factur-X XML
//! embedded, and the same invoice as CII and UBL XML — is rendered from the event log (see
//! `legal_source`), stored in `invoice_documents` (first write wins, never rewritten), and its
//! SHA-256 recorded on the invoice (`InvoiceDocumentIssued`). Every download, the portal's,
//! the e-mail's attachment and the XML endpoints serve the stored bytes.
//!
//! Issuance runs right after a finalization is recorded, on the first download, and from the
//! issuing loop (`issue_pending`) which finds finalized invoices not yet recorded: whichever
//! comes first stores the document; the others read it. A crash after storing and before
//! recording is resumed from the stored bytes, never by rendering again; a replay of the log
//! rebuilds read models only and never touches the stored documents.

use std::collections::HashSet;

use aggregates::invoice::{InvoiceCommand, RecordDocument};
use chrono::{SecondsFormat, Utc};
use invoice_documents::{facturx_cii, render_pdf, ubl, InvoiceDocument};
use sha2::{Digest, Sha256};

use super::legal_source::legal_document;
use super::InvoiceService;
use crate::error::AppError;
use crate::usecases::common::command_metadata;

/// The stored legal document of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IssuedDocument {
    /// Hex SHA-256 of `pdf`.
    pub sha256: String,
    pub pdf: Vec<u8>,
    pub facturx_xml: String,
    pub ubl_xml: String,
}

/// How many finalized invoices without a recorded document one pass of the loop issues.
const PENDING_BATCH: usize = 20;

impl InvoiceService {
    /// The legal document of the customer's invoice (404 for anyone else's, 409 for a draft).
    pub async fn document(
        &self,
        customer_id: &str,
        invoice_id: &str,
    ) -> Result<IssuedDocument, AppError> {
        let row = self.owned(customer_id, invoice_id).await?;
        // The common case, once issued and recorded: the stored bytes, with no aggregate load.
        if let (Some(recorded), Some(stored)) = (
            row.document_sha256.as_deref(),
            self.stored(invoice_id).await?,
        ) {
            if stored.sha256 == recorded {
                return Ok(stored);
            }
        }
        self.issue(invoice_id).await
    }

    /// The customer's invoice as its legal PDF.
    pub async fn pdf(&self, customer_id: &str, invoice_id: &str) -> Result<Vec<u8>, AppError> {
        Ok(self.document(customer_id, invoice_id).await?.pdf)
    }

    /// The stored document of invoice `invoice_id`, issuing it first if it was not yet.
    pub async fn issue(&self, invoice_id: &str) -> Result<IssuedDocument, AppError> {
        let document = match self.stored(invoice_id).await? {
            Some(document) => document,
            None => self.render_and_store(invoice_id).await?,
        };
        let recorded = self.commands.load(invoice_id).await?;
        if recorded.document_sha256() != Some(document.sha256.as_str()) {
            let command = InvoiceCommand::RecordDocument(RecordDocument {
                sha256: document.sha256.clone(),
                at: Utc::now(),
            });
            self.commands
                .execute(invoice_id, command, command_metadata(None))
                .await?;
        }
        Ok(document)
    }

    /// Issues the documents of finalized invoices not yet recorded (after a crash, or for an
    /// invoice finalized by a webhook), except those in `skip`; returns how many were issued
    /// and the ids of those that could not be (logged once here, for the caller to skip).
    pub async fn issue_pending(
        &self,
        skip: &HashSet<String>,
    ) -> Result<(usize, Vec<String>), AppError> {
        let pending: Vec<String> = sqlx::query_scalar(
            "SELECT invoice_id FROM invoices
              WHERE number IS NOT NULL AND document_sha256 IS NULL
              ORDER BY created_position",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut issued = 0;
        let mut failed = Vec::new();
        for invoice_id in pending
            .into_iter()
            .filter(|id| !skip.contains(id))
            .take(PENDING_BATCH)
        {
            match self.issue(&invoice_id).await {
                Ok(_) => issued += 1,
                Err(error) => {
                    tracing::warn!(%invoice_id, %error, "the invoice's document could not be issued");
                    failed.push(invoice_id);
                }
            }
        }
        Ok((issued, failed))
    }

    async fn stored(&self, invoice_id: &str) -> Result<Option<IssuedDocument>, AppError> {
        Ok(sqlx::query_as(
            "SELECT sha256, pdf, facturx_xml, ubl_xml FROM invoice_documents WHERE invoice_id = ?",
        )
        .bind(invoice_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Renders the document and stores it unless another issuer stored it first; returns
    /// what is stored.
    async fn render_and_store(&self, invoice_id: &str) -> Result<IssuedDocument, AppError> {
        let source = legal_document(&self.pool, invoice_id, &self.seller, self.language)
            .await?
            .ok_or_else(|| {
                AppError::InvalidState(
                    "this invoice is a draft: its document is issued when it is finalized".into(),
                )
            })?;
        let document = rendered(&source, "invoice")?;
        self.store_once(
            "INSERT INTO invoice_documents
               (invoice_id, sha256, pdf, facturx_xml, ubl_xml, issued_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (invoice_id) DO NOTHING",
            invoice_id,
            &document,
        )
        .await?;
        self.stored(invoice_id)
            .await?
            .ok_or_else(|| AppError::InvalidState("the invoice's document was not stored".into()))
    }
}

/// The PDF/A-3 (with its Factur-X XML), the CII alone and the UBL of `source`, a `what`
/// (invoice, credit note) named in the error should it not be issuable.
pub(super) fn rendered(source: &InvoiceDocument, what: &str) -> Result<IssuedDocument, AppError> {
    let unissuable = |error: invoice_documents::DocumentError| {
        AppError::InvalidState(format!("this {what}'s document cannot be issued: {error}"))
    };
    let pdf = render_pdf(source).map_err(unissuable)?;
    Ok(IssuedDocument {
        sha256: hex::encode(Sha256::digest(&pdf)),
        facturx_xml: facturx_cii(source).map_err(unissuable)?,
        ubl_xml: ubl(source).map_err(unissuable)?,
        pdf,
    })
}

impl InvoiceService {
    /// Stores `document` under `id` with `insert` (whose `ON CONFLICT DO NOTHING` keeps the
    /// first document stored), at this process's turn at the write lock.
    pub(super) async fn store_once(
        &self,
        insert: &str,
        id: &str,
        document: &IssuedDocument,
    ) -> Result<(), AppError> {
        let _turn = self.gate.turn().await;
        sqlx::query(insert)
            .bind(id)
            .bind(&document.sha256)
            .bind(&document.pdf)
            .bind(&document.facturx_xml)
            .bind(&document.ubl_xml)
            .bind(Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
