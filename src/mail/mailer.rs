//! The mailer: a projection that turns the events a customer must hear about into outbox rows.
//!
//! It runs inside the projector's transaction, last of the read models, so the rows it reads
//! (payments, invoices, customer profiles) already hold every event of the batch, and its
//! checkpoint (`mailer`) commits with the rows it queues: no event is mailed twice or skipped.
//! It runs on SQLite's handle in the projector's batch (`apply_direct`): its reads and its
//! outbox rows cost no round trip each to sqlx's thread while the batch holds the write lock.
//! It owns no table a replay should empty (`tables()` is empty): the outbox records what was
//! sent, which a rebuild of the read models must not forget.

use std::sync::Arc;

use aggregates::invoice::{Invoice, InvoiceEvent};
use aggregates::payment::{Payment, PaymentEvent};
use aggregates::subscription::{Subscription, SubscriptionEvent};
use async_trait::async_trait;
use chrono::Utc;
use cqrs_es::Aggregate;
use projections::direct_rows::find;
use projections::{
    CustomerProfile, InvoiceRow, PaymentRow, Projection, ProjectionError, StoredEvent,
    SubscriptionRow,
};

use super::compose::{compose, Facts, MailKind};
use super::outbox::{self, NewMessage};
use super::reset_mail::{self, customer_language};
use super::{CustomerEmails, MailSettings};
use crate::portal::links::InvoiceLinks;
use crate::usecases::plans::PlanCatalog;
use invoice_documents::Seller;

/// The projection's name, which keys its checkpoint (the migration starts it at the log's head
/// on a database that already had events).
pub const MAILER: &str = "mailer";

/// Queues messages from the log.
pub struct Mailer {
    settings: MailSettings,
    /// Who signs the messages.
    seller: Seller,
    /// Signs the invoice message's link to the invoice page.
    links: Arc<InvoiceLinks>,
    /// The plans' names in each language, for the trial reminder.
    plans: Arc<PlanCatalog>,
}

/// A message to compose: its kind, the facts, and whom and what it concerns.
struct Draft {
    facts: Facts,
    customer_id: String,
    invoice_id: Option<String>,
    /// The plan the message names, whose name is looked up in the recipient's language.
    plan: Option<String>,
}

impl Mailer {
    /// A mailer writing messages in `settings`' language, with its Message-ID domain, signed by
    /// `seller`, linking to invoices through `links`, naming plans from `plans`.
    pub fn new(
        settings: MailSettings,
        seller: Seller,
        links: Arc<InvoiceLinks>,
        plans: Arc<PlanCatalog>,
    ) -> Self {
        Self {
            settings,
            seller,
            links,
            plans,
        }
    }

    /// The portal's absolute URL for `path`.
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.public_url)
    }

    /// The message `event` calls for, if any, from the read models.
    fn draft(
        &self,
        db: &rusqlite::Connection,
        event: &StoredEvent,
    ) -> Result<Option<Draft>, ProjectionError> {
        if event.aggregate_type == Payment::TYPE {
            let (kind, amount, failure) = match event.event_type.as_str() {
                "PaymentSucceeded" | "PaymentFailed" | "RefundSucceeded" => {
                    match event.decode::<PaymentEvent>()? {
                        PaymentEvent::PaymentSucceeded {
                            amount_received, ..
                        } => (MailKind::PaymentReceipt, Some(amount_received), None),
                        PaymentEvent::PaymentFailed {
                            failure_message, ..
                        } => (MailKind::PaymentFailed, None, Some(failure_message)),
                        PaymentEvent::RefundSucceeded { amount, .. } => {
                            (MailKind::RefundReceipt, Some(amount), None)
                        }
                        _ => return Ok(None),
                    }
                }
                _ => return Ok(None),
            };
            let Some(payment) = find::<PaymentRow>(db, "payment_id", &event.aggregate_id)? else {
                return Ok(None);
            };
            return Ok(Some(Draft {
                facts: Facts {
                    kind,
                    customer_name: String::new(),
                    amount: amount.unwrap_or(payment.amount),
                    currency: payment.currency,
                    reference: payment.description,
                    due_date: None,
                    failure,
                    link: Some(match kind {
                        // The checkout page takes another card for the same payment.
                        MailKind::PaymentFailed => {
                            self.url(&format!("/pay/{}", payment.payment_id))
                        }
                        _ => self.url("/dashboard"),
                    }),
                },
                customer_id: payment.customer_id,
                invoice_id: None,
                plan: None,
            }));
        }
        if event.aggregate_type == Invoice::TYPE {
            let (kind, failure) = match event.event_type.as_str() {
                // Finalizing sends the invoice; an explicit send (again) sends it once more.
                "InvoiceFinalized" | "InvoiceSent" => (MailKind::InvoiceIssued, None),
                "InvoicePaymentFailed" => match event.decode::<InvoiceEvent>()? {
                    InvoiceEvent::InvoicePaymentFailed { failure, .. } => {
                        (MailKind::PaymentFailed, Some(failure.message))
                    }
                    _ => return Ok(None),
                },
                _ => return Ok(None),
            };
            let Some(invoice) = find::<InvoiceRow>(db, "invoice_id", &event.aggregate_id)? else {
                return Ok(None);
            };
            let issued = kind == MailKind::InvoiceIssued;
            let link = if issued {
                // The signed link opens the invoice without signing in (valid for 30 days).
                let (path, _) = self.links.path(&invoice.invoice_id, Utc::now().timestamp());
                self.url(&path)
            } else {
                // The invoice's page takes another card for what is due.
                self.url(&format!("/invoices/{}#pay", invoice.invoice_id))
            };
            return Ok(Some(Draft {
                facts: Facts {
                    kind,
                    customer_name: String::new(),
                    amount: invoice.total,
                    currency: invoice.currency,
                    reference: invoice.number,
                    due_date: invoice.due_date.filter(|_| issued),
                    failure,
                    link: Some(link),
                },
                customer_id: invoice.customer_id,
                invoice_id: issued.then_some(invoice.invoice_id),
                plan: None,
            }));
        }
        if event.aggregate_type == Subscription::TYPE && event.event_type == "TrialEndingSoon" {
            let SubscriptionEvent::TrialEndingSoon {
                customer_id,
                trial_end,
                ..
            } = event.decode::<SubscriptionEvent>()?
            else {
                return Ok(None);
            };
            let Some(subscription) =
                find::<SubscriptionRow>(db, "subscription_id", &event.aggregate_id)?
            else {
                return Ok(None);
            };
            return Ok(Some(Draft {
                facts: Facts {
                    kind: MailKind::TrialEnding,
                    customer_name: String::new(),
                    amount: subscription.amount.unwrap_or(0),
                    currency: subscription.currency.unwrap_or_else(|| "eur".into()),
                    // Named once the recipient's language is known.
                    reference: None,
                    due_date: Some(trial_end.format("%Y-%m-%d").to_string()),
                    failure: None,
                    link: Some(self.url("/dashboard")),
                },
                customer_id,
                invoice_id: None,
                plan: subscription.plan,
            }));
        }
        Ok(None)
    }
}

#[async_trait]
impl Projection for Mailer {
    fn name(&self) -> &'static str {
        MAILER
    }

    fn tables(&self) -> &'static [&'static str] {
        &[]
    }

    fn consumes_in_thread(&self) -> bool {
        true
    }

    fn apply_direct(
        &self,
        db: &rusqlite::Connection,
        event: &StoredEvent,
    ) -> Result<(), ProjectionError> {
        reset_mail::queue(db, event, &self.settings)?;
        let Some(mut draft) = self.draft(db, event)? else {
            return Ok(());
        };
        if self.settings.customer_emails == CustomerEmails::Stripe
            && draft.facts.kind.stripe_can_send()
        {
            // Stripe sends this one: the customer must not get it twice.
            return Ok(());
        }
        let Some(customer) = find::<CustomerProfile>(db, "id", &draft.customer_id)? else {
            // A payment or invoice always belongs to a registered customer; a row without one
            // would be a broken read model, which must not stop every projection.
            tracing::error!(position = event.position, customer_id = %draft.customer_id,
                "no customer profile for a message; not queued");
            return Ok(());
        };
        // Receipts are the customer's choice; invoices and failure notices always go.
        if draft.facts.kind.is_receipt() && !customer.mail_receipts {
            return Ok(());
        }
        draft.facts.customer_name = customer.name;
        let language = customer_language(customer.mail_language.as_deref(), &self.settings);
        if let Some(plan) = draft.plan.take() {
            // The catalog's name in that language ("Particulier"), else the id it no longer lists.
            draft.facts.reference = Some(match self.plans.find(&plan) {
                Some(known) => known.name_in(language.code()).to_owned(),
                None => plan,
            });
        }
        let composed = match compose(&draft.facts, language, &self.seller) {
            Ok(composed) => composed,
            Err(error) => {
                // Rendering only fails on a formatting bug; it must not stop the projector.
                tracing::error!(position = event.position, %error, "cannot compose a message");
                return Ok(());
            }
        };
        let message_id = outbox::message_id(
            event.position,
            draft.facts.kind,
            self.settings.message_id_domain(),
        );
        outbox::queue(
            db,
            &NewMessage {
                message_id: &message_id,
                position: event.position,
                kind: draft.facts.kind,
                customer_id: &draft.customer_id,
                recipient: &customer.email,
                language: language.code(),
                composed: &composed,
                invoice_id: draft.invoice_id.as_deref(),
                at: Utc::now(),
            },
        )?;
        Ok(())
    }
}
