//! Stripe's event list (`GET /v1/events`, kept 30 days): what reconciliation compares with the
//! webhook inbox. Pages of 100 are followed with `starting_after` until `has_more` is false;
//! the events are taken as raw JSON (each is stored exactly as a webhook would carry it) and
//! returned oldest first, whichever order the server lists them in (Stripe: newest first;
//! localstripe: oldest first).

use serde_json::Value;

use super::billing::FormRequest;
use super::events::read_envelope;
use super::transport::StripeProvider;
use crate::provider::{ListedEvent, ProviderError};

/// Events per page (Stripe's maximum).
const PAGE: u32 = 100;
/// Pages followed at most (100,000 events): a bound should a server never say `has_more: false`.
const MAX_PAGES: u32 = 1_000;

impl StripeProvider {
    pub(super) async fn stripe_list_events(
        &self,
        since: i64,
    ) -> Result<Vec<ListedEvent>, ProviderError> {
        let mut events: Vec<ListedEvent> = Vec::new();
        let mut starting_after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut request = FormRequest::get("/events")
                .param("created[gte]", since)
                .param("limit", PAGE);
            if let Some(after) = &starting_after {
                request = request.param("starting_after", after);
            }
            let page = self.call(&request, None).await?;
            let data = page["data"].as_array().cloned().unwrap_or_default();
            let before = events.len();
            for object in data {
                events.push(listed(object)?);
            }
            let last = events.last().map(|event| event.envelope.id.clone());
            let moved = events.len() > before && last != starting_after;
            if page["has_more"].as_bool() != Some(true) || !moved {
                break;
            }
            starting_after = last;
        }
        if events.first().map(|e| e.envelope.created) > events.last().map(|e| e.envelope.created) {
            events.reverse();
        }
        events.sort_by_key(|event| event.envelope.created);
        Ok(events)
    }
}

/// One listed event, with the envelope the inbox files it by.
fn listed(object: Value) -> Result<ListedEvent, ProviderError> {
    let body = object.to_string();
    let envelope = read_envelope(body.as_bytes())
        .ok_or_else(|| ProviderError::Provider("Stripe listed an unreadable event".into()))?;
    Ok(ListedEvent { envelope, body })
}
