//! Every mention French law requires is on the page (read back with pdftotext): for a business
//! buyer, for a private buyer (no recovery indemnity), for a seller under the VAT franchise,
//! and for a credit note.

mod common;

use common::fixtures::{business_invoice, credit_note, franchise_invoice, private_invoice};
use common::normalized;
use common::tools::pdftotext;
use invoice_documents::{render_pdf, InvoiceDocument};

fn page_text(doc: &InvoiceDocument) -> String {
    normalized(&pdftotext(&render_pdf(doc).unwrap()))
}

fn assert_mentions(text: &str, mentions: &[&str]) {
    for mention in mentions {
        let mention = normalized(mention);
        assert!(text.contains(&mention), "missing {mention:?} in:\n{text}");
    }
}

#[test]
fn a_business_invoice_carries_every_mention_french_law_requires() {
    let text = page_text(&business_invoice());
    assert_mentions(
        &text,
        &[
            // Seller: name, legal form and capital, address, SIREN/SIRET, RCS, VAT number.
            "Atelier Lumière",
            "SAS au capital de 10 000,00 €",
            "12 rue de la Paix",
            "75002 Paris",
            "SIREN : 123 456 789",
            "SIRET : 12345678900012",
            "RCS Paris 123 456 789",
            "N° TVA intracommunautaire : FR32123456789",
            // Buyer: name, billing address, SIREN and VAT number of a business.
            "Dupont & Fils SARL",
            "5 avenue des Champs-Élysées",
            "75008 Paris",
            "SIREN : 987 654 321",
            "N° TVA intracommunautaire : FR45987654321",
            // Delivery address, different from the billing one.
            "Adresse de livraison",
            "Entrepôt Nord, 3 quai de Loire",
            // Number, issue date, service period, due date.
            "Facture n° BS-2026-000003",
            "Date d'émission : 30 novembre 2026",
            "Période de la prestation : du 1er novembre 2026 au 30 novembre 2026",
            "Date d'échéance : 30 décembre 2026",
            // Line table headers and a line with quantity, unit price, rate and total.
            "Désignation",
            "Qté",
            "Prix unitaire HT",
            "Total HT",
            "Développement logiciel — sprint de novembre",
            "650,00 €",
            "7 800,00 €",
            "5,5 %",
            // Totals per VAT rate, excl. VAT, VAT, incl. VAT, amount due.
            "Taux de TVA",
            "Base HT",
            "Montant de TVA",
            "7 849,99 €",
            "1 570,00 €",
            "0,83 €",
            "Total HT 7 864,99 €",
            "Total TVA 1 570,83 €",
            "Total TTC 9 435,82 €",
            "Net à payer 9 435,82 €",
            // Payment terms, penalties, indemnity, no discount, VAT on debits, operation.
            "Conditions de paiement : Paiement à 30 jours par virement bancaire",
            "Pénalités de retard : taux annuel de 12,15 %",
            "Indemnité forfaitaire pour frais de recouvrement de 40 €",
            "Pas d'escompte pour paiement anticipé",
            "Option pour le paiement de la taxe d'après les débits",
            "Nature de l'opération : opération mixte (livraison de biens et prestation de services)",
            "Note : Merci pour votre confiance.",
        ],
    );
    assert!(!text.contains("TVA non applicable"), "{text}");
}

#[test]
fn a_business_buyer_sees_the_recovery_indemnity() {
    let text = page_text(&business_invoice());
    assert!(text.contains("frais de recouvrement de 40 €"), "{text}");
    assert!(text.contains("Pénalités de retard"), "{text}");
}

#[test]
fn a_private_buyer_sees_no_recovery_indemnity_nor_penalty_rate() {
    let text = page_text(&private_invoice());
    assert_mentions(
        &text,
        &[
            "Facture n° BS-2026-000004",
            "Élodie Lefèvre",
            "8 impasse des Lilas",
            "33000 Bordeaux",
            "Date de la prestation : 28 novembre 2026",
            "Pas d'escompte pour paiement anticipé",
            "Nature de l'opération : prestation de services",
            "Déjà payé 216,00 €",
            "Net à payer 0,00 €",
            "PAYÉ",
        ],
    );
    assert!(!text.contains("recouvrement"), "{text}");
    assert!(!text.contains("Pénalités"), "{text}");
    assert!(!text.contains("SIREN : 987"), "{text}");
}

#[test]
fn a_seller_under_the_franchise_prints_the_293_b_mention_and_no_vat() {
    let text = page_text(&franchise_invoice());
    assert_mentions(
        &text,
        &[
            "Paul Girard",
            "EI",
            "RCS Nantes 123 456 789",
            "TVA non applicable, art. 293 B du CGI",
            "0 %",
            "Total TVA 0,00 €",
            "Total TTC 600,00 €",
        ],
    );
    assert!(!text.contains("N° TVA intracommunautaire : FR32"), "{text}");
    assert!(!text.contains("taxe d'après les débits"), "{text}");
}

#[test]
fn the_delivery_address_is_printed_only_when_it_differs() {
    let mut doc = business_invoice();
    doc.buyer.delivery_address = Some(doc.buyer.billing_address.clone());
    let text = page_text(&doc);
    assert!(!text.contains("Adresse de livraison"), "{text}");
}

#[test]
fn a_credit_note_shows_its_number_and_the_invoice_it_corrects() {
    let text = page_text(&credit_note());
    assert_mentions(
        &text,
        &[
            "Credit note no. AV-2026-000001",
            "(original invoice no. BS-2026-000003 of 30 November 2026)",
            "Issue date: 5 December 2026",
            "Total excl. VAT €1,300.00",
            "Total VAT €260.00",
            "Total incl. VAT €1,560.00",
            "Amount to refund €1,560.00",
        ],
    );
}

#[test]
fn an_english_invoice_has_every_mention_in_english() {
    let mut doc = business_invoice();
    doc.language = invoice_documents::Language::En;
    let text = page_text(&doc);
    assert_mentions(
        &text,
        &[
            "Invoice no. BS-2026-000003",
            "SAS with a share capital of €10,000.00",
            "Service period: from 1 November 2026 to 30 November 2026",
            "Due date: 30 December 2026",
            "Unit price excl. VAT",
            "Total incl. VAT €9,435.82",
            "Late payment penalties: annual rate of 12.15%",
            "Fixed compensation for recovery costs of €40",
            "No discount for early payment",
            "Option for payment of VAT on debits",
            "Nature of the operation: mixed (supply of goods and services)",
            "VAT no.: FR45987654321",
        ],
    );
}
