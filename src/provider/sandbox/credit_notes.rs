//! The sandbox's credit notes, as Stripe records them: on an unpaid invoice the note reduces
//! `amount_due` and `amount_remaining` (a note taking them to zero leaves nothing to collect,
//! and the sandbox voids the invoice, as billstream does), on a paid one its amount is refunded
//! from the invoice's charge (`charge.refunded`). Each is announced by `credit_note.created`.

use serde_json::{json, Value};

use super::ids::stripe_like_id;
use super::invoices::{load, save};
use super::store::SandboxConn;
use super::{outbox, refunds};
use crate::provider::stripe::metadata;
use crate::provider::{NewCreditNote, NewRefund, ProviderError};

/// Records `credit` on invoice `id`; returns the invoice as it now stands.
pub async fn credit_invoice(
    conn: &mut SandboxConn,
    id: &str,
    credit: &NewCreditNote,
    now: i64,
) -> Result<Value, ProviderError> {
    let mut invoice = load(conn, id).await?;
    let status = invoice["status"].as_str().unwrap_or_default().to_owned();
    let remaining = invoice["amount_remaining"].as_i64().unwrap_or(0);
    let paid = status == "paid";
    if !matches!(status.as_str(), "open" | "uncollectible" | "paid") {
        return Err(ProviderError::UnexpectedState(format!(
            "This invoice is {status}; only a finalized invoice can be credited."
        )));
    }
    if credit.amount < 1 || (!paid && credit.amount > remaining) {
        return Err(ProviderError::UnexpectedState(format!(
            "The credit note's amount ({}) exceeds what can be credited ({remaining}).",
            credit.amount
        )));
    }
    let mut refund = Value::Null;
    if paid && credit.refund {
        let intent = invoice["payment_intent"].as_str().unwrap_or_default();
        let new = NewRefund {
            refund_id: credit.credit_note_id.clone(),
            payment_intent_id: intent.to_owned(),
            amount: credit.amount,
        };
        let key = format!("{id}-credit-{}", credit.credit_note_id);
        refund = refunds::create(conn, &new, &key).await?["id"].clone();
    }
    let (kind, field) = if paid {
        ("post_payment", "post_payment_credit_notes_amount")
    } else {
        ("pre_payment", "pre_payment_credit_notes_amount")
    };
    invoice[field] = json!(invoice[field].as_i64().unwrap_or(0) + credit.amount);
    if !paid {
        let left = remaining - credit.amount;
        invoice["amount_remaining"] = json!(left);
        invoice["amount_due"] = json!(invoice["amount_due"].as_i64().unwrap_or(0) - credit.amount);
        if left == 0 {
            invoice["status"] = json!("void");
            invoice["next_payment_attempt"] = Value::Null;
            invoice["status_transitions"]["voided_at"] = json!(now);
        }
    }
    save(conn, &invoice).await?;
    let note = json!({
        "id": stripe_like_id("cn"),
        "object": "credit_note",
        "amount": credit.amount,
        "total": credit.amount,
        "created": now,
        "currency": invoice["currency"],
        "customer": invoice["customer"],
        "invoice": id,
        "memo": format!("Avoir {}", credit.number),
        "metadata": {metadata::CREDIT_NOTE_ID: credit.credit_note_id},
        "refund": refund,
        "status": "issued",
        "type": kind,
    });
    outbox::enqueue(conn, "credit_note.created", &note, None).await?;
    if invoice["status"] == "void" && !paid {
        outbox::enqueue(conn, "invoice.voided", &invoice, None).await?;
    }
    Ok(invoice)
}
