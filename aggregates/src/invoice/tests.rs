//! Given / when / then for invoices, and property tests for their arithmetic.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use proptest::prelude::*;

use super::lines::{check_line_count, totals, MAX_QUANTITY, MAX_TAX_RATE_BPS, MAX_UNIT_AMOUNT};
use super::*;
use crate::money::Currency;

pub(super) type InvoiceTest = TestFramework<Invoice>;

pub(super) fn at(second: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_780_000_000 + second, 0).unwrap()
}

pub(super) fn line(quantity: i64, unit_amount: i64, tax_rate_bps: i64) -> InvoiceLine {
    InvoiceLine::parse(0, "Consulting", quantity, unit_amount, Some(tax_rate_bps)).unwrap()
}

fn create_command() -> InvoiceCommand {
    InvoiceCommand::Create(CreateInvoice {
        customer_id: "cust-1".into(),
        currency: Currency::parse("currency", "eur").unwrap(),
        lines: vec![line(2, 1_000, 2_000), line(1, 333, 550)],
        memo: Some("Thanks".into()),
        due_days: 30,
        collection_method: CollectionMethod::SendInvoice,
        created_at: at(0),
        stripe_invoice_id: Some("in_1".into()),
        stripe_subscription_id: None,
        provider_totals: None,
    })
}

pub(super) fn created() -> InvoiceEvent {
    InvoiceEvent::InvoiceCreated {
        customer_id: "cust-1".into(),
        currency: "eur".into(),
        lines: vec![line(2, 1_000, 2_000), line(1, 333, 550)],
        // 2000 + 400 tax; 333 + round(18.315) = 18 tax
        totals: InvoiceTotals {
            subtotal: 2_333,
            tax: 418,
            total: 2_751,
        },
        memo: Some("Thanks".into()),
        due_days: 30,
        collection_method: CollectionMethod::SendInvoice,
        created_at: at(0),
        stripe_invoice_id: Some("in_1".into()),
        stripe_subscription_id: None,
    }
}

pub(super) fn finalized() -> InvoiceEvent {
    InvoiceEvent::InvoiceFinalized {
        number: "BS-2026-000001".into(),
        year: Some(2026),
        sequence: Some(1),
        due_date: NaiveDate::from_ymd_opt(2026, 12, 23).unwrap(),
        at: at(10),
        hosted_invoice_url: None,
        pdf_url: None,
    }
}

fn provider_state(status: InvoiceStatus) -> InvoiceProviderState {
    InvoiceProviderState {
        status,
        number: InvoiceNumber::sequential(2026, 1),
        finalized_at: at(10),
        due_date: NaiveDate::from_ymd_opt(2026, 12, 23).unwrap(),
        hosted_invoice_url: None,
        pdf_url: None,
        amount_paid: if status == InvoiceStatus::Paid {
            2_751
        } else {
            0
        },
        payment_reference: Some("pi_1".into()),
        paid_at: at(20),
        at: at(20),
        payment_failure: None,
    }
}

pub(super) fn paid_event() -> InvoiceEvent {
    InvoiceEvent::InvoicePaid {
        amount: 2_751,
        reference: "pi_1".into(),
        at: at(20),
    }
}

fn finalize() -> InvoiceCommand {
    InvoiceCommand::Finalize(FinalizeInvoice {
        number: InvoiceNumber::sequential(2026, 1),
        finalized_at: at(10),
        due_date: NaiveDate::from_ymd_opt(2026, 12, 23).unwrap(),
    })
}

pub(super) fn pay(amount: i64) -> InvoiceCommand {
    InvoiceCommand::RecordPayment(RecordInvoicePayment {
        amount,
        reference: "pi_1".into(),
        paid_at: at(20),
    })
}

#[test]
fn creating_an_invoice_records_its_lines_and_totals() {
    InvoiceTest::with(())
        .given_no_previous_events()
        .when(create_command())
        .then_expect_events(vec![created()]);
}

#[test]
fn a_draft_is_finalized_with_its_number() {
    InvoiceTest::with(())
        .given(vec![created()])
        .when(finalize())
        .then_expect_events(vec![finalized()]);
}

#[test]
fn an_open_invoice_cannot_be_finalized_again() {
    InvoiceTest::with(())
        .given(vec![created(), finalized()])
        .when(finalize())
        .then_expect_error(InvoiceError::NotDraft("open"));
}

#[test]
fn an_open_invoice_is_paid_in_full() {
    InvoiceTest::with(())
        .given(vec![created(), finalized()])
        .when(pay(2_751))
        .then_expect_events(vec![InvoiceEvent::InvoicePaid {
            amount: 2_751,
            reference: "pi_1".into(),
            at: at(20),
        }]);
}

#[test]
fn a_partial_payment_is_refused() {
    InvoiceTest::with(())
        .given(vec![created(), finalized()])
        .when(pay(2_000))
        .then_expect_error(InvoiceError::WrongAmount {
            paid: 2_000,
            due: 2_751,
        });
}

#[test]
fn a_draft_cannot_be_paid_or_sent() {
    for command in [pay(2_751), InvoiceCommand::Send { at: at(5) }] {
        InvoiceTest::with(())
            .given(vec![created()])
            .when(command)
            .then_expect_error(InvoiceError::NotOpen("draft"));
    }
}

#[test]
fn a_draft_is_voided() {
    InvoiceTest::with(())
        .given(vec![created()])
        .when(InvoiceCommand::Void { at: at(5) })
        .then_expect_events(vec![InvoiceEvent::InvoiceVoided { at: at(5) }]);
}

#[test]
fn a_finalized_invoice_cannot_be_voided_only_credited() {
    for (given, status) in [
        (vec![created(), finalized()], "open"),
        (vec![created(), finalized(), paid_event()], "paid"),
        (
            vec![
                created(),
                finalized(),
                InvoiceEvent::InvoiceMarkedUncollectible { at: at(15) },
            ],
            "uncollectible",
        ),
    ] {
        InvoiceTest::with(())
            .given(given)
            .when(InvoiceCommand::Void { at: at(30) })
            .then_expect_error(InvoiceError::NotVoidable(status));
    }
}

#[test]
fn an_uncollectible_invoice_may_still_be_paid() {
    InvoiceTest::with(())
        .given(vec![
            created(),
            finalized(),
            InvoiceEvent::InvoiceMarkedUncollectible { at: at(15) },
        ])
        .when(pay(2_751))
        .then_expect_events(vec![InvoiceEvent::InvoicePaid {
            amount: 2_751,
            reference: "pi_1".into(),
            at: at(20),
        }]);
}

#[test]
fn a_paid_report_on_a_draft_finalizes_then_pays() {
    InvoiceTest::with(())
        .given(vec![created()])
        .when(InvoiceCommand::ApplyProviderState(provider_state(
            InvoiceStatus::Paid,
        )))
        .then_expect_events(vec![finalized(), paid_event()]);
}

#[test]
fn the_same_report_twice_records_nothing_the_second_time() {
    InvoiceTest::with(())
        .given(vec![created(), finalized(), paid_event()])
        .when(InvoiceCommand::ApplyProviderState(provider_state(
            InvoiceStatus::Paid,
        )))
        .then_expect_events(vec![]);
}

#[test]
fn an_older_open_report_never_reopens_a_paid_invoice() {
    InvoiceTest::with(())
        .given(vec![created(), finalized(), paid_event()])
        .when(InvoiceCommand::ApplyProviderState(provider_state(
            InvoiceStatus::Open,
        )))
        .then_expect_events(vec![]);
}

#[test]
fn a_failed_attempt_is_recorded_once() {
    let failure = PaymentFailure {
        attempt_count: 1,
        message: "Your card was declined.".into(),
        next_payment_attempt: Some(1_780_259_200),
    };
    let mut report = provider_state(InvoiceStatus::Open);
    report.payment_failure = Some(failure.clone());
    let failed = InvoiceEvent::InvoicePaymentFailed {
        failure,
        at: at(20),
    };
    InvoiceTest::with(())
        .given(vec![created(), finalized()])
        .when(InvoiceCommand::ApplyProviderState(report.clone()))
        .then_expect_events(vec![failed.clone()]);
    InvoiceTest::with(())
        .given(vec![created(), finalized(), failed])
        .when(InvoiceCommand::ApplyProviderState(report))
        .then_expect_events(vec![]);
}

#[test]
fn a_void_report_voids_an_open_invoice() {
    InvoiceTest::with(())
        .given(vec![created(), finalized()])
        .when(InvoiceCommand::ApplyProviderState(provider_state(
            InvoiceStatus::Void,
        )))
        .then_expect_events(vec![InvoiceEvent::InvoiceVoided { at: at(20) }]);
}

#[test]
fn a_void_report_on_a_draft_voids_it_without_numbering_it() {
    InvoiceTest::with(())
        .given(vec![created()])
        .when(InvoiceCommand::ApplyProviderState(provider_state(
            InvoiceStatus::Void,
        )))
        .then_expect_events(vec![InvoiceEvent::InvoiceVoided { at: at(20) }]);
}

#[test]
fn billstreams_numbers_are_zero_padded_per_year() {
    assert_eq!(InvoiceNumber::sequential(2026, 42).text, "BS-2026-000042");
    assert_eq!(InvoiceNumber::from_provider("A1B2-0007").sequence, None);
}

#[test]
fn tax_is_rounded_half_up_per_line() {
    // 1 × 5 at 10 % = 0.5 → 1; 1 × 4 at 10 % = 0.4 → 0
    assert_eq!(line(1, 5, 1_000).amounts().tax, 1);
    assert_eq!(line(1, 4, 1_000).amounts().tax, 0);
    let lines = vec![line(1, 5, 1_000), line(1, 5, 1_000)];
    assert_eq!(
        totals(&lines).tax,
        2,
        "per line, not on the sum (which would give 1)"
    );
}

#[test]
fn invalid_lines_name_their_field() {
    let error = |q, u, t| InvoiceLine::parse(3, "x", q, u, Some(t)).unwrap_err().field;
    assert_eq!(error(0, 100, 0), "items[3].quantity");
    assert_eq!(error(1, 0, 0), "items[3].unit_amount");
    assert_eq!(error(1, 100, 10_001), "items[3].tax_rate_bps");
    assert_eq!(
        InvoiceLine::parse(3, "  ", 1, 100, None).unwrap_err().field,
        "items[3].description"
    );
    assert_eq!(check_line_count(0).unwrap_err().field, "items");
    assert_eq!(check_line_count(101).unwrap_err().field, "items");
}

fn any_line() -> impl Strategy<Value = InvoiceLine> {
    (1..=MAX_QUANTITY, 1..=MAX_UNIT_AMOUNT, 0..=MAX_TAX_RATE_BPS)
        .prop_map(|(quantity, unit_amount, tax)| line(quantity, unit_amount, tax))
}

proptest! {
    #[test]
    fn totals_are_the_sums_of_the_lines(lines in prop::collection::vec(any_line(), 1..=100)) {
        let sums = totals(&lines);
        prop_assert_eq!(sums.subtotal, lines.iter().map(|l| l.quantity * l.unit_amount).sum::<i64>());
        prop_assert_eq!(sums.total, sums.subtotal + sums.tax);
        prop_assert!(sums.tax >= 0 && sums.tax <= sums.subtotal);
    }

    #[test]
    fn line_tax_is_the_nearest_integer_rounding_halves_up(line in any_line()) {
        let amounts = line.amounts();
        // |tax × 10000 − subtotal × rate| ≤ 5000, and exactly 5000 only when rounding up.
        let exact = amounts.subtotal as i128 * line.tax_rate_bps as i128;
        let rounded = amounts.tax as i128 * 10_000;
        prop_assert!((rounded - exact).abs() <= 5_000);
        prop_assert!(rounded - exact != -5_000);
    }
}
