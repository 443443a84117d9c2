//! One error type for every HTTP handler: explicit status codes, one JSON shape
//! `{"error": {"code", "message", "fields"?}}` with a message a person can act on, and opaque 5xx
//! bodies (the cause goes to the log, never to the caller).

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    /// No credential, or one that does not verify: 401 with `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthorized(String),
    /// A valid caller without the capability the route needs.
    #[error("{0}")]
    Forbidden(String),
    /// The body is larger than the route accepts.
    #[error("{0}")]
    TooLarge(String),
    /// The request contradicts the record's state (closing a closed exception).
    #[error("{0}")]
    Conflict(String),
    /// Over the caller's rate limit: 429 with `Retry-After`.
    #[error(
        "{who} sent more requests than allowed (api.requests_per_minute, api.burst); try again in {retry_after_secs} s"
    )]
    TooManyRequests { retry_after_secs: u64, who: String },
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal(e.into())
    }
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let retry_after = match &self {
            ApiError::TooManyRequests { retry_after_secs, .. } => Some(*retry_after_secs),
            _ => None,
        };
        if status.is_server_error() {
            tracing::error!(error = ?self_source(&self), "{self}");
        }
        let mut res = (status, Json(json!({ "error": { "code": code, "message": self.to_string() } }))).into_response();
        if let Some(secs) = retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"wns\""));
        }
        res
    }
}

fn self_source(e: &ApiError) -> anyhow::Error {
    match e {
        ApiError::Unavailable(s) => anyhow::anyhow!("{s}"),
        ApiError::Internal(s) => anyhow::anyhow!("{s:#}"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// `Path<T>` whose rejection is an [`ApiError`]: a path that does not parse (`/jobs/abc`) gets the
/// one JSON error shape, like every other answer of the API, instead of axum's plain text.
pub struct ApiPath<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(ApiError::BadRequest(format!("{} (ids are whole numbers)", e.body_text()))),
        }
    }
}

/// `Query<T>` whose rejection is an [`ApiError`], for the same reason as [`ApiPath`].
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(ApiError::BadRequest(e.body_text())),
        }
    }
}

/// WooCommerce's ids are MySQL `BIGINT UNSIGNED` in theory and far below 2^63 in practice; wns
/// keeps them as signed 64-bit numbers, so a larger one is refused rather than wrapped around.
pub fn check_wc_ids(ids: &[u64]) -> Result<(), ApiError> {
    match ids.iter().find(|id| **id > i64::MAX as u64) {
        Some(id) => Err(ApiError::BadRequest(format!("{id} is not a WooCommerce id (at most {})", i64::MAX))),
        None => Ok(()),
    }
}

/// A JSON request body that must be an object shaped as `shape` says (`{"ids": [order ids]}`).
/// serde alone would also take a struct from an array (`[[1]]` as `{"ids": [1]}`); the API's
/// document says object, so anything else is refused with the shape to send.
pub fn object_body<T: serde::de::DeserializeOwned>(
    body: Result<axum::Json<serde_json::Value>, axum::extract::rejection::JsonRejection>,
    shape: &str,
) -> Result<T, ApiError> {
    let value = body.map_err(|e| ApiError::BadRequest(format!("the body must be {shape}: {}", e.body_text())))?.0;
    if !value.is_object() {
        return Err(ApiError::BadRequest(format!("the body must be a JSON object, {shape}")));
    }
    serde_json::from_value(value).map_err(|e| ApiError::BadRequest(format!("the body must be {shape}: {e}")))
}

/// The OpenAPI pattern of a text that must say something: at least one character that is neither
/// white space nor a control character. [`has_text`] is the same rule in Rust, so a value the
/// document calls valid is accepted and one it calls invalid is refused (`\S` alone differs:
/// regex engines count control characters such as U+001F as white space, Rust's `trim` does not).
pub const TEXT_PATTERN: &str = r"[^\s\x00-\x1f\x7f-\x9f]";

/// Whether `s` holds a character that is neither white space nor a control character.
pub fn has_text(s: &str) -> bool {
    s.chars().any(|c| !c.is_whitespace() && !c.is_control())
}
