//! Event versions: every change to the shape of a stored event bumps its aggregate's
//! `event_version` and adds an upcast here that turns a payload of the older version into the
//! current shape. The log is never rewritten; old payloads are upcast as they are read — by the
//! event store when it loads an aggregate (`Upcaster`, cqrs-es's `EventUpcaster`) and by the
//! read side when it decodes a stored event (`upcast`), so both see one shape. Each upcast has a
//! test that loads a stored payload of the old version.
//!
//! | Aggregate | Events | Version | Change |
//! |---|---|---|---|
//! | Subscription | `SubscriptionRecorded`, `SubscriptionStateChanged` | 1.1 | `state.interval_count` (older: 1) |
//! | Reconciliation | `ReconciliationRun` | 1.1 | `objects_checked`, `objects_differing`, `objects_repaired` (older: 0) |

use cqrs_es::persist::{EventUpcaster, SemanticVersion, SerializedEvent};
use serde_json::Value;

/// One change of shape: events of `event_types` in `aggregate_type` older than `version` are
/// brought to it by `apply`, which takes and returns the whole payload (`{"Variant": {…}}`).
struct Upcast {
    aggregate_type: &'static str,
    event_types: &'static [&'static str],
    version: &'static str,
    apply: fn(Value) -> Value,
}

/// Every upcast, oldest version first (they apply in this order).
const UPCASTS: &[Upcast] = &[
    Upcast {
        aggregate_type: "Subscription",
        event_types: &["SubscriptionRecorded", "SubscriptionStateChanged"],
        version: "1.1",
        apply: subscription_state_interval_count,
    },
    Upcast {
        aggregate_type: "Reconciliation",
        event_types: &["ReconciliationRun"],
        version: "1.1",
        apply: reconciliation_run_object_counts,
    },
];

/// 1.0 → 1.1: a subscription's state gained `interval_count`. Every state recorded before was
/// of a price billed every single interval (the only kind billstream's catalog creates).
fn subscription_state_interval_count(mut payload: Value) -> Value {
    let state = payload
        .as_object_mut()
        .and_then(|variant| variant.values_mut().next())
        .and_then(|fields| fields.get_mut("state"))
        .and_then(Value::as_object_mut);
    if let Some(state) = state {
        state.entry("interval_count").or_insert(Value::from(1));
    }
    payload
}

/// 1.0 → 1.1: a run gained the counts of its object pass. Runs before compared events only:
/// no object was compared, found behind or repaired.
fn reconciliation_run_object_counts(mut payload: Value) -> Value {
    let fields = payload
        .as_object_mut()
        .and_then(|variant| variant.values_mut().next())
        .and_then(Value::as_object_mut);
    if let Some(fields) = fields {
        for count in ["objects_checked", "objects_differing", "objects_repaired"] {
            fields.entry(count).or_insert(Value::from(0));
        }
    }
    payload
}

fn older(version: &str, than: &str) -> bool {
    match (
        version.parse::<SemanticVersion>(),
        than.parse::<SemanticVersion>(),
    ) {
        (Ok(version), Ok(than)) => than.supersedes(&version),
        _ => false,
    }
}

fn applies(upcast: &Upcast, event_type: &str, version: &str) -> bool {
    upcast.event_types.contains(&event_type) && older(version, upcast.version)
}

/// Whether a payload stored as `event_version` of `event_type` in `aggregate_type` is of an
/// older shape (most are not: they decode as they are).
pub fn needs_upcast(aggregate_type: &str, event_type: &str, event_version: &str) -> bool {
    UPCASTS.iter().any(|upcast| {
        upcast.aggregate_type == aggregate_type && applies(upcast, event_type, event_version)
    })
}

/// `payload`, stored as `event_version` of `event_type` in `aggregate_type`, in the current
/// shape; and the version it now has.
pub fn upcast(
    aggregate_type: &str,
    event_type: &str,
    event_version: &str,
    mut payload: Value,
) -> (Value, String) {
    let mut version = event_version.to_owned();
    for upcast in UPCASTS {
        if upcast.aggregate_type == aggregate_type && applies(upcast, event_type, &version) {
            payload = (upcast.apply)(payload);
            version = upcast.version.to_owned();
        }
    }
    (payload, version)
}

/// The upcasts for cqrs-es's event store, which loads aggregates through it.
pub struct Upcaster;

impl EventUpcaster for Upcaster {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        UPCASTS
            .iter()
            .any(|upcast| applies(upcast, event_type, event_version))
    }

    fn upcast(&self, event: SerializedEvent) -> SerializedEvent {
        let (payload, event_version) = upcast(
            &event.aggregate_type,
            &event.event_type,
            &event.event_version,
            event.payload,
        );
        SerializedEvent {
            payload,
            event_version,
            ..event
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::reconciliation::ReconciliationEvent;
    use crate::subscription::SubscriptionEvent;

    /// A `SubscriptionRecorded` as billstream 1.0 stored it.
    const RECORDED_1_0: &str = r#"{"SubscriptionRecorded":{"customer_id":"cust-1","stripe_subscription_id":"sub_1","state":{"status":"active","price":"price_particulier","current_period_start":1780000000,"current_period_end":1782592000,"trial_end":null,"cancel_at_period_end":false,"plan":"particulier","amount":990,"currency":"eur","interval":"month","canceled_at":null,"ended_at":null},"at":"2026-05-28T20:26:40Z"}}"#;

    #[test]
    fn a_stored_1_0_subscription_state_reads_as_one_interval_per_period() {
        let stored: Value = serde_json::from_str(RECORDED_1_0).unwrap();
        assert!(serde_json::from_value::<SubscriptionEvent>(stored.clone()).is_err());
        let (payload, version) = upcast("Subscription", "SubscriptionRecorded", "1.0", stored);
        assert_eq!(version, "1.1");
        let SubscriptionEvent::SubscriptionRecorded { state, .. } =
            serde_json::from_value(payload).unwrap()
        else {
            panic!("not a SubscriptionRecorded");
        };
        assert_eq!(state.interval_count, 1);
        assert_eq!(state.amount, Some(990));
    }

    /// A `ReconciliationRun` as billstream 1.0 stored it, before the object pass.
    const RUN_1_0: &str = r#"{"ReconciliationRun":{"since":"2026-11-01T00:00:00Z","until":"2026-12-01T00:00:00Z","listed":12,"missing":1,"repaired":1}}"#;

    #[test]
    fn a_stored_1_0_reconciliation_run_reads_as_one_that_compared_no_objects() {
        let stored: Value = serde_json::from_str(RUN_1_0).unwrap();
        assert!(serde_json::from_value::<ReconciliationEvent>(stored.clone()).is_err());
        let (payload, version) = upcast("Reconciliation", "ReconciliationRun", "1.0", stored);
        assert_eq!(version, "1.1");
        let ReconciliationEvent::ReconciliationRun {
            listed,
            objects_checked,
            objects_differing,
            objects_repaired,
            ..
        } = serde_json::from_value(payload).unwrap()
        else {
            panic!("not a ReconciliationRun");
        };
        assert_eq!(listed, 12);
        assert_eq!(
            (objects_checked, objects_differing, objects_repaired),
            (0, 0, 0)
        );
    }

    #[test]
    fn current_payloads_and_other_aggregates_are_left_alone() {
        let current = json!({"SubscriptionStateChanged": {"state": {"interval_count": 3}}});
        let (same, version) = upcast(
            "Subscription",
            "SubscriptionStateChanged",
            "1.1",
            current.clone(),
        );
        assert_eq!((same, version.as_str()), (current.clone(), "1.1"));
        let (other, _) = upcast(
            "Payment",
            "SubscriptionStateChanged",
            "1.0",
            current.clone(),
        );
        assert_eq!(other, current);
        assert!(!Upcaster.can_upcast("SubscriptionRecorded", "1.1"));
        assert!(Upcaster.can_upcast("SubscriptionRecorded", "1.0"));
    }
}
