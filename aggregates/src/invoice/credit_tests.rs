//! Given / when / then for credit notes: full and partial, within what is left to credit,
//! cancelling an unpaid invoice or refunding a paid one.

use super::lines::InvoiceTotals;
use super::tests::{at, created, finalized, line, paid_event, pay, InvoiceTest};
use super::*;

fn issue(id: &str, sequence: i64, scope: CreditScope) -> InvoiceCommand {
    InvoiceCommand::IssueCreditNote(IssueCreditNote {
        credit_note_id: id.into(),
        number: CreditNoteNumber::sequential(2026, sequence),
        scope,
        reason: "Erreur de quantité".into(),
        at: at(40),
    })
}

fn lines(requested: &[(usize, i64)]) -> CreditScope {
    CreditScope::Lines(
        requested
            .iter()
            .map(|&(line, quantity)| CreditedQuantity { line, quantity })
            .collect(),
    )
}

fn credited_line(index: usize, quantity: i64, subtotal: i64, tax: i64) -> CreditNoteLine {
    let (description, unit_amount, tax_rate_bps) = match index {
        0 => ("Consulting", 1_000, 2_000),
        _ => ("Consulting", 333, 550),
    };
    CreditNoteLine {
        line: index,
        description: description.into(),
        quantity,
        unit_amount,
        tax_rate_bps,
        subtotal,
        tax,
        total: subtotal + tax,
    }
}

fn issued(
    id: &str,
    sequence: i64,
    lines: Vec<CreditNoteLine>,
    outcome: CreditOutcome,
) -> InvoiceEvent {
    let totals = credit::sum(&lines);
    InvoiceEvent::CreditNoteIssued {
        credit_note_id: id.into(),
        number: format!("AV-2026-{sequence:06}"),
        year: 2026,
        sequence,
        lines,
        totals,
        reason: "Erreur de quantité".into(),
        outcome,
        at: at(40),
    }
}

fn one_unit_of_the_first_line() -> InvoiceEvent {
    issued(
        "cn-1",
        1,
        vec![credited_line(0, 1, 1_000, 200)],
        CreditOutcome::ReducesAmountDue,
    )
}

#[test]
fn a_full_credit_note_cancels_an_open_invoice() {
    InvoiceTest::with(())
        .given(vec![created(), finalized()])
        .when(issue("cn-1", 1, CreditScope::Full))
        .then_expect_events(vec![
            issued(
                "cn-1",
                1,
                vec![
                    credited_line(0, 2, 2_000, 400),
                    credited_line(1, 1, 333, 18),
                ],
                CreditOutcome::CancelsInvoice,
            ),
            InvoiceEvent::InvoiceVoided { at: at(40) },
        ]);
}

#[test]
fn a_partial_credit_note_reduces_what_is_due() {
    InvoiceTest::with(())
        .given(vec![created(), finalized()])
        .when(issue("cn-1", 1, lines(&[(0, 1)])))
        .then_expect_events(vec![one_unit_of_the_first_line()]);
    // 2 751 − 1 200 credited: only the rest is paid.
    InvoiceTest::with(())
        .given(vec![created(), finalized(), one_unit_of_the_first_line()])
        .when(pay(2_751))
        .then_expect_error(InvoiceError::WrongAmount {
            paid: 2_751,
            due: 1_551,
        });
    InvoiceTest::with(())
        .given(vec![created(), finalized(), one_unit_of_the_first_line()])
        .when(pay(1_551))
        .then_expect_events(vec![InvoiceEvent::InvoicePaid {
            amount: 1_551,
            reference: "pi_1".into(),
            at: at(20),
        }]);
}

#[test]
fn the_note_crediting_the_rest_of_an_open_invoice_cancels_it() {
    InvoiceTest::with(())
        .given(vec![created(), finalized(), one_unit_of_the_first_line()])
        .when(issue("cn-2", 2, CreditScope::Full))
        .then_expect_events(vec![
            issued(
                "cn-2",
                2,
                vec![
                    credited_line(0, 1, 1_000, 200),
                    credited_line(1, 1, 333, 18),
                ],
                CreditOutcome::CancelsInvoice,
            ),
            InvoiceEvent::InvoiceVoided { at: at(40) },
        ]);
}

#[test]
fn a_credit_note_on_a_paid_invoice_is_refunded_and_the_invoice_stays_paid() {
    InvoiceTest::with(())
        .given(vec![created(), finalized(), paid_event()])
        .when(issue("cn-1", 1, CreditScope::Full))
        .then_expect_events(vec![issued(
            "cn-1",
            1,
            vec![
                credited_line(0, 2, 2_000, 400),
                credited_line(1, 1, 333, 18),
            ],
            CreditOutcome::Refund,
        )]);
}

#[test]
fn nothing_is_credited_twice() {
    let everything = issued(
        "cn-1",
        1,
        vec![
            credited_line(0, 2, 2_000, 400),
            credited_line(1, 1, 333, 18),
        ],
        CreditOutcome::Refund,
    );
    InvoiceTest::with(())
        .given(vec![created(), finalized(), paid_event(), everything])
        .when(issue("cn-2", 2, CreditScope::Full))
        .then_expect_error(InvoiceError::NothingToCredit);
    InvoiceTest::with(())
        .given(vec![created(), finalized(), one_unit_of_the_first_line()])
        .when(issue("cn-2", 2, lines(&[(0, 2)])))
        .then_expect_error(InvoiceError::QuantityOverCredited {
            line: 0,
            remaining: 1,
        });
}

#[test]
fn a_draft_or_a_void_invoice_cannot_be_credited() {
    InvoiceTest::with(())
        .given(vec![created()])
        .when(issue("cn-1", 1, CreditScope::Full))
        .then_expect_error(InvoiceError::NotCreditable("draft"));
    InvoiceTest::with(())
        .given(vec![
            created(),
            finalized(),
            InvoiceEvent::InvoiceVoided { at: at(30) },
        ])
        .when(issue("cn-1", 1, CreditScope::Full))
        .then_expect_error(InvoiceError::NotCreditable("void"));
}

#[test]
fn requested_lines_must_exist_once_with_a_positive_quantity() {
    let open = || InvoiceTest::with(()).given(vec![created(), finalized()]);
    open()
        .when(issue("cn-1", 1, lines(&[(2, 1)])))
        .then_expect_error(InvoiceError::NoSuchLine(2));
    open()
        .when(issue("cn-1", 1, lines(&[(0, 1), (0, 1)])))
        .then_expect_error(InvoiceError::LineTwice(0));
    open()
        .when(issue("cn-1", 1, lines(&[(0, 0)])))
        .then_expect_error(InvoiceError::QuantityOverCredited {
            line: 0,
            remaining: 2,
        });
    open()
        .when(issue("cn-1", 1, lines(&[])))
        .then_expect_error(InvoiceError::NothingToCredit);
}

#[test]
fn a_credit_note_id_is_used_once() {
    InvoiceTest::with(())
        .given(vec![created(), finalized(), one_unit_of_the_first_line()])
        .when(issue("cn-1", 2, lines(&[(1, 1)])))
        .then_expect_error(InvoiceError::CreditNoteExists);
}

#[test]
fn the_last_part_of_a_line_credits_what_rounding_left() {
    // 2 × 2 at 25 %: the invoice charged 4 + round(1.0) = 5. One unit alone would round
    // 0.5 up to 1, and so would the second: the second takes the 0 left instead.
    let invoice = InvoiceEvent::InvoiceCreated {
        customer_id: "cust-1".into(),
        currency: "eur".into(),
        lines: vec![line(2, 2, 2_500)],
        totals: InvoiceTotals {
            subtotal: 4,
            tax: 1,
            total: 5,
        },
        memo: None,
        due_days: 30,
        collection_method: CollectionMethod::SendInvoice,
        created_at: at(0),
        stripe_invoice_id: None,
        stripe_subscription_id: None,
    };
    let note = |id: &str, sequence: i64, tax: i64, outcome: CreditOutcome| {
        let mut credited = credited_line(0, 1, 2, tax);
        (credited.unit_amount, credited.tax_rate_bps) = (2, 2_500);
        issued(id, sequence, vec![credited], outcome)
    };
    let first = note("cn-1", 1, 1, CreditOutcome::ReducesAmountDue);
    InvoiceTest::with(())
        .given(vec![invoice.clone(), finalized()])
        .when(issue("cn-1", 1, lines(&[(0, 1)])))
        .then_expect_events(vec![first.clone()]);
    InvoiceTest::with(())
        .given(vec![invoice, finalized(), first])
        .when(issue("cn-2", 2, lines(&[(0, 1)])))
        .then_expect_events(vec![
            note("cn-2", 2, 0, CreditOutcome::CancelsInvoice),
            InvoiceEvent::InvoiceVoided { at: at(40) },
        ]);
}

#[test]
fn credit_note_numbers_are_zero_padded_per_year() {
    assert_eq!(CreditNoteNumber::sequential(2026, 7).text, "AV-2026-000007");
}

#[test]
fn a_credit_notes_document_is_recorded_once() {
    let record = |sha256: &str| InvoiceCommand::RecordCreditNoteDocument {
        credit_note_id: "cn-1".into(),
        document: RecordDocument {
            sha256: sha256.into(),
            at: at(50),
        },
    };
    let recorded = InvoiceEvent::CreditNoteDocumentIssued {
        credit_note_id: "cn-1".into(),
        sha256: "abc".into(),
        at: at(50),
    };
    let noted = || vec![created(), finalized(), one_unit_of_the_first_line()];
    InvoiceTest::with(())
        .given(noted())
        .when(record("abc"))
        .then_expect_events(vec![recorded.clone()]);
    let mut issued = noted();
    issued.push(recorded);
    InvoiceTest::with(())
        .given(issued.clone())
        .when(record("abc"))
        .then_expect_events(vec![]);
    InvoiceTest::with(())
        .given(issued)
        .when(record("def"))
        .then_expect_error(InvoiceError::DocumentAlreadyIssued);
    InvoiceTest::with(())
        .given(vec![created(), finalized()])
        .when(record("abc"))
        .then_expect_error(InvoiceError::NoSuchCreditNote);
}
