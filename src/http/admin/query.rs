//! The operators' list parameters (`limit`, `after`), read as text and checked here so that
//! a wrong value is a 400 `invalid_query` naming it, never a 500 or a silent default.

use super::super::error::ApiError;

/// Rows per page when the operator does not say.
pub const DEFAULT_LIMIT: i64 = 50;
/// Most rows per page.
pub const MAX_LIMIT: i64 = 500;

fn invalid(message: String) -> ApiError {
    ApiError::InvalidQuery { message }
}

/// `limit`: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent.
pub fn limit(raw: Option<&str>) -> Result<i64, ApiError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LIMIT);
    };
    raw.parse::<i64>()
        .ok()
        .filter(|limit| (1..=MAX_LIMIT).contains(limit))
        .ok_or_else(|| invalid(format!("limit: must be an integer from 1 to {MAX_LIMIT}")))
}

/// `after`: a position from a previous page's `next_after` (0 or more), 0 when absent.
pub fn after(raw: Option<&str>) -> Result<i64, ApiError> {
    let Some(raw) = raw else {
        return Ok(0);
    };
    raw.parse::<i64>()
        .ok()
        .filter(|after| *after >= 0)
        .ok_or_else(|| invalid("after: must be a non-negative integer (a `next_after`)".into()))
}
