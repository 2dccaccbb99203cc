//! Custom invoices: created with billstream's validated lines at the provider, then finalized,
//! paid, voided or sent there; every answer (and every `invoice.*` webhook) brings the Invoice
//! aggregate forward to the provider's state. Invoices the provider makes on its own
//! (subscription periods) are adopted from their webhooks.

pub mod numbering;

use std::collections::HashMap;
use std::sync::Arc;

use aggregates::invoice::{
    lines::check_line_count, CollectionMethod, CreateInvoice, InvoiceCommand, InvoiceError,
    InvoiceLine, InvoiceNumber, InvoiceStatus, InvoiceTotals,
};
use aggregates::money::Currency;
use aggregates::ValidationError;
use chrono::Utc;
use cqrs_es::AggregateError;
use projections::{CustomerProfiles, InvoiceRow, Invoices, Projector};
use sqlx::SqlitePool;
use uuid::Uuid;

use crate::error::AppError;
use crate::pdf::{self, InvoiceDocument, Seller};
use crate::provider::{NewInvoice, PaymentProvider, ProviderInvoice};
use crate::store::InvoiceCqrs;
use crate::usecases::common::command_metadata;
use crate::usecases::common::stripe_customer_id;
use crate::usecases::payments::{decode_cursor, encode_cursor};
use crate::usecases::provider_state::invoice_state;
use crate::usecases::provider_state::unix_time;
use numbering::{apply_provider_state, NumberingError};

/// Longest payment term, in days.
pub const MAX_DUE_DAYS: i64 = 365;
/// Longest memo, in characters.
const MAX_MEMO_CHARS: usize = 2_000;

/// Namespace of invoice ids derived from an Idempotency-Key.
const FROM_IDEMPOTENCY_KEY: Uuid = Uuid::from_u128(0x7c3a_1e90_d24b_4b5e_8f61_03a9_c5e7_b218);
/// Namespace of invoice ids for invoices born at the provider.
const BORN_AT_PROVIDER: Uuid = Uuid::from_u128(0x0e6b_5f2d_91c4_4a07_b38e_6d1f_a9c2_7e45);

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

fn invoice_failure(error: AggregateError<InvoiceError>) -> AppError {
    match error {
        AggregateError::UserError(InvoiceError::NotCreated) => AppError::NotFound,
        AggregateError::UserError(other) => AppError::InvalidState(other.to_string()),
        AggregateError::AggregateConflict => AppError::Conflict,
        other => AppError::internal(other),
    }
}

fn numbering_failure(error: NumberingError) -> AppError {
    match error {
        NumberingError::Invoice(InvoiceError::NotCreated) => AppError::NotFound,
        NumberingError::Invoice(other) => AppError::InvalidState(other.to_string()),
        NumberingError::Contention => AppError::Conflict,
        NumberingError::Store(reason) => AppError::internal(std::io::Error::other(reason)),
    }
}

/// The invoice use cases.
pub struct InvoiceService {
    pool: SqlitePool,
    provider: Arc<dyn PaymentProvider>,
    cqrs: Arc<InvoiceCqrs>,
    projector: Arc<Projector>,
}

/// The invoice actions that go to the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceAction {
    Finalize,
    Void,
    Send,
}

impl InvoiceService {
    pub fn new(
        pool: SqlitePool,
        provider: Arc<dyn PaymentProvider>,
        cqrs: Arc<InvoiceCqrs>,
        projector: Arc<Projector>,
    ) -> Self {
        Self {
            pool,
            provider,
            cqrs,
            projector,
        }
    }

    async fn read(&self, invoice_id: &str) -> Result<InvoiceRow, AppError> {
        self.projector
            .catch_up()
            .await
            .map_err(AppError::internal)?;
        Invoices::find(&self.pool, invoice_id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// The customer's invoice (404 for anyone else's).
    pub async fn owned(&self, customer_id: &str, invoice_id: &str) -> Result<InvoiceRow, AppError> {
        Invoices::find(&self.pool, invoice_id)
            .await?
            .filter(|row| row.customer_id == customer_id)
            .ok_or(AppError::NotFound)
    }

    /// A page of the customer's invoices, newest first, and the cursor of the next page.
    pub async fn list(
        &self,
        customer_id: &str,
        status: Option<&str>,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<(Vec<InvoiceRow>, Option<String>), AppError> {
        let limit = limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(ValidationError::new("limit", "must be from 1 to 100").into());
        }
        if status.is_some_and(|status| InvoiceStatus::parse(status).is_none()) {
            return Err(ValidationError::new(
                "status",
                "must be draft, open, paid, void or uncollectible",
            )
            .into());
        }
        let before = cursor.map(decode_cursor).transpose()?;
        let mut rows = Invoices::list(&self.pool, customer_id, status, before, limit + 1).await?;
        let next = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|last| encode_cursor(last.created_position))
        } else {
            None
        };
        Ok((rows, next))
    }

    /// The customer's invoice as a PDF made by billstream.
    pub async fn pdf(
        &self,
        customer_id: &str,
        invoice_id: &str,
        seller: &Seller,
    ) -> Result<Vec<u8>, AppError> {
        let row = self.owned(customer_id, invoice_id).await?;
        let customer = CustomerProfiles::find_by_id(&self.pool, customer_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let lines: Vec<InvoiceLine> =
            serde_json::from_str(&row.lines).map_err(AppError::internal)?;
        let currency = Currency::parse("currency", &row.currency)?;
        let document = InvoiceDocument {
            seller: seller.clone(),
            customer_name: customer.name,
            customer_email: customer.email,
            number: row.number.clone(),
            issued_on: row
                .finalized_at
                .as_deref()
                .unwrap_or(&row.created_at)
                .chars()
                .take(10)
                .collect(),
            due_on: row.due_date.clone(),
            currency,
            lines,
            subtotal: row.subtotal,
            tax: row.tax,
            total: row.total,
            paid: row.status == "paid",
            memo: row.memo.clone(),
        };
        Ok(pdf::render(&document))
    }

    /// Creates an invoice for the customer (and finalizes it when asked).
    pub async fn create(
        &self,
        customer_id: &str,
        request: NewInvoiceRequest,
        request_id: Option<&str>,
    ) -> Result<InvoiceRow, AppError> {
        let valid = validate(&request)?;
        let provider_customer = stripe_customer_id(&self.pool, customer_id).await?;
        let invoice_id = match &request.idempotency_key {
            Some(key) => Uuid::new_v5(
                &FROM_IDEMPOTENCY_KEY,
                format!("{customer_id}/{key}").as_bytes(),
            ),
            None => Uuid::new_v4(),
        }
        .to_string();
        if let Some(existing) = Invoices::find(&self.pool, &invoice_id).await? {
            return Ok(existing);
        }
        let provider = self
            .provider
            .create_invoice(
                &NewInvoice {
                    invoice_id: invoice_id.clone(),
                    stripe_customer_id: provider_customer,
                    currency: valid.currency.code().to_owned(),
                    lines: valid.lines.clone(),
                    memo: valid.memo.clone(),
                    due_days: valid.due_days,
                    collection_method: valid.collection_method,
                },
                &format!("invoice-create-{invoice_id}"),
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
            .cqrs
            .execute_with_metadata(&invoice_id, command, command_metadata(request_id))
            .await
        {
            // A retry with the same Idempotency-Key that raced the first: the invoice exists.
            Ok(()) | Err(AggregateError::UserError(InvoiceError::AlreadyCreated)) => {}
            Err(other) => return Err(invoice_failure(other)),
        }
        if request.finalize {
            return self
                .act(
                    customer_id,
                    &invoice_id,
                    InvoiceAction::Finalize,
                    request_id,
                )
                .await;
        }
        self.read(&invoice_id).await
    }

    /// Finalizes, voids or sends the customer's invoice at the provider, then records it.
    pub async fn act(
        &self,
        customer_id: &str,
        invoice_id: &str,
        action: InvoiceAction,
        request_id: Option<&str>,
    ) -> Result<InvoiceRow, AppError> {
        let row = self.owned(customer_id, invoice_id).await?;
        let stripe_id = row.stripe_invoice_id.clone().ok_or_else(|| {
            AppError::InvalidState("this invoice is not known to the payment provider".into())
        })?;
        let expected = match action {
            InvoiceAction::Finalize => "draft",
            InvoiceAction::Void | InvoiceAction::Send => "open",
        };
        let void_uncollectible = action == InvoiceAction::Void && row.status == "uncollectible";
        if row.status != expected && !void_uncollectible {
            return Err(AppError::InvalidState(format!(
                "this invoice is {}; it must be {expected}",
                row.status
            )));
        }
        let provider = match action {
            InvoiceAction::Finalize => {
                self.provider
                    .finalize_invoice(&stripe_id, &format!("invoice-finalize-{invoice_id}"))
                    .await?
            }
            InvoiceAction::Void => {
                self.provider
                    .void_invoice(&stripe_id, &format!("invoice-void-{invoice_id}"))
                    .await?
            }
            InvoiceAction::Send => {
                let key = format!("invoice-send-{invoice_id}-{}", Uuid::new_v4());
                let sent = self.provider.send_invoice(&stripe_id, &key).await?;
                self.cqrs
                    .execute_with_metadata(
                        invoice_id,
                        InvoiceCommand::Send { at: Utc::now() },
                        command_metadata(request_id),
                    )
                    .await
                    .map_err(invoice_failure)?;
                sent
            }
        };
        self.apply(invoice_id, &provider, request_id).await?;
        self.read(invoice_id).await
    }

    /// Collects the customer's open invoice now.
    pub async fn pay(
        &self,
        customer_id: &str,
        invoice_id: &str,
        payment_method: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<InvoiceRow, AppError> {
        let row = self.owned(customer_id, invoice_id).await?;
        if !matches!(row.status.as_str(), "draft" | "open" | "uncollectible") {
            return Err(AppError::InvalidState(format!(
                "this invoice is {}; it cannot be paid",
                row.status
            )));
        }
        if payment_method.is_some_and(|m| m.trim().is_empty() || m.len() > 255) {
            return Err(
                ValidationError::new("payment_method", "must be a payment method id").into(),
            );
        }
        let stripe_id = row.stripe_invoice_id.clone().ok_or_else(|| {
            AppError::InvalidState("this invoice is not known to the payment provider".into())
        })?;
        let key = format!("invoice-pay-{invoice_id}-{}", Uuid::new_v4());
        let provider = self
            .provider
            .pay_invoice(&stripe_id, payment_method, &key)
            .await?;
        self.apply(invoice_id, &provider, request_id).await?;
        self.read(invoice_id).await
    }

    /// Brings invoice `invoice_id` forward to what the provider reports.
    pub async fn apply(
        &self,
        invoice_id: &str,
        provider: &ProviderInvoice,
        request_id: Option<&str>,
    ) -> Result<(), AppError> {
        self.apply_with_metadata(invoice_id, provider, command_metadata(request_id))
            .await
    }

    /// Like `apply`, with the event metadata given.
    pub async fn apply_with_metadata(
        &self,
        invoice_id: &str,
        provider: &ProviderInvoice,
        metadata: HashMap<String, String>,
    ) -> Result<(), AppError> {
        let placeholder = InvoiceNumber::sequential(0, 0);
        let Some(state) = invoice_state(provider, placeholder, Utc::now()) else {
            return Ok(());
        };
        apply_provider_state(&self.cqrs, &self.pool, invoice_id, state, metadata)
            .await
            .map_err(numbering_failure)
    }

    /// The billstream id of a provider invoice, recording it first when the provider made it
    /// on its own (a subscription period). `None` while billstream's own creation of it is not
    /// committed yet.
    pub async fn adopt(
        &self,
        customer_id: &str,
        provider: &ProviderInvoice,
        metadata: HashMap<String, String>,
    ) -> Result<Option<String>, AppError> {
        if let Some(row) = Invoices::find_by_stripe_id(&self.pool, &provider.id).await? {
            return Ok(Some(row.invoice_id));
        }
        if let Some(ours) = &provider.billstream_id {
            return Ok(Invoices::find(&self.pool, ours)
                .await?
                .map(|row| row.invoice_id));
        }
        let invoice_id = Uuid::new_v5(&BORN_AT_PROVIDER, provider.id.as_bytes()).to_string();
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
        match self
            .cqrs
            .execute_with_metadata(&invoice_id, command, metadata)
            .await
        {
            Ok(()) | Err(AggregateError::UserError(InvoiceError::AlreadyCreated)) => {
                Ok(Some(invoice_id))
            }
            Err(AggregateError::AggregateConflict) => Ok(Some(invoice_id)),
            Err(other) => Err(invoice_failure(other)),
        }
    }
}
