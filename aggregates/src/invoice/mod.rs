//! An invoice: draft → open (finalized, numbered) → paid, void or uncollectible.

mod commands;
mod error;
mod events;
pub mod lines;

#[cfg(test)]
mod tests;

pub use commands::{
    CollectionMethod, CreateInvoice, FinalizeInvoice, InvoiceCommand, InvoiceNumber,
    RecordInvoicePayment,
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
}

/// An invoice's state, rebuilt from its events.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invoice {
    created: bool,
    status: InvoiceStatus,
    total: i64,
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
            InvoiceEvent::InvoiceCreated { totals, .. } => {
                self.created = true;
                self.total = totals.total;
            }
            InvoiceEvent::InvoiceFinalized { .. } => self.status = InvoiceStatus::Open,
            InvoiceEvent::InvoicePaid { .. } => self.status = InvoiceStatus::Paid,
            InvoiceEvent::InvoiceVoided { .. } => self.status = InvoiceStatus::Void,
            InvoiceEvent::InvoiceMarkedUncollectible { .. } => {
                self.status = InvoiceStatus::Uncollectible;
            }
            InvoiceEvent::InvoiceSent { .. } => {}
        }
    }
}

impl Invoice {
    fn decide(&self, command: InvoiceCommand) -> Result<Vec<InvoiceEvent>, InvoiceError> {
        if let InvoiceCommand::Create(create) = command {
            if self.created {
                return Err(InvoiceError::AlreadyCreated);
            }
            let totals = lines::totals(&create.lines);
            return Ok(vec![InvoiceEvent::InvoiceCreated {
                customer_id: create.customer_id,
                currency: create.currency.code().to_owned(),
                lines: create.lines,
                totals,
                memo: create.memo,
                due_days: create.due_days,
                collection_method: create.collection_method,
                created_at: create.created_at,
            }]);
        }
        if !self.created {
            return Err(InvoiceError::NotCreated);
        }
        let status = self.status;
        let must_be_open = || match status {
            InvoiceStatus::Open => Ok(()),
            other => Err(InvoiceError::NotOpen(other.as_str())),
        };
        match command {
            InvoiceCommand::Create(_) => unreachable!("handled above"),
            InvoiceCommand::Finalize(finalize) => {
                if status != InvoiceStatus::Draft {
                    return Err(InvoiceError::NotDraft(status.as_str()));
                }
                Ok(vec![InvoiceEvent::InvoiceFinalized {
                    number: finalize.number.text,
                    year: finalize.number.year,
                    sequence: finalize.number.sequence,
                    due_date: finalize.due_date,
                    at: finalize.finalized_at,
                }])
            }
            InvoiceCommand::RecordPayment(payment) => {
                // An uncollectible invoice may still be paid, as in Stripe.
                if status != InvoiceStatus::Uncollectible {
                    must_be_open()?;
                }
                if payment.amount != self.total {
                    return Err(InvoiceError::WrongAmount {
                        paid: payment.amount,
                        due: self.total,
                    });
                }
                Ok(vec![InvoiceEvent::InvoicePaid {
                    amount: payment.amount,
                    reference: payment.reference,
                    at: payment.paid_at,
                }])
            }
            InvoiceCommand::Void { at } => {
                if status != InvoiceStatus::Uncollectible {
                    must_be_open()?;
                }
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
        }
    }
}
