//! The endpoints the properties call: method, path, who calls, which fixture object fills
//! the path's `{id}`, and the fields of each body.

use super::*;

pub(super) struct Endpoint {
    pub(super) method: &'static str,
    pub(super) path: &'static str,
    pub(super) id: Id,
    pub(super) caller: Caller,
    /// The body's fields (empty: the endpoint reads no body, and must ignore whatever comes).
    pub(super) fields: &'static [&'static str],
}

pub(super) const INVOICE_FIELDS: &[&str] = &[
    "currency",
    "items",
    "memo",
    "due_days",
    "collection_method",
    "finalize",
];

/// Every POST/PATCH route of `src/http/*.rs`.
pub(super) const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "POST",
        path: "/api/auth/register",
        id: Id::None,
        caller: Caller::Anyone,
        fields: &["email", "password", "name", "phone"],
    },
    Endpoint {
        method: "POST",
        path: "/api/auth/login",
        id: Id::None,
        caller: Caller::Anyone,
        fields: &["email", "password"],
    },
    Endpoint {
        method: "PATCH",
        path: "/api/auth/profile",
        id: Id::None,
        caller: Caller::Customer,
        fields: &["name", "phone"],
    },
    Endpoint {
        method: "POST",
        path: "/api/auth/password",
        id: Id::None,
        caller: Caller::Customer,
        fields: &["current_password", "new_password"],
    },
    Endpoint {
        method: "POST",
        path: "/api/payments/create-intent",
        id: Id::None,
        caller: Caller::Customer,
        fields: &["amount", "currency", "description", "metadata"],
    },
    Endpoint {
        method: "POST",
        path: "/api/payments/confirm",
        id: Id::None,
        caller: Caller::Customer,
        fields: &["payment_intent_id", "payment_method"],
    },
    Endpoint {
        method: "POST",
        path: "/api/payments/{id}/refund",
        id: Id::Payment,
        caller: Caller::Customer,
        fields: &["amount"],
    },
    Endpoint {
        method: "POST",
        path: "/api/subscriptions",
        id: Id::None,
        caller: Caller::Customer,
        fields: &["plan", "payment_method", "trial_days"],
    },
    Endpoint {
        method: "POST",
        path: "/api/subscriptions/{id}/cancel",
        id: Id::SubscriptionToCancel,
        caller: Caller::Customer,
        fields: &["at_period_end"],
    },
    Endpoint {
        method: "POST",
        path: "/api/subscriptions/{id}/resume",
        id: Id::Subscription,
        caller: Caller::Customer,
        fields: &[],
    },
    Endpoint {
        method: "POST",
        path: "/api/subscriptions/{id}/change-plan",
        id: Id::Subscription,
        caller: Caller::Customer,
        fields: &["plan"],
    },
    Endpoint {
        method: "POST",
        path: "/api/billing/payment-method",
        id: Id::None,
        caller: Caller::Customer,
        fields: &["payment_method"],
    },
    Endpoint {
        method: "POST",
        path: "/api/invoices/create",
        id: Id::None,
        caller: Caller::Customer,
        fields: INVOICE_FIELDS,
    },
    Endpoint {
        method: "POST",
        path: "/api/invoices/{id}/finalize",
        id: Id::DraftInvoice,
        caller: Caller::Customer,
        fields: &[],
    },
    Endpoint {
        method: "POST",
        path: "/api/invoices/{id}/pay",
        id: Id::OpenInvoice,
        caller: Caller::Customer,
        fields: &["payment_method"],
    },
    Endpoint {
        method: "POST",
        path: "/api/invoices/{id}/send",
        id: Id::OpenInvoice,
        caller: Caller::Customer,
        fields: &[],
    },
    Endpoint {
        method: "POST",
        path: "/api/invoices/{id}/void",
        id: Id::InvoiceToVoid,
        caller: Caller::Customer,
        fields: &[],
    },
    Endpoint {
        method: "POST",
        path: "/api/admin/customers/{id}/invoices",
        id: Id::Customer,
        caller: Caller::Operator,
        fields: INVOICE_FIELDS,
    },
    Endpoint {
        method: "POST",
        path: "/sandbox/clock/advance",
        id: Id::None,
        caller: Caller::Anyone,
        fields: &["seconds"],
    },
    Endpoint {
        method: "POST",
        path: "/sandbox/payment_intents/{id}/authenticate",
        id: Id::PendingIntent,
        caller: Caller::Anyone,
        fields: &["success"],
    },
    Endpoint {
        method: "POST",
        path: "/api/webhooks/stripe",
        id: Id::None,
        caller: Caller::Stripe,
        fields: &["id", "type", "created", "livemode", "data", "object"],
    },
];

/// What goes in a path's `{id}`.
#[derive(Debug, Clone)]
pub(super) enum PathId {
    /// The fixture's object.
    Real,
    /// These bytes, percent-encoded.
    Raw(Vec<u8>),
}

/// How a webhook delivery is signed.
#[derive(Debug, Clone)]
pub(super) enum Signing {
    /// Correctly, with the endpoint's secret, now.
    Valid,
    /// No Stripe-Signature header.
    Absent,
    /// This header value (bytes a header cannot carry are sent as no header).
    Header(Vec<u8>),
}
