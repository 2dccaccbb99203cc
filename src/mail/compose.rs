//! The words of each message, in French and English, rendered as a plain-text and an HTML part
//! by askama templates (`templates/mail.txt`, `templates/mail.html`, checked at compile time).
//! Amounts arrive in integer minor units and are formatted here, at the edge, by the portal's
//! formatting (itself the invoice documents').

use askama::Template;

use super::MailError;
use crate::portal::format;
use crate::portal::i18n::Lang;
use invoice_documents::Seller;

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
    /// A trial ends within three days.
    TrialEnding,
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
            Self::TrialEnding => "trial_ending",
            Self::PasswordReset => "password_reset",
        }
    }

    /// True for the messages Stripe sends itself when its customer e-mails are turned on
    /// (invoices and receipts); billstream then leaves them to Stripe.
    pub fn stripe_can_send(self) -> bool {
        matches!(
            self,
            Self::PaymentReceipt | Self::RefundReceipt | Self::InvoiceIssued
        )
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
    /// Where the customer acts on the message (the invoice, the card to fix), absolute.
    pub link: Option<String>,
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

/// A link and its words.
struct Link {
    text: String,
    href: String,
}

/// The words of one message, shared by both parts.
struct Body {
    greeting: String,
    lead: String,
    /// Label and value pairs (amount, reference, due date, reason).
    details: Vec<(String, String)>,
    link: Option<Link>,
    closing: String,
    /// The seller's name, address, e-mail and VAT number, one per line.
    signature: Vec<String>,
}

/// Renders `facts` in `lang`, signed by `seller`.
pub fn compose(facts: &Facts, lang: Lang, seller: &Seller) -> Result<Composed, MailError> {
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
        (MailKind::TrialEnding, true) => (
            format!("Votre période d'essai se termine le {}", trial_end(facts, lang)),
            format!("Votre essai {reference} se termine bientôt. À son terme, {amount} seront prélevés sur votre carte, sauf si vous résiliez d'ici là."),
        ),
        (MailKind::TrialEnding, false) => (
            format!("Your trial ends on {}", trial_end(facts, lang)),
            format!("Your {reference} trial ends soon. When it does, {amount} will be charged to your card unless you cancel before."),
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
            MailKind::TrialEnding => ("Formule", "Plan"),
            _ => ("Référence", "Reference"),
        };
        details.push((label(fr_label, en_label), reference.clone()));
    }
    if let Some(due) = &facts.due_date {
        let (fr_label, en_label) = match facts.kind {
            MailKind::TrialEnding => ("Fin de l'essai", "Trial ends"),
            _ => ("Échéance", "Due date"),
        };
        details.push((label(fr_label, en_label), format::date(due, lang)));
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
        link: facts.link.as_ref().map(|href| Link {
            text: link_text(facts.kind, fr).to_owned(),
            href: href.clone(),
        }),
        closing: label("Bien cordialement,", "Kind regards,"),
        signature: signature(seller, fr),
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

/// The trial's end date, formatted (the facts' due date).
fn trial_end(facts: &Facts, lang: Lang) -> String {
    facts
        .due_date
        .as_deref()
        .map(|date| format::date(date, lang))
        .unwrap_or_default()
}

/// What the link leads to, in words.
fn link_text(kind: MailKind, fr: bool) -> &'static str {
    match (kind, fr) {
        (MailKind::InvoiceIssued, true) => "Voir la facture en ligne",
        (MailKind::InvoiceIssued, false) => "View the invoice online",
        (MailKind::PaymentFailed, true) => "Payer avec une autre carte",
        (MailKind::PaymentFailed, false) => "Pay with another card",
        (MailKind::TrialEnding, true) => "Gérer votre abonnement",
        (MailKind::TrialEnding, false) => "Manage your subscription",
        (_, true) => "Voir votre espace client",
        (_, false) => "See your account",
    }
}

/// The seller's details under the closing.
fn signature(seller: &Seller, fr: bool) -> Vec<String> {
    let address = &seller.address;
    let mut lines = vec![format!("{} {}", seller.name, seller.legal_form)];
    lines.push(address.line1.clone());
    lines.extend(address.line2.iter().cloned());
    lines.push(format!("{} {}", address.postal_code, address.city));
    lines.push(seller.email.clone());
    if let Some(vat_id) = &seller.vat_number {
        lines.push(format!("{} {vat_id}", if fr { "TVA" } else { "VAT" }));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seller() -> Seller {
        Seller {
            name: "Atelier Dubois".into(),
            legal_form: "SARL".into(),
            address: invoice_documents::Address {
                line1: "1 rue de la Paix".into(),
                line2: None,
                postal_code: "75002".into(),
                city: "Paris".into(),
                country: "FR".into(),
            },
            vat_number: Some("FR12345678901".into()),
            email: "factures@atelier.example".into(),
            ..crate::config::seller::demo_seller()
        }
    }

    fn receipt() -> Facts {
        Facts {
            kind: MailKind::PaymentReceipt,
            customer_name: "Ada <script>".into(),
            amount: 123_456,
            currency: "eur".into(),
            reference: Some("Order 1001".into()),
            due_date: None,
            failure: None,
            link: Some("https://billing.example.com/dashboard".into()),
        }
    }

    #[test]
    fn amounts_are_formatted_for_the_language() {
        let fr = compose(&receipt(), Lang::Fr, &seller()).unwrap();
        let en = compose(&receipt(), Lang::En, &seller()).unwrap();
        assert!(fr.subject.contains("1\u{202f}234,56\u{a0}€") || fr.subject.contains("234,56"));
        assert!(en.subject.contains("€1,234.56"), "{}", en.subject);
        assert!(fr.text.contains("Bonjour Ada <script>,"));
    }

    #[test]
    fn the_html_part_escapes_what_customers_typed() {
        let html = compose(&receipt(), Lang::En, &seller()).unwrap().html;
        assert!(html.contains("Ada &#60;script&#62;") || html.contains("Ada &lt;script&gt;"));
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn messages_are_signed_by_the_seller_and_carry_their_link() {
        let en = compose(&receipt(), Lang::En, &seller()).unwrap();
        for part in [&en.text, &en.html] {
            assert!(part.contains("Atelier Dubois SARL"), "{part}");
            assert!(part.contains("75002 Paris"), "{part}");
            assert!(part.contains("VAT FR12345678901"), "{part}");
            assert!(
                part.contains("https://billing.example.com/dashboard"),
                "{part}"
            );
        }
    }

    #[test]
    fn a_trial_reminder_says_when_and_how_much() {
        let facts = Facts {
            kind: MailKind::TrialEnding,
            reference: Some("Particulier".into()),
            amount: 990,
            due_date: Some("2026-12-14".into()),
            ..receipt()
        };
        let fr = compose(&facts, Lang::Fr, &seller()).unwrap();
        assert!(
            fr.subject
                .starts_with("Votre période d'essai se termine le "),
            "{}",
            fr.subject
        );
        assert!(fr.subject.contains("2026"), "{}", fr.subject);
        let en = compose(&facts, Lang::En, &seller()).unwrap();
        assert!(en.text.contains("€9.90"), "{}", en.text);
        assert!(en.text.contains("Manage your subscription"), "{}", en.text);
    }
}
