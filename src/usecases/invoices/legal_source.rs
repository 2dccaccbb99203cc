//! What an issued invoice says, taken from the event log alone: the invoice's own events, the
//! customer as it stood when the invoice was finalized (name, billing details, language —
//! later profile changes come after that position in the log and are not read), and the
//! seller. Issuing late (after a crash, or on the first download) therefore renders exactly
//! what issuing at finalization would have.

use aggregates::customer::{BillingDetails, Customer, CustomerEvent, MailLanguage};
use aggregates::invoice::{InvoiceEvent, InvoiceLine, InvoiceTotals};
use chrono::{DateTime, NaiveDate, Utc};
use cqrs_es::Aggregate;
use invoice_documents::{
    Address, BusinessDetails, Buyer, DocumentKind, InvoiceDocument, Language, Line, OperationKind,
    Seller, ServiceDate, Totals,
};
use projections::event_log::{self, EventFilter};
use projections::StoredEvent;
use sqlx::SqlitePool;

use crate::error::AppError;

/// What the invoice's events hold for its document.
struct Issued {
    customer_id: String,
    currency: String,
    lines: Vec<InvoiceLine>,
    totals: InvoiceTotals,
    memo: Option<String>,
    number: String,
    due_date: NaiveDate,
    finalized_at: DateTime<Utc>,
    /// Global position of `InvoiceFinalized`.
    position: i64,
}

/// The customer as of a position in the log.
struct BuyerAsOf {
    email: String,
    customer: Customer,
}

/// Everything to render the legal document of finalized invoice `invoice_id`, or `None` while
/// it is a draft.
pub async fn legal_document(
    pool: &SqlitePool,
    invoice_id: &str,
    seller: &Seller,
    default_language: Language,
) -> Result<Option<InvoiceDocument>, AppError> {
    let Some(issued) = invoice_facts(pool, invoice_id).await? else {
        return Ok(None);
    };
    let buyer = customer_as_of(pool, &issued.customer_id, issued.position).await?;
    let language = match buyer.customer.language() {
        Some(MailLanguage::En) => Language::En,
        Some(MailLanguage::Fr) => Language::Fr,
        None => default_language,
    };
    let issue_date = issued.finalized_at.date_naive();
    let lines: Vec<Line> = issued
        .lines
        .iter()
        .map(|line| {
            let amounts = line.amounts();
            // A provider's credit line (a plan change's unused time) has a negative amount:
            // EN 16931 wants it as a negative quantity at a positive price (BR-27).
            let (quantity, unit_price) = if line.unit_amount < 0 {
                (-line.quantity, -line.unit_amount)
            } else {
                (line.quantity, line.unit_amount)
            };
            Line {
                description: line.description.clone(),
                quantity,
                unit_price,
                vat_rate_bps: u32::try_from(line.tax_rate_bps).unwrap_or(u32::MAX),
                subtotal: amounts.subtotal,
                vat: amounts.tax,
            }
        })
        .collect();
    // The aggregate's totals, as booked: the documents crate refuses them if the lines do not
    // add up to them (a provider's invoice with amounts billstream did not compute), rather
    // than print a document that disagrees with the books.
    let InvoiceTotals {
        subtotal,
        tax,
        total,
    } = issued.totals;
    Ok(Some(InvoiceDocument {
        kind: DocumentKind::Invoice,
        number: issued.number,
        issue_date,
        service: ServiceDate::Day(issue_date),
        due_date: issued.due_date,
        language,
        currency: issued.currency.to_ascii_uppercase(),
        seller: seller.clone(),
        buyer: buyer_of(&buyer, seller),
        operation: OperationKind::Services,
        lines,
        totals: Totals {
            subtotal,
            tax,
            total,
            // The document is issued at finalization: a later payment is a fact of the books,
            // not a change of the invoice.
            amount_paid: 0,
            amount_due: total,
        },
        paid: false,
        memo: issued.memo,
        document_id: invoice_id.to_owned(),
        created_at: issued.finalized_at.naive_utc(),
    }))
}

/// The buyer block: the company for a business customer, the billing address if given (else
/// only the seller's country, which is all EN 16931 requires of a private buyer).
fn buyer_of(buyer: &BuyerAsOf, seller: &Seller) -> Buyer {
    let billing = buyer.customer.billing().cloned().unwrap_or(BillingDetails {
        company_name: None,
        siren: None,
        vat_number: None,
        address: None,
    });
    let billing_address = match billing.address {
        Some(address) => Address {
            line1: address.line1,
            line2: address.line2,
            postal_code: address.postal_code,
            city: address.city,
            country: address.country,
        },
        None => Address {
            line1: String::new(),
            line2: None,
            postal_code: String::new(),
            city: String::new(),
            country: seller.address.country.clone(),
        },
    };
    Buyer {
        name: buyer.customer.name().unwrap_or_default().to_owned(),
        email: buyer.email.clone(),
        business: billing.company_name.map(|company_name| BusinessDetails {
            company_name,
            siren: billing.siren,
            vat_number: billing.vat_number,
        }),
        billing_address,
        delivery_address: None,
    }
}

async fn events_of(
    pool: &SqlitePool,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Vec<StoredEvent>, AppError> {
    let mut conn = pool.acquire().await?;
    let filter = EventFilter {
        aggregate_type: Some(aggregate_type.to_owned()),
        aggregate_id: Some(aggregate_id.to_owned()),
        ..EventFilter::default()
    };
    Ok(event_log::read(&mut conn, &filter, 0, i64::MAX).await?)
}

async fn invoice_facts(pool: &SqlitePool, invoice_id: &str) -> Result<Option<Issued>, AppError> {
    let mut created = None;
    for stored in events_of(pool, "Invoice", invoice_id).await? {
        let event: InvoiceEvent = stored.decode().map_err(AppError::internal)?;
        match event {
            InvoiceEvent::InvoiceCreated {
                customer_id,
                currency,
                lines,
                totals,
                memo,
                ..
            } => created = Some((customer_id, currency, lines, totals, memo)),
            InvoiceEvent::InvoiceFinalized {
                number,
                due_date,
                at,
                ..
            } => {
                let Some((customer_id, currency, lines, totals, memo)) = created else {
                    return Ok(None);
                };
                return Ok(Some(Issued {
                    customer_id,
                    currency,
                    lines,
                    totals,
                    memo,
                    number,
                    due_date,
                    finalized_at: at,
                    position: stored.position,
                }));
            }
            _ => {}
        }
    }
    Ok(None)
}

async fn customer_as_of(
    pool: &SqlitePool,
    customer_id: &str,
    position: i64,
) -> Result<BuyerAsOf, AppError> {
    let mut customer = Customer::default();
    let mut email = String::new();
    for stored in events_of(pool, Customer::TYPE, customer_id).await? {
        if stored.position > position {
            break;
        }
        let event: CustomerEvent = stored.decode().map_err(AppError::internal)?;
        if let CustomerEvent::CustomerRegistered {
            email: registered, ..
        } = &event
        {
            email = registered.clone();
        }
        customer.apply(event);
    }
    Ok(BuyerAsOf { email, customer })
}
