//! The sandbox's invoices: one-off drafts with their lines and taxes, finalized (and charged
//! at once when collected automatically), voided, sent; each a Stripe-shaped document in
//! `sandbox_invoices` with the time of its next automatic collection attempt. Collecting one is
//! `collection`'s job; a subscription's period invoice is made by `cycle`.

use serde_json::{json, Value};

use super::collection::{attempt_payment, pay_invoice};
use super::credit_notes;
use super::idempotency::{Answer, Change};
use super::ids::{stripe_like_id, DAY};
use super::store::SandboxConn;
use super::{customers, load_document, outbox};
use crate::provider::stripe::metadata;
use crate::provider::{NewCreditNote, NewInvoice, ProviderError};

/// What can be done to an existing invoice.
pub enum InvoiceAction {
    Finalize,
    Pay { payment_method: Option<String> },
    Void,
    Send,
    Credit(NewCreditNote),
}

impl Change for InvoiceAction {
    fn request(&self, id: &str) -> Value {
        match self {
            Self::Finalize => json!({"op": "finalize_invoice", "id": id}),
            Self::Pay { payment_method } => {
                json!({"op": "pay_invoice", "id": id, "payment_method": payment_method})
            }
            Self::Void => json!({"op": "void_invoice", "id": id}),
            Self::Send => json!({"op": "send_invoice", "id": id}),
            Self::Credit(credit) => json!({"op": "credit_invoice", "id": id,
                "credit_note_id": credit.credit_note_id, "number": credit.number,
                "amount": credit.amount, "refund": credit.refund}),
        }
    }

    fn run(self, conn: &mut SandboxConn, id: String, now: i64) -> Answer<'_> {
        Box::pin(async move {
            match self {
                Self::Finalize => finalize_invoice(conn, &id, now).await,
                Self::Pay { payment_method } => {
                    pay_invoice(conn, &id, payment_method.as_deref(), now).await
                }
                Self::Void => void_invoice(conn, &id, now).await,
                Self::Send => send_invoice(conn, &id).await,
                Self::Credit(credit) => credit_notes::credit_invoice(conn, &id, &credit, now).await,
            }
        })
    }
}

/// The stored invoice.
pub async fn load(conn: &mut SandboxConn, id: &str) -> Result<Value, ProviderError> {
    const SQL: &str = "SELECT object FROM sandbox_invoices WHERE id = $1";
    load_document(conn, SQL, id, ProviderError::NoSuchInvoice).await
}

/// Stores an invoice, new or changed, with the time of its next automatic attempt.
pub async fn save(conn: &mut SandboxConn, invoice: &Value) -> Result<(), ProviderError> {
    conn.execute(
        "INSERT INTO sandbox_invoices (id, customer, subscription, object, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET object = excluded.object,
             next_attempt_at = excluded.next_attempt_at",
        &[
            invoice["id"].as_str().into(),
            invoice["customer"].as_str().into(),
            invoice["subscription"].as_str().into(),
            invoice.to_string().into(),
            invoice["next_payment_attempt"].as_i64().into(),
        ],
    )
    .await?;
    Ok(())
}

/// One invoice line (`proration` for the credit or charge of a plan change).
pub fn line(
    description: &str,
    amount: i64,
    tax: i64,
    period: (i64, i64),
    proration: bool,
) -> Value {
    json!({
        "id": stripe_like_id("il"),
        "object": "line_item",
        "amount": amount,
        "description": description,
        "period": {"start": period.0, "end": period.1},
        "proration": proration,
        "quantity": 1,
        "tax_amounts": if tax == 0 { json!([]) } else { json!([{"amount": tax, "inclusive": false}]) },
    })
}

/// What a new invoice is made of.
pub struct InvoiceDraft<'a> {
    pub customer: &'a str,
    pub subscription: Option<&'a str>,
    pub currency: &'a str,
    pub lines: Vec<Value>,
    pub collection_method: &'a str,
    pub days_until_due: Option<u32>,
    pub memo: Option<&'a str>,
    pub billing_reason: &'a str,
    pub metadata: Value,
}

/// A draft invoice as Stripe's `invoice` object, its totals summed from its lines.
pub fn invoice_object(draft: InvoiceDraft<'_>, now: i64) -> Value {
    let subtotal: i64 = draft
        .lines
        .iter()
        .filter_map(|line| line["amount"].as_i64())
        .sum();
    let tax: i64 = draft
        .lines
        .iter()
        .flat_map(|line| line["tax_amounts"].as_array().cloned().unwrap_or_default())
        .filter_map(|tax| tax["amount"].as_i64())
        .sum();
    let total = subtotal + tax;
    let (period_start, period_end) = draft
        .lines
        .first()
        .map(|line| {
            (
                line["period"]["start"].as_i64().unwrap_or(now),
                line["period"]["end"].as_i64().unwrap_or(now),
            )
        })
        .unwrap_or((now, now));
    json!({
        "id": stripe_like_id("in"),
        "object": "invoice",
        "amount_due": total.max(0),
        "amount_paid": 0,
        "amount_remaining": total.max(0),
        "attempt_count": 0,
        "attempted": false,
        "auto_advance": true,
        "billing_reason": draft.billing_reason,
        "collection_method": draft.collection_method,
        "created": now,
        "currency": draft.currency,
        "customer": draft.customer,
        "days_until_due": draft.days_until_due,
        "description": draft.memo,
        "due_date": null,
        "hosted_invoice_url": null,
        "invoice_pdf": null,
        "last_payment_error": null,
        "lines": {"object": "list", "data": draft.lines},
        "livemode": false,
        "metadata": draft.metadata,
        "next_payment_attempt": null,
        "number": null,
        "paid": false,
        "payment_intent": null,
        "period_end": period_end,
        "period_start": period_start,
        "status": "draft",
        "status_transitions": {"finalized_at": null, "paid_at": null, "voided_at": null,
                               "marked_uncollectible_at": null},
        "subscription": draft.subscription,
        "subtotal": subtotal,
        "tax": tax,
        "total": total,
    })
}

/// Draft → open, announced with `invoice.finalized`.
pub async fn finalize(
    conn: &mut SandboxConn,
    invoice: &mut Value,
    now: i64,
) -> Result<(), ProviderError> {
    invoice["status"] = json!("open");
    invoice["status_transitions"]["finalized_at"] = json!(now);
    if invoice["collection_method"] == "send_invoice" {
        let days = invoice["days_until_due"].as_i64().unwrap_or(30);
        invoice["due_date"] = json!(now + days * DAY);
    }
    save(conn, invoice).await?;
    outbox::enqueue(conn, "invoice.finalized", invoice, None).await
}

/// Creates a draft one-off invoice.
pub async fn create_invoice(
    conn: &mut SandboxConn,
    new: &NewInvoice,
    now: i64,
) -> Result<Value, ProviderError> {
    customers::require(conn, &new.stripe_customer_id).await?;
    let lines = new
        .lines
        .iter()
        .map(|item| {
            let amounts = item.amounts();
            let mut value = line(
                &item.description,
                amounts.subtotal,
                amounts.tax,
                (now, now),
                false,
            );
            value["quantity"] = json!(item.quantity);
            value["unit_amount_excluding_tax"] = json!(item.unit_amount.to_string());
            value
        })
        .collect();
    let collection_method = serde_json::to_value(new.collection_method)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "send_invoice".into());
    let invoice = invoice_object(
        InvoiceDraft {
            customer: &new.stripe_customer_id,
            subscription: None,
            currency: &new.currency,
            lines,
            collection_method: &collection_method,
            days_until_due: (collection_method == "send_invoice").then_some(new.due_days),
            memo: new.memo.as_deref(),
            billing_reason: "manual",
            metadata: json!({metadata::INVOICE_ID: new.invoice_id}),
        },
        now,
    );
    save(conn, &invoice).await?;
    outbox::enqueue(conn, "invoice.created", &invoice, None).await?;
    Ok(invoice)
}

/// Finalizes a draft; an automatically collected one is charged at once when the customer has
/// a default payment method.
async fn finalize_invoice(
    conn: &mut SandboxConn,
    id: &str,
    now: i64,
) -> Result<Value, ProviderError> {
    let mut invoice = load(conn, id).await?;
    if invoice["status"] != "draft" {
        return Err(ProviderError::UnexpectedState(format!(
            "This invoice is {}; only a draft can be finalized.",
            invoice["status"].as_str().unwrap_or("unknown")
        )));
    }
    finalize(conn, &mut invoice, now).await?;
    if invoice["collection_method"] == "charge_automatically" {
        let customer = invoice["customer"].as_str().unwrap_or_default().to_owned();
        if customers::default_payment_method(conn, &customer)
            .await?
            .is_some()
        {
            attempt_payment(conn, &mut invoice, None, false, now).await?;
        }
    }
    Ok(invoice)
}

/// Voids a draft, an open or an uncollectible invoice (Stripe deletes a draft instead; the
/// sandbox keeps it, void, so its history stays visible).
pub async fn void_invoice(
    conn: &mut SandboxConn,
    id: &str,
    now: i64,
) -> Result<Value, ProviderError> {
    let mut invoice = load(conn, id).await?;
    if !matches!(
        invoice["status"].as_str(),
        Some("draft" | "open" | "uncollectible")
    ) {
        return Err(ProviderError::UnexpectedState(format!(
            "This invoice is {}; a paid or void invoice cannot be voided.",
            invoice["status"].as_str().unwrap_or("unknown")
        )));
    }
    invoice["status"] = json!("void");
    invoice["next_payment_attempt"] = Value::Null;
    invoice["amount_remaining"] = json!(0);
    invoice["status_transitions"]["voided_at"] = json!(now);
    save(conn, &invoice).await?;
    outbox::enqueue(conn, "invoice.voided", &invoice, None).await?;
    Ok(invoice)
}

/// "Sends" an open invoice (Stripe e-mails it; the sandbox records the event).
async fn send_invoice(conn: &mut SandboxConn, id: &str) -> Result<Value, ProviderError> {
    let invoice = load(conn, id).await?;
    if invoice["status"] != "open" {
        return Err(ProviderError::UnexpectedState(
            "Only an open invoice can be sent.".into(),
        ));
    }
    outbox::enqueue(conn, "invoice.sent", &invoice, None).await?;
    Ok(invoice)
}
