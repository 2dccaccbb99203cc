//! Plans ↔ provider prices. Each plan's price is resolved once (configured id, or found or
//! created by lookup key) and remembered, so prices named in Stripe's events map back to plans.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::provider::{PaymentProvider, PlanPrice, ProviderError};
use crate::usecases::plans::{Interval, Plan, PlanCatalog};

/// The catalog's plans with their provider prices.
pub struct PriceBook {
    catalog: Arc<PlanCatalog>,
    provider: Arc<dyn PaymentProvider>,
    resolved: Mutex<HashMap<String, PlanPrice>>,
}

fn wanted(plan: &Plan) -> PlanPrice {
    PlanPrice {
        price_id: plan.stripe_price_id.clone().unwrap_or_default(),
        legacy_plan: false,
        plan_id: plan.id.clone(),
        product_name: plan.name.clone(),
        amount: plan.amount,
        currency: plan.currency.clone(),
        interval: match plan.interval {
            Interval::Month => "month",
            Interval::Year => "year",
        }
        .to_owned(),
    }
}

impl PriceBook {
    pub fn new(catalog: Arc<PlanCatalog>, provider: Arc<dyn PaymentProvider>) -> Self {
        Self {
            catalog,
            provider,
            resolved: Mutex::new(HashMap::new()),
        }
    }

    /// The catalog.
    pub fn catalog(&self) -> &PlanCatalog {
        &self.catalog
    }

    /// The provider price of `plan`, resolved at the provider on first use.
    pub async fn price(&self, plan: &Plan) -> Result<PlanPrice, ProviderError> {
        let mut resolved = self.resolved.lock().await;
        if let Some(price) = resolved.get(&plan.id) {
            return Ok(price.clone());
        }
        let price = self.provider.ensure_price(&wanted(plan)).await?;
        resolved.insert(plan.id.clone(), price.clone());
        Ok(price)
    }

    /// The plan a provider price belongs to, if it is one of the catalog's.
    pub async fn plan_for_price(&self, price_id: &str) -> Option<String> {
        for plan in self.catalog.plans() {
            let known = self.resolved.lock().await.get(&plan.id).cloned();
            let price = match known {
                Some(price) => price,
                // Resolving is cheap and idempotent; a provider outage only loses the name.
                None => match self.price(plan).await {
                    Ok(price) => price,
                    Err(error) => {
                        tracing::warn!(%error, plan = %plan.id, "cannot resolve a plan's price");
                        continue;
                    }
                },
            };
            if price.price_id == price_id {
                return Some(plan.id.clone());
            }
        }
        None
    }
}
