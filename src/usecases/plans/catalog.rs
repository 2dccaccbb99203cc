//! The plan catalog: what customers can subscribe to, from `PLANS_FILE` (TOML) or the built-in
//! default (`particulier` and `professionnel`, monthly, 14-day trial). A plan's name and
//! features are written in one language; `[plans.translations.<code>]` gives them in another
//! of the portal's languages, which the portal shows its visitors of that language and the
//! e-mails name to customers who read it.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use aggregates::money::{Amount, Currency};
use serde::{Deserialize, Serialize};

/// How often a plan bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Month,
    Year,
}

/// One plan, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub id: String,
    pub name: String,
    /// Price per interval, in minor units of `currency`.
    pub amount: i64,
    pub currency: String,
    pub interval: Interval,
    pub trial_days: u32,
    #[serde(default)]
    pub features: Vec<String>,
    /// The Stripe Price this plan maps to in Stripe mode (created by lookup key when absent).
    #[serde(default, skip_serializing)]
    pub stripe_price_id: Option<String>,
    /// The name and features in other languages, by language code (one of [`LANGUAGES`]).
    #[serde(default, skip_serializing)]
    pub translations: BTreeMap<String, PlanTexts>,
}

/// A plan's texts in one language; what it leaves out stays as the plan writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanTexts {
    pub name: Option<String>,
    pub features: Option<Vec<String>>,
}

/// The language codes a catalog may translate into: the portal's languages (a portal test
/// keeps the two lists equal).
pub const LANGUAGES: [&str; 2] = ["en", "fr"];

impl Plan {
    /// The name to show in the language `code`.
    pub fn name_in(&self, code: &str) -> &str {
        self.translations
            .get(code)
            .and_then(|texts| texts.name.as_deref())
            .unwrap_or(&self.name)
    }

    /// The features to show in the language `code`.
    pub fn features_in(&self, code: &str) -> &[String] {
        self.translations
            .get(code)
            .and_then(|texts| texts.features.as_deref())
            .unwrap_or(&self.features)
    }
}

/// The catalog file's shape.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    plans: Vec<Plan>,
}

/// Why a catalog cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid plan catalog: {reason}")]
    Invalid { path: String, reason: String },
}

/// Every plan on offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanCatalog {
    plans: Vec<Plan>,
}

const BUILT_IN: &str = r#"
[[plans]]
id = "particulier"
name = "Particulier"
amount = 990
currency = "eur"
interval = "month"
trial_days = 14
features = ["Paiements en ligne", "Factures PDF", "Historique des paiements", "Support par e-mail"]
translations.en.features = ["Online payments", "PDF invoices", "Payment history", "E-mail support"]

[[plans]]
id = "professionnel"
name = "Professionnel"
amount = 2990
currency = "eur"
interval = "month"
trial_days = 14
features = ["Tout Particulier", "Factures personnalisées", "Statistiques de facturation", "Support prioritaire"]
translations.en.features = ["Everything in Particulier", "Custom invoices", "Billing statistics", "Priority support"]
"#;

impl PlanCatalog {
    /// The catalog in `path`, or the built-in one.
    pub fn load(path: Option<&Path>) -> Result<Self, CatalogError> {
        match path {
            None => Self::parse("built-in catalog", BUILT_IN),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                Self::parse(&path.display().to_string(), &text)
            }
        }
    }

    /// Parses and validates a TOML catalog.
    pub fn parse(origin: &str, text: &str) -> Result<Self, CatalogError> {
        let invalid = |reason: String| CatalogError::Invalid {
            path: origin.to_owned(),
            reason,
        };
        let file: CatalogFile = toml::from_str(text).map_err(|error| invalid(error.to_string()))?;
        if file.plans.is_empty() {
            return Err(invalid("it offers no plan".into()));
        }
        let mut ids = HashSet::new();
        for plan in &file.plans {
            let valid_id = !plan.id.is_empty()
                && plan.id.len() <= 64
                && plan
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            if !valid_id {
                return Err(invalid(format!(
                    "plan id {:?} must be 1 to 64 lower-case letters, digits, - or _",
                    plan.id
                )));
            }
            if !ids.insert(plan.id.as_str()) {
                return Err(invalid(format!("plan id {} appears twice", plan.id)));
            }
            if plan.name.trim().is_empty() {
                return Err(invalid(format!("plan {} has no name", plan.id)));
            }
            Amount::parse("amount", plan.amount)
                .map_err(|error| invalid(format!("plan {}: {error}", plan.id)))?;
            Currency::parse("currency", &plan.currency)
                .map_err(|error| invalid(format!("plan {}: {error}", plan.id)))?;
            if let Some(code) = plan
                .translations
                .keys()
                .find(|code| !LANGUAGES.contains(&code.as_str()))
            {
                return Err(invalid(format!(
                    "plan {}: translations are for {}, not {code:?}",
                    plan.id,
                    LANGUAGES.join(", ")
                )));
            }
            if plan.translations.values().any(|texts| {
                texts
                    .name
                    .as_deref()
                    .is_some_and(|name| name.trim().is_empty())
            }) {
                return Err(invalid(format!(
                    "plan {} has a blank translated name",
                    plan.id
                )));
            }
            if plan.trial_days > 730 {
                return Err(invalid(format!(
                    "plan {}: trial_days is at most 730",
                    plan.id
                )));
            }
        }
        Ok(Self { plans: file.plans })
    }

    /// Every plan, in catalog order.
    pub fn plans(&self) -> &[Plan] {
        &self.plans
    }

    /// The plan with this id.
    pub fn find(&self, id: &str) -> Option<&Plan> {
        self.plans.iter().find(|plan| plan.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_catalog_offers_particulier_and_professionnel() {
        let catalog = PlanCatalog::load(None).unwrap();
        let particulier = catalog.find("particulier").unwrap();
        assert_eq!(
            (particulier.amount, particulier.currency.as_str()),
            (990, "eur")
        );
        assert_eq!(
            (particulier.interval, particulier.trial_days),
            (Interval::Month, 14)
        );
        let professionnel = catalog.find("professionnel").unwrap();
        assert_eq!(professionnel.amount, 2990);
        assert!(!professionnel.features.is_empty());
    }

    #[test]
    fn the_built_in_plans_list_their_features_in_every_portal_language() {
        let catalog = PlanCatalog::load(None).unwrap();
        for plan in catalog.plans() {
            assert_eq!(plan.features_in("fr"), plan.features.as_slice());
            assert_eq!(plan.features_in("en").len(), plan.features.len());
            assert_ne!(
                plan.features_in("en"),
                plan.features_in("fr"),
                "{}",
                plan.id
            );
        }
        let particulier = catalog.find("particulier").unwrap();
        assert_eq!(particulier.features_in("en")[0], "Online payments");
        assert_eq!(particulier.name_in("en"), "Particulier");
    }

    #[test]
    fn a_translation_replaces_only_the_texts_it_gives() {
        let catalog = PlanCatalog::parse(
            "test",
            r#"
            [[plans]]
            id = "solo"
            name = "Solo"
            amount = 500
            currency = "eur"
            interval = "month"
            trial_days = 0
            features = ["Un utilisateur"]
            [plans.translations.en]
            name = "Single"
            "#,
        )
        .unwrap();
        let plan = catalog.find("solo").unwrap();
        assert_eq!((plan.name_in("en"), plan.name_in("fr")), ("Single", "Solo"));
        assert_eq!(plan.features_in("en"), ["Un utilisateur"]);
    }

    #[test]
    fn a_catalog_file_may_add_yearly_variants() {
        let catalog = PlanCatalog::parse(
            "test",
            r#"
            [[plans]]
            id = "particulier-annuel"
            name = "Particulier (annuel)"
            amount = 9900
            currency = "eur"
            interval = "year"
            trial_days = 14
            stripe_price_id = "price_123"
            "#,
        )
        .unwrap();
        let plan = catalog.find("particulier-annuel").unwrap();
        assert_eq!(plan.interval, Interval::Year);
        assert_eq!(plan.stripe_price_id.as_deref(), Some("price_123"));
    }

    #[test]
    fn broken_catalogs_are_refused_with_the_reason() {
        let plan = |id: &str, amount: i64, currency: &str| {
            format!(
                "[[plans]]\nid = \"{id}\"\nname = \"N\"\namount = {amount}\ncurrency = \"{currency}\"\ninterval = \"month\"\ntrial_days = 0\n"
            )
        };
        for (text, reason) in [
            (String::from("plans = []"), "no plan"),
            (plan("a", 0, "eur"), "amount"),
            (plan("a", 100, "xyz"), "currency"),
            (plan("Bad Id", 100, "eur"), "plan id"),
            (
                format!("{}{}", plan("a", 100, "eur"), plan("a", 200, "eur")),
                "twice",
            ),
            (plan("a", 100, "eur").replace("month", "week"), "interval"),
            (
                format!(
                    "{}[plans.translations.de]\nname = \"A\"\n",
                    plan("a", 100, "eur")
                ),
                "translations are for en, fr",
            ),
            (
                format!(
                    "{}[plans.translations.en]\nname = \" \"\n",
                    plan("a", 100, "eur")
                ),
                "blank translated name",
            ),
            (
                format!(
                    "{}[plans.translations.en]\nprice = 1\n",
                    plan("a", 100, "eur")
                ),
                "price",
            ),
        ] {
            let error = PlanCatalog::parse("test", &text).unwrap_err().to_string();
            assert!(error.contains(reason), "{error}");
        }
    }
}
