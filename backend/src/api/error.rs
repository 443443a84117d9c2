//! One error type for every HTTP handler: explicit status codes, plain messages for the client,
//! and opaque 5xx bodies (the cause goes to the log, never to the caller).

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = ?self_source(&self), "{self}");
        }
        (status, Json(json!({ "error": self.to_string() }))).into_response()
    }
}

fn self_source(e: &ApiError) -> anyhow::Error {
    match e {
        ApiError::Unavailable(s) => anyhow::anyhow!("{s}"),
        ApiError::Internal(s) => anyhow::anyhow!("{s:#}"),
        other => anyhow::anyhow!("{other}"),
    }
}
