//! The error every value type returns when it refuses its input.

/// A value that failed validation, naming the request field it came from so the API can say
/// exactly what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// Name of the offending field, as the client spelled it (`email`, `items[2].quantity`).
    pub field: String,
    /// Human-readable explanation, safe to show to the caller.
    pub message: String,
}

impl ValidationError {
    /// Builds an error for `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
