//! An invoice: draft → open (finalized, numbered) → paid, void or uncollectible. A draft may
//! be voided; a finalized invoice is corrected by credit notes (`credit`).

mod commands;
pub mod credit;
mod error;
mod events;
pub mod lines;

#[cfg(test)]
mod credit_tests;
#[cfg(test)]
mod tests;

pub use commands::{
    CollectionMethod, CreateInvoice, FinalizeInvoice, InvoiceCommand, InvoiceNumber,
    InvoiceProviderState, PaymentFailure, RecordDocument, RecordInvoicePayment,
};
pub use credit::{
    CreditNoteLine, CreditNoteNumber, CreditOutcome, CreditScope, CreditedQuantity, IssueCreditNote,
};
pub use error::InvoiceError;
pub use events::InvoiceEvent;
pub use lines::{InvoiceLine, InvoiceTotals};

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

/// Where an invoice stands, as Stripe names it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    #[default]
    Draft,
    Open,
    Paid,
    Void,
    Uncollectible,
}

impl InvoiceStatus {
    /// Parses Stripe's spelling.
    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "draft" => Self::Draft,
            "open" => Self::Open,
            "paid" => Self::Paid,
            "void" => Self::Void,
            "uncollectible" => Self::Uncollectible,
            _ => return None,
        })
    }

    /// Stripe's spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::Paid => "paid",
            Self::Void => "void",
            Self::Uncollectible => "uncollectible",
        }
    }

    /// Only a draft is finalized (numbered and opened).
    pub fn can_finalize(self) -> bool {
        self == Self::Draft
    }

    /// Only a draft may be voided: French law corrects a finalized invoice with a credit
    /// note (the provider's own reports of a void are still recorded, see `converge`).
    pub fn can_void(self) -> bool {
        self == Self::Draft
    }

    /// A finalized invoice not voided may be credited.
    pub fn can_credit(self) -> bool {
        matches!(self, Self::Open | Self::Paid | Self::Uncollectible)
    }

    /// Only an open invoice is sent or written off.
    pub fn can_send(self) -> bool {
        self == Self::Open
    }

    /// A draft (finalized on the way), an open or a written-off invoice may be paid.
    pub fn can_pay(self) -> bool {
        matches!(self, Self::Draft | Self::Open | Self::Uncollectible)
    }

    /// True while money is owed on it (a payment may be recorded).
    pub fn is_collectible(self) -> bool {
        matches!(self, Self::Open | Self::Uncollectible)
    }

    /// What remains to pay on an invoice of `total` of which `paid` was paid and `credited`
    /// credited: nothing once paid or voided.
    pub fn amount_due(self, total: i64, paid: i64, credited: i64) -> i64 {
        match self {
            Self::Paid | Self::Void => 0,
            _ => (total - paid - credited).max(0),
        }
    }
}

/// What a customer may ask of an invoice at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceAction {
    Finalize,
    Void,
    Send,
    Pay,
    Credit,
}

/// An invoice's state, rebuilt from its events.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    created: bool,
    status: InvoiceStatus,
    total: i64,
    /// Failed collection attempts recorded so far.
    attempt_count: u32,
    /// SHA-256 of the issued document, once issued.
    #[serde(default)]
    document_sha256: Option<String>,
    /// The lines and totals as created (what credit notes may credit).
    #[serde(default)]
    lines: Vec<InvoiceLine>,
    #[serde(default)]
    totals: InvoiceTotals,
    /// What credit notes credited so far, and their ids.
    #[serde(default)]
    credited: credit::Credited,
    #[serde(default)]
    credit_note_ids: Vec<String>,
    /// (credit note id, SHA-256) of each credit note's issued document.
    #[serde(default)]
    credit_note_documents: Vec<(String, String)>,
}

impl Aggregate for Invoice {
    const TYPE: &'static str = "Invoice";
    type Command = InvoiceCommand;
    type Event = InvoiceEvent;
    type Error = InvoiceError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let events = self.decide(command)?;
        crate::emit(self, sink, events).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            InvoiceEvent::InvoiceCreated { totals, lines, .. } => {
                self.created = true;
                self.total = totals.total;
                self.totals = totals;
                self.lines = lines;
            }
            InvoiceEvent::CreditNoteIssued {
                credit_note_id,
                lines,
                totals,
                ..
            } => {
                self.credited.add(&lines, totals);
                self.credit_note_ids.push(credit_note_id);
            }
            InvoiceEvent::CreditNoteDocumentIssued {
                credit_note_id,
                sha256,
                ..
            } => self.credit_note_documents.push((credit_note_id, sha256)),
            InvoiceEvent::InvoiceFinalized { .. } => self.status = InvoiceStatus::Open,
            InvoiceEvent::InvoicePaid { .. } => self.status = InvoiceStatus::Paid,
            InvoiceEvent::InvoiceVoided { .. } => self.status = InvoiceStatus::Void,
            InvoiceEvent::InvoiceMarkedUncollectible { .. } => {
                self.status = InvoiceStatus::Uncollectible;
            }
            InvoiceEvent::InvoiceSent { .. } => {}
            InvoiceEvent::InvoiceDocumentIssued { sha256, .. } => {
                self.document_sha256 = Some(sha256);
            }
            InvoiceEvent::InvoicePaymentFailed { failure, .. } => {
                self.attempt_count = failure.attempt_count;
            }
        }
    }
}

impl Invoice {
    fn decide(&self, command: InvoiceCommand) -> Result<Vec<InvoiceEvent>, InvoiceError> {
        if let InvoiceCommand::Create(create) = command {
            if self.created {
                return Err(InvoiceError::AlreadyCreated);
            }
            let totals = create
                .provider_totals
                .unwrap_or_else(|| lines::totals(&create.lines));
            return Ok(vec![InvoiceEvent::InvoiceCreated {
                customer_id: create.customer_id,
                currency: create.currency.code().to_owned(),
                lines: create.lines,
                totals,
                memo: create.memo,
                due_days: create.due_days,
                collection_method: create.collection_method,
                created_at: create.created_at,
                stripe_invoice_id: create.stripe_invoice_id,
                stripe_subscription_id: create.stripe_subscription_id,
            }]);
        }
        if !self.created {
            return Err(InvoiceError::NotCreated);
        }
        let status = self.status;
        let must_be_open = || self.check(InvoiceAction::Send);
        match command {
            InvoiceCommand::Create(_) => unreachable!("handled above"),
            InvoiceCommand::Finalize(finalize) => {
                self.check(InvoiceAction::Finalize)?;
                Ok(vec![InvoiceEvent::InvoiceFinalized {
                    number: finalize.number.text,
                    year: finalize.number.year,
                    sequence: finalize.number.sequence,
                    due_date: finalize.due_date,
                    at: finalize.finalized_at,
                    hosted_invoice_url: None,
                    pdf_url: None,
                }])
            }
            InvoiceCommand::RecordPayment(payment) => {
                // An uncollectible invoice may still be paid, as in Stripe.
                if !status.is_collectible() {
                    return Err(InvoiceError::NotOpen(status.as_str()));
                }
                let due = self.total - self.credited.totals.total;
                if payment.amount != due {
                    return Err(InvoiceError::WrongAmount {
                        paid: payment.amount,
                        due,
                    });
                }
                Ok(vec![InvoiceEvent::InvoicePaid {
                    amount: payment.amount,
                    reference: payment.reference,
                    at: payment.paid_at,
                }])
            }
            InvoiceCommand::Void { at } => {
                self.check(InvoiceAction::Void)?;
                Ok(vec![InvoiceEvent::InvoiceVoided { at }])
            }
            InvoiceCommand::MarkUncollectible { at } => {
                must_be_open()?;
                Ok(vec![InvoiceEvent::InvoiceMarkedUncollectible { at }])
            }
            InvoiceCommand::Send { at } => {
                must_be_open()?;
                Ok(vec![InvoiceEvent::InvoiceSent { at }])
            }
            InvoiceCommand::ApplyProviderState(state) => Ok(self.converge(state)),
            InvoiceCommand::RecordDocument(record) => self.record_document(record),
            InvoiceCommand::IssueCreditNote(issue) => self.issue_credit_note(issue),
            InvoiceCommand::RecordCreditNoteDocument {
                credit_note_id,
                document,
            } => self.record_credit_note_document(credit_note_id, document),
        }
    }

    /// The events that bring this invoice forward to the provider's state: finalization
    /// first when the provider is past draft, then payment, void or write-off, then a failed
    /// attempt. Nothing moves backwards.
    fn converge(&self, state: InvoiceProviderState) -> Vec<InvoiceEvent> {
        use InvoiceStatus::*;
        let mut events = Vec::new();
        let mut status = self.status;
        if state.status == Void && status == Draft {
            // A draft voided at the provider was never numbered: it is not finalized first.
            return vec![InvoiceEvent::InvoiceVoided { at: state.at }];
        }
        if state.status != Draft && status == Draft {
            events.push(InvoiceEvent::InvoiceFinalized {
                number: state.number.text,
                year: state.number.year,
                sequence: state.number.sequence,
                due_date: state.due_date,
                at: state.finalized_at,
                hosted_invoice_url: state.hosted_invoice_url,
                pdf_url: state.pdf_url,
            });
            status = Open;
        }
        match (state.status, status) {
            (Paid, Open | Uncollectible) => {
                events.push(InvoiceEvent::InvoicePaid {
                    amount: state.amount_paid,
                    reference: state.payment_reference.unwrap_or_default(),
                    at: state.paid_at,
                });
            }
            (Void, Open | Uncollectible) => {
                events.push(InvoiceEvent::InvoiceVoided { at: state.at });
            }
            (Uncollectible, Open) => {
                events.push(InvoiceEvent::InvoiceMarkedUncollectible { at: state.at });
            }
            _ => {}
        }
        if let Some(failure) = state.payment_failure {
            let still_due = matches!(state.status, Open | Uncollectible);
            if still_due && failure.attempt_count > self.attempt_count {
                events.push(InvoiceEvent::InvoicePaymentFailed {
                    failure,
                    at: state.at,
                });
            }
        }
        events
    }

    /// A document is issued once, for a finalized invoice: recording the same one again
    /// changes nothing (a resumed issuance), a different one is refused.
    fn record_document(&self, record: RecordDocument) -> Result<Vec<InvoiceEvent>, InvoiceError> {
        if self.status == InvoiceStatus::Draft {
            return Err(InvoiceError::NotIssuable);
        }
        match &self.document_sha256 {
            Some(issued) if *issued == record.sha256 => Ok(vec![]),
            Some(_) => Err(InvoiceError::DocumentAlreadyIssued),
            None => Ok(vec![InvoiceEvent::InvoiceDocumentIssued {
                sha256: record.sha256,
                at: record.at,
            }]),
        }
    }

    /// The SHA-256 of the issued document, once issued.
    pub fn document_sha256(&self) -> Option<&str> {
        self.document_sha256.as_deref()
    }

    /// What credit notes credited so far (subtotal, tax, total).
    pub fn credited(&self) -> InvoiceTotals {
        self.credited.totals
    }

    /// Where the invoice stands.
    pub fn status(&self) -> InvoiceStatus {
        self.status
    }

    /// True once the invoice was created.
    pub fn exists(&self) -> bool {
        self.created
    }

    /// Whether `action` is allowed now; the error says why not.
    pub fn check(&self, action: InvoiceAction) -> Result<(), InvoiceError> {
        if !self.created {
            return Err(InvoiceError::NotCreated);
        }
        let status = self.status;
        let allowed = match action {
            InvoiceAction::Finalize => status.can_finalize(),
            InvoiceAction::Void => status.can_void(),
            InvoiceAction::Send => status.can_send(),
            InvoiceAction::Pay => status.can_pay(),
            InvoiceAction::Credit => status.can_credit(),
        };
        if allowed {
            return Ok(());
        }
        Err(match action {
            InvoiceAction::Finalize => InvoiceError::NotDraft(status.as_str()),
            InvoiceAction::Void => InvoiceError::NotVoidable(status.as_str()),
            InvoiceAction::Send => InvoiceError::NotOpen(status.as_str()),
            InvoiceAction::Credit => InvoiceError::NotCreditable(status.as_str()),
            InvoiceAction::Pay => InvoiceError::NotPayable(status.as_str()),
        })
    }
}
