//! The words of each message, in French and English, rendered as a plain-text and an HTML part
//! by askama templates (`templates/mail.txt`, `templates/mail.html`, checked at compile time).
//! Amounts arrive in integer minor units and are formatted here, at the edge, by the portal's
//! formatting (itself the invoice documents').

use askama::Template;

use super::MailError;
use crate::portal::format;
use crate::portal::i18n::Lang;

/// What a message is about; stored in the outbox as [`MailKind::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// A receipt: a payment succeeded.
    PaymentReceipt,
    /// A payment was declined or failed.
    PaymentFailed,
    /// A refund was made.
    RefundReceipt,
    /// An invoice was finalized (its PDF attached).
    InvoiceIssued,
    /// A password reset link (composed by `reset_mail`).
    PasswordReset,
}

impl MailKind {
    /// The code stored in `mail_outbox.kind` and shown by `billstream mail list`.
    pub fn code(self) -> &'static str {
        match self {
            Self::PaymentReceipt => "payment_receipt",
            Self::PaymentFailed => "payment_failed",
            Self::RefundReceipt => "refund_receipt",
            Self::InvoiceIssued => "invoice_issued",
            Self::PasswordReset => "password_reset",
        }
    }

    /// A receipt, which a customer may choose not to receive.
    pub fn is_receipt(self) -> bool {
        matches!(self, Self::PaymentReceipt | Self::RefundReceipt)
    }
}

/// What a message says, before the words: the facts from the event and the read models.
#[derive(Debug, Clone)]
pub struct Facts {
    pub kind: MailKind,
    pub customer_name: String,
    /// Minor units and the currency code (`eur`).
    pub amount: i64,
    pub currency: String,
    /// The invoice number or the payment's description, when there is one.
    pub reference: Option<String>,
    /// The invoice's due date (`YYYY-MM-DD`).
    pub due_date: Option<String>,
    /// Why a payment failed, as the provider said it.
    pub failure: Option<String>,
}

/// A message ready for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The plain-text part.
#[derive(Template)]
#[template(path = "mail.txt")]
struct TextPart<'a> {
    body: &'a Body,
}

/// The HTML part (askama escapes every value).
#[derive(Template)]
#[template(path = "mail.html")]
struct HtmlPart<'a> {
    body: &'a Body,
    lang: &'a str,
}

/// The words of one message, shared by both parts.
struct Body {
    greeting: String,
    lead: String,
    /// Label and value pairs (amount, reference, due date, reason).
    details: Vec<(String, String)>,
    closing: String,
}

/// Renders `facts` in `lang`.
pub fn compose(facts: &Facts, lang: Lang) -> Result<Composed, MailError> {
    let fr = lang == Lang::Fr;
    let amount = format::money(facts.amount, &facts.currency, lang);
    let reference = facts.reference.as_deref().unwrap_or("");
    let (subject, lead) = match (facts.kind, fr) {
        (MailKind::PaymentReceipt, true) => (
            format!("Reçu de votre paiement de {amount}"),
            "Nous avons bien reçu votre paiement. Merci !".to_owned(),
        ),
        (MailKind::PaymentReceipt, false) => (
            format!("Receipt for your payment of {amount}"),
            "We have received your payment. Thank you!".to_owned(),
        ),
        (MailKind::PaymentFailed, true) => (
            format!("Votre paiement de {amount} n'a pas abouti"),
            "Votre paiement a été refusé. Vous pouvez réessayer avec une autre carte depuis votre espace client.".to_owned(),
        ),
        (MailKind::PaymentFailed, false) => (
            format!("Your payment of {amount} did not go through"),
            "Your payment was declined. You can try again with another card from your account.".to_owned(),
        ),
        (MailKind::RefundReceipt, true) => (
            format!("Remboursement de {amount}"),
            "Nous vous avons remboursé ; la somme apparaîtra sur votre relevé sous quelques jours.".to_owned(),
        ),
        (MailKind::RefundReceipt, false) => (
            format!("Refund of {amount}"),
            "We have refunded you; the money will show on your statement within a few days.".to_owned(),
        ),
        (MailKind::InvoiceIssued, true) => (
            format!("Votre facture {reference}"),
            "Voici votre facture, en pièce jointe au format PDF.".to_owned(),
        ),
        (MailKind::InvoiceIssued, false) => (
            format!("Your invoice {reference}"),
            "Here is your invoice, attached as a PDF.".to_owned(),
        ),
        // It has no amount: its own words and templates are in `reset_mail`.
        (MailKind::PasswordReset, _) => {
            return Err(MailError::Message(
                "a password reset message is composed by reset_mail".into(),
            ))
        }
    };
    let label = |fr_label: &str, en_label: &str| if fr { fr_label } else { en_label }.to_owned();
    let mut details = vec![(label("Montant", "Amount"), amount)];
    if let Some(reference) = &facts.reference {
        let (fr_label, en_label) = match facts.kind {
            MailKind::InvoiceIssued => ("Facture", "Invoice"),
            _ => ("Référence", "Reference"),
        };
        details.push((label(fr_label, en_label), reference.clone()));
    }
    if let Some(due) = &facts.due_date {
        details.push((label("Échéance", "Due date"), format::date(due, lang)));
    }
    if let Some(failure) = &facts.failure {
        details.push((label("Motif", "Reason"), failure.clone()));
    }
    let body = Body {
        greeting: if fr {
            format!("Bonjour {},", facts.customer_name)
        } else {
            format!("Hello {},", facts.customer_name)
        },
        lead,
        details,
        closing: label("Bien cordialement,", "Kind regards,"),
    };
    Ok(Composed {
        subject,
        text: TextPart { body: &body }.render()?,
        html: HtmlPart {
            body: &body,
            lang: lang.code(),
        }
        .render()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt() -> Facts {
        Facts {
            kind: MailKind::PaymentReceipt,
            customer_name: "Ada <script>".into(),
            amount: 123_456,
            currency: "eur".into(),
            reference: Some("Order 1001".into()),
            due_date: None,
            failure: None,
        }
    }

    #[test]
    fn amounts_are_formatted_for_the_language() {
        let fr = compose(&receipt(), Lang::Fr).unwrap();
        let en = compose(&receipt(), Lang::En).unwrap();
        assert!(fr.subject.contains("1\u{202f}234,56\u{a0}€") || fr.subject.contains("234,56"));
        assert!(en.subject.contains("€1,234.56"), "{}", en.subject);
        assert!(fr.text.contains("Bonjour Ada <script>,"));
    }

    #[test]
    fn the_html_part_escapes_what_customers_typed() {
        let html = compose(&receipt(), Lang::En).unwrap().html;
        assert!(html.contains("Ada &#60;script&#62;") || html.contains("Ada &lt;script&gt;"));
        assert!(!html.contains("<script>"));
    }
}
