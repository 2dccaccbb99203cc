//! Provider events as the rest of billstream sees them: an envelope the inbox files an event
//! by, and a typed body saying what happened to which object. Turning a provider's wire format
//! into these is the provider adapter's job (`stripe::events`); nothing here knows one.

use std::collections::BTreeMap;

use super::{PaymentIntent, ProviderInvoice, ProviderSubscription, Refund};

/// What the inbox needs to file an event, read without decoding the object it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEnvelope {
    /// The provider's event id (`evt_…`), unique per event: the inbox's deduplication key.
    pub id: String,
    /// The provider's name for what happened (`payment_intent.succeeded`), recorded as is.
    pub event_type: String,
    /// When the provider created the event (Unix seconds): the order events are applied in.
    pub created: i64,
    pub livemode: bool,
    /// The id of the object the event is about (`pi_…`, `cus_…`).
    pub object_id: Option<String>,
    /// The kind of that object, in the provider's words (`payment_intent`, `charge`).
    pub object_type: Option<String>,
    /// The PaymentIntent the object hangs off when it is not one itself (a charge, a refund,
    /// an invoice it pays).
    pub payment_intent: Option<String>,
}

impl EventEnvelope {
    /// Events with the same key change the same billstream object and are applied one after
    /// the other: a PaymentIntent's own events and those of its charges and refunds share the
    /// intent's id; any other object has its own id.
    pub fn ordering_key(&self) -> Option<&str> {
        self.payment_intent.as_deref().or(self.object_id.as_deref())
    }

    /// The inbox lane of this event: its ordering key, or its own id when it names no object.
    pub fn lane(&self) -> &str {
        self.ordering_key().unwrap_or(&self.id)
    }
}

/// A delivered event: its envelope and what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingEvent {
    pub envelope: EventEnvelope,
    pub event: ProviderEvent,
}

/// What happened at the provider, for the kinds of event billstream acts on.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderEvent {
    /// A PaymentIntent reached a state billstream records (succeeded, failed, needs action,
    /// processing, canceled).
    PaymentIntent(IntentSnapshot),
    /// Money went back from a charge.
    ChargeRefunded(ChargeRefund),
    /// A customer's contact details changed at the provider (its dashboard, another system).
    /// The values are the provider's, unchecked: billstream's rules decide what it keeps.
    CustomerUpdated {
        stripe_customer_id: Option<String>,
        name: Option<String>,
        phone: Option<String>,
    },
    /// A customer was deleted at the provider.
    CustomerDeleted { stripe_customer_id: Option<String> },
    /// A subscription was created or changed.
    Subscription(ProviderSubscription),
    /// An invoice was created or changed.
    Invoice(ProviderInvoice),
    /// An event of a kind billstream acts on whose object could not be read.
    Unreadable { reason: String },
    /// The same, for an object billstream files by its customer (a subscription, an invoice):
    /// the customer is looked up first, so an unreadable object of a customer billstream does
    /// not know is filed as that rather than retried.
    UnreadableOfCustomer {
        customer: Option<String>,
        reason: String,
    },
    /// A kind billstream does not act on.
    Other,
}

/// A PaymentIntent as an event shows it, with what billstream needs to adopt one it did not
/// create.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentSnapshot {
    pub intent: PaymentIntent,
    /// billstream's payment id, when billstream created the intent.
    pub billstream_payment_id: Option<String>,
    /// The provider's customer id.
    pub customer: Option<String>,
    /// The invoice the intent pays, when an invoice made it.
    pub invoice: Option<String>,
    pub description: Option<String>,
    /// The intent's own metadata, without the keys billstream writes.
    pub metadata: BTreeMap<String, String>,
    /// When the intent was created (Unix seconds; the event's time when the object omits it).
    pub created: i64,
}

/// A charge after a refund: its running totals and the refunds it lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRefund {
    pub charge_id: String,
    /// The PaymentIntent the charge belongs to.
    pub payment_intent: String,
    /// The provider's customer id.
    pub customer: Option<String>,
    pub amount_captured: i64,
    /// Refunded so far, all refunds together.
    pub amount_refunded: i64,
    /// The refunds the charge lists (possibly none: newer API versions omit the list), each
    /// with billstream's refund id when billstream asked for it.
    pub refunds: Vec<Refund>,
    /// The invoice the charge paid, if it paid one (its credit notes account for a refund).
    pub invoice: Option<String>,
}

impl ChargeRefund {
    /// The refunds that give money back (neither failed nor canceled).
    pub fn standing_refunds(&self) -> impl Iterator<Item = &Refund> {
        self.refunds.iter().filter(|refund| refund.stands())
    }
}

/// An event as the provider lists it (Stripe's `GET /v1/events`): its envelope, and its body
/// exactly as a webhook would have carried it, for the inbox to store and apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedEvent {
    pub envelope: EventEnvelope,
    pub body: String,
}
