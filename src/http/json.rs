//! A JSON body extractor whose every refusal uses the API's error body.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::ApiError;

/// Like `axum::Json`, but malformed JSON is 400 `malformed_json`, a wrong shape is 422
/// `validation_error` naming the field, a wrong content type is 415 and an oversized body 413.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !declares_json(&request) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let ApiBytes(body) = ApiBytes::from_request(request, state).await?;
        parse_json(&body).map(ApiJson)
    }
}

/// The raw body, read with the API's refusals: 413 over the route's limit, 408 when it does
/// not arrive within the body timeout, 400 when the connection breaks.
pub struct ApiBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state)
            .await
            .map(ApiBytes)
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else if caused_by_timeout(&rejection) {
                    ApiError::RequestTimeout
                } else {
                    ApiError::MalformedJson("the body could not be read".into())
                }
            })
    }
}

fn caused_by_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = error.source();
    }
    false
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn declares_json(request: &Request) -> bool {
    let Some(content_type) = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// Like `parse_json`, for an optional body: empty (or blank) means `T::default()`.
pub fn parse_optional_json<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_json(body)
    }
}

/// Decodes a JSON body, translating serde's errors into the API's.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => invalid_body(&path, &inner),
            _ => ApiError::MalformedJson(strip_position(&inner.to_string())),
        }
    })?;
    deserializer
        .end()
        .map_err(|error| ApiError::MalformedJson(strip_position(&error.to_string())))?;
    Ok(value)
}

/// Names the field at fault: serde reports a missing or unknown field in its message, with the
/// path pointing at the enclosing object.
fn invalid_body(path: &str, error: &serde_json::Error) -> ApiError {
    let message = strip_position(&error.to_string());
    let quoted = message
        .split('`')
        .nth(1)
        .filter(|_| message.starts_with("missing field") || message.starts_with("unknown field"));
    let field = match (path, quoted) {
        (".", Some(name)) => name.to_owned(),
        (".", None) => "body".to_owned(),
        // An unknown field's path already ends with its name.
        (path, Some(name)) if path == name || path.ends_with(&format!(".{name}")) => {
            path.to_owned()
        }
        (parent, Some(name)) => format!("{parent}.{name}"),
        (path, None) => path.to_owned(),
    };
    // serde names our Rust types ("expected struct RegisterRequest"); say it in API terms.
    let message = match message.find("expected struct") {
        Some(at) => format!("{}expected a JSON object", &message[..at]),
        None => message,
    };
    let message = if message.starts_with("missing field") || message.starts_with("unknown field") {
        message
    } else {
        format!("{field}: {message}")
    };
    ApiError::InvalidBody { field, message }
}

/// serde's messages end with " at line L column C", which only helps a human with the body.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        amount: Option<i64>,
    }

    fn field_of(body: &str) -> String {
        match parse_json::<Body>(body.as_bytes()).unwrap_err() {
            ApiError::InvalidBody { field, .. } => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_missing_field_is_named() {
        assert_eq!(field_of(r#"{"amount": 1}"#), "email");
    }

    #[test]
    fn a_wrong_type_is_named() {
        assert_eq!(
            field_of(r#"{"email": "a@b.co", "amount": "ten"}"#),
            "amount"
        );
    }

    #[test]
    fn an_unknown_field_is_named() {
        assert_eq!(field_of(r#"{"email": "a@b.co", "emial": 1}"#), "emial");
    }

    #[test]
    fn a_non_object_body_says_so_without_rust_names() {
        let error = parse_json::<Body>(b"[1,2]").unwrap_err();
        assert!(!error.to_string().contains("Body"), "{error}");
    }

    #[test]
    fn malformed_json_and_trailing_garbage_are_syntax_errors() {
        for body in ["{", "{\"email\": }", "{\"email\":\"a@b.co\"} x", ""] {
            assert!(
                matches!(
                    parse_json::<Body>(body.as_bytes()),
                    Err(ApiError::MalformedJson(_))
                ),
                "{body:?}"
            );
        }
    }
}
