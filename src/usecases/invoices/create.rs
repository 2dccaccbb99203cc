//! Creating invoices: a customer's (validated here into domain lines, created at the provider,
//! then recorded), and the provider's own (a subscription period), adopted from its webhook.

use aggregates::invoice::{
    lines::check_line_count, CollectionMethod, CreateInvoice, InvoiceCommand, InvoiceError,
    InvoiceLine, InvoiceTotals,
};
use aggregates::money::Currency;
use aggregates::ValidationError;
use chrono::Utc;
use cqrs_es::AggregateError;
use projections::{InvoiceRow, Invoices};

use super::{InvoiceService, MAX_DUE_DAYS};
use crate::error::AppError;
use crate::provider::{NewInvoice, ProviderInvoice};
use crate::usecases::common::idempotency::{provider_key, DerivedId, Subject};
use crate::usecases::common::{command_metadata, stripe_customer_id, CommandMetadata};
use crate::usecases::provider_state::unix_time;

/// Longest memo, in characters.
const MAX_MEMO_CHARS: usize = 2_000;

/// One requested line, before validation.
#[derive(Debug, Clone)]
pub struct RequestedLine {
    pub description: String,
    pub quantity: i64,
    pub unit_amount: i64,
    pub tax_rate_bps: Option<i64>,
}

/// An invoice request, as the API received it.
#[derive(Debug, Clone)]
pub struct NewInvoiceRequest {
    pub currency: String,
    pub items: Vec<RequestedLine>,
    pub memo: Option<String>,
    pub due_days: Option<i64>,
    pub collection_method: Option<String>,
    pub finalize: bool,
    pub idempotency_key: Option<String>,
}

/// What the invoice request becomes once validated.
struct ValidInvoice {
    currency: Currency,
    lines: Vec<InvoiceLine>,
    memo: Option<String>,
    due_days: u32,
    collection_method: CollectionMethod,
}

fn validate(request: &NewInvoiceRequest) -> Result<ValidInvoice, ValidationError> {
    let currency = Currency::parse("currency", &request.currency)?;
    check_line_count(request.items.len())?;
    let lines = request
        .items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            InvoiceLine::parse(
                index,
                &item.description,
                item.quantity,
                item.unit_amount,
                item.tax_rate_bps,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let memo = request
        .memo
        .as_deref()
        .map(str::trim)
        .filter(|memo| !memo.is_empty())
        .map(str::to_owned);
    if memo
        .as_ref()
        .is_some_and(|memo| memo.chars().count() > MAX_MEMO_CHARS)
    {
        return Err(ValidationError::new(
            "memo",
            format!("must be at most {MAX_MEMO_CHARS} characters"),
        ));
    }
    let due_days = request.due_days.unwrap_or(30);
    if !(0..=MAX_DUE_DAYS).contains(&due_days) {
        return Err(ValidationError::new(
            "due_days",
            format!("must be a whole number of days from 0 to {MAX_DUE_DAYS}"),
        ));
    }
    let collection_method = match request.collection_method.as_deref() {
        None | Some("send_invoice") => CollectionMethod::SendInvoice,
        Some("charge_automatically") => CollectionMethod::ChargeAutomatically,
        Some(_) => {
            return Err(ValidationError::new(
                "collection_method",
                "must be \"charge_automatically\" or \"send_invoice\"",
            ))
        }
    };
    Ok(ValidInvoice {
        currency,
        lines,
        memo,
        due_days: due_days as u32,
        collection_method,
    })
}

impl InvoiceService {
    /// Creates an invoice for the customer (and finalizes it when asked).
    pub async fn create(
        &self,
        customer_id: &str,
        request: NewInvoiceRequest,
        request_id: Option<&str>,
    ) -> Result<InvoiceRow, AppError> {
        let valid = validate(&request)?;
        let stripe_customer = stripe_customer_id(&self.pool, customer_id).await?;
        let invoice_id = DerivedId::InvoiceFromClientKey
            .for_request(customer_id, request.idempotency_key.as_deref());
        if let Some(existing) = Invoices::find(&self.pool, &invoice_id).await? {
            return Ok(existing);
        }
        let provider = self
            .provider
            .create_invoice(
                &NewInvoice {
                    invoice_id: invoice_id.clone(),
                    stripe_customer_id: stripe_customer,
                    currency: valid.currency.code().to_owned(),
                    lines: valid.lines.clone(),
                    memo: valid.memo.clone(),
                    due_days: valid.due_days,
                    collection_method: valid.collection_method,
                },
                &provider_key(Subject::Invoice, &invoice_id, "create"),
            )
            .await?;
        let command = InvoiceCommand::Create(CreateInvoice {
            customer_id: customer_id.to_owned(),
            currency: valid.currency,
            lines: valid.lines,
            memo: valid.memo,
            due_days: valid.due_days,
            collection_method: valid.collection_method,
            created_at: Utc::now(),
            stripe_invoice_id: Some(provider.id.clone()),
            stripe_subscription_id: None,
            provider_totals: None,
        });
        match self
            .commands
            .execute(&invoice_id, command, command_metadata(request_id))
            .await
        {
            // A retry with the same Idempotency-Key that raced the first: the invoice exists.
            Ok(()) | Err(AggregateError::UserError(InvoiceError::AlreadyCreated)) => {}
            Err(other) => return Err(other.into()),
        }
        if request.finalize {
            return self
                .act(
                    customer_id,
                    &invoice_id,
                    aggregates::invoice::InvoiceAction::Finalize,
                    request_id,
                )
                .await;
        }
        self.read(&invoice_id).await
    }

    /// The billstream id of a provider invoice, recording it first when the provider made it
    /// on its own (a subscription period). `None` while billstream's own creation of it is not
    /// committed yet.
    pub async fn adopt(
        &self,
        customer_id: &str,
        provider: &ProviderInvoice,
        metadata: CommandMetadata,
    ) -> Result<Option<String>, AppError> {
        if let Some(row) = Invoices::find_by_stripe_id(&self.pool, &provider.id).await? {
            return Ok(Some(row.invoice_id));
        }
        if let Some(ours) = &provider.billstream_id {
            return Ok(Invoices::find(&self.pool, ours)
                .await?
                .map(|row| row.invoice_id));
        }
        let invoice_id = DerivedId::InvoiceBornAtProvider.of(&provider.id);
        let lines = provider
            .lines
            .iter()
            .map(|line| {
                let (quantity, unit_amount) = if line.amount % line.quantity == 0 {
                    (line.quantity, line.amount / line.quantity)
                } else {
                    (1, line.amount)
                };
                InvoiceLine {
                    description: line.description.clone(),
                    quantity,
                    unit_amount,
                    tax_rate_bps: 0,
                }
            })
            .collect();
        let currency = Currency::parse("currency", &provider.currency)
            .map_err(|error| AppError::internal(std::io::Error::other(error.to_string())))?;
        let command = InvoiceCommand::Create(CreateInvoice {
            customer_id: customer_id.to_owned(),
            currency,
            lines,
            memo: provider.memo.clone(),
            due_days: 0,
            collection_method: if provider.collection_method == "send_invoice" {
                CollectionMethod::SendInvoice
            } else {
                CollectionMethod::ChargeAutomatically
            },
            created_at: unix_time(provider.created),
            stripe_invoice_id: Some(provider.id.clone()),
            stripe_subscription_id: provider.subscription.clone(),
            provider_totals: Some(InvoiceTotals {
                subtotal: provider.subtotal,
                tax: provider.tax,
                total: provider.total,
            }),
        });
        match self.commands.execute(&invoice_id, command, metadata).await {
            Ok(())
            | Err(AggregateError::UserError(InvoiceError::AlreadyCreated))
            | Err(AggregateError::AggregateConflict) => Ok(Some(invoice_id)),
            Err(other) => Err(other.into()),
        }
    }
}
