//! Invoice lines and their arithmetic: integer minor units, tax rounded per line.
//!
//! For each line: `subtotal = quantity × unit_amount`, `tax = round_half_up(subtotal ×
//! tax_rate_bps / 10 000)`; the invoice's subtotal, tax and total are the sums of its lines'.

use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// Most lines on one invoice.
pub const MAX_LINES: usize = 100;
/// Largest quantity on one line.
pub const MAX_QUANTITY: i64 = 10_000;
/// Largest unit amount (minor units).
pub const MAX_UNIT_AMOUNT: i64 = 99_999_999;
/// Largest tax rate, in basis points (100 %).
pub const MAX_TAX_RATE_BPS: i64 = 10_000;

/// One validated line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceLine {
    pub description: String,
    pub quantity: i64,
    pub unit_amount: i64,
    pub tax_rate_bps: i64,
}

/// A line's amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineAmounts {
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
}

/// An invoice's amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InvoiceTotals {
    pub subtotal: i64,
    pub tax: i64,
    pub total: i64,
}

impl InvoiceLine {
    /// Validates line `index` (named `items[index].field` in errors).
    pub fn parse(
        index: usize,
        description: &str,
        quantity: i64,
        unit_amount: i64,
        tax_rate_bps: Option<i64>,
    ) -> Result<Self, ValidationError> {
        let field = |name: &str| format!("items[{index}].{name}");
        let description = description.trim();
        if description.is_empty() || description.chars().count() > 500 {
            return Err(ValidationError::new(
                field("description"),
                "must be 1 to 500 characters",
            ));
        }
        if !(1..=MAX_QUANTITY).contains(&quantity) {
            return Err(ValidationError::new(
                field("quantity"),
                format!("must be an integer from 1 to {MAX_QUANTITY}"),
            ));
        }
        if !(1..=MAX_UNIT_AMOUNT).contains(&unit_amount) {
            return Err(ValidationError::new(
                field("unit_amount"),
                format!("must be an integer number of minor units from 1 to {MAX_UNIT_AMOUNT}"),
            ));
        }
        let tax_rate_bps = tax_rate_bps.unwrap_or(0);
        if !(0..=MAX_TAX_RATE_BPS).contains(&tax_rate_bps) {
            return Err(ValidationError::new(
                field("tax_rate_bps"),
                "must be basis points from 0 to 10000 (2000 is 20 %)",
            ));
        }
        Ok(Self {
            description: description.to_owned(),
            quantity,
            unit_amount,
            tax_rate_bps,
        })
    }

    /// The line's subtotal, tax (rounded half up) and total.
    pub fn amounts(&self) -> LineAmounts {
        let subtotal = self.quantity * self.unit_amount;
        // Both factors are non-negative and bounded, so this cannot overflow an i64.
        let tax = (subtotal * self.tax_rate_bps + MAX_TAX_RATE_BPS / 2) / MAX_TAX_RATE_BPS;
        LineAmounts {
            subtotal,
            tax,
            total: subtotal + tax,
        }
    }
}

/// Checks the number of lines.
pub fn check_line_count(count: usize) -> Result<(), ValidationError> {
    if count == 0 {
        return Err(ValidationError::new("items", "must have at least one line"));
    }
    if count > MAX_LINES {
        return Err(ValidationError::new(
            "items",
            format!("must have at most {MAX_LINES} lines"),
        ));
    }
    Ok(())
}

/// The sums over `lines`.
pub fn totals(lines: &[InvoiceLine]) -> InvoiceTotals {
    lines
        .iter()
        .map(InvoiceLine::amounts)
        .fold(InvoiceTotals::default(), |sum, line| InvoiceTotals {
            subtotal: sum.subtotal + line.subtotal,
            tax: sum.tax + line.tax,
            total: sum.total + line.total,
        })
}
