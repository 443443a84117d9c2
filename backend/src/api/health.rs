//! `GET /healthz` (the database answers) and `GET /metrics` (Prometheus text format).

use axum::{Json, Router, extract::State, http::header, response::IntoResponse, routing::get};
use serde_json::json;

use super::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics))
}

async fn healthz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    state.queue.store().ping().await.map_err(ApiError::Unavailable)?;
    Ok(Json(json!({ "status": "ok", "database": state.queue.store().backend().name() })))
}

async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let summary = state.queue.summary().await.map_err(ApiError::Unavailable)?;
    state.metrics.set_queue_depth(&summary);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render()))
}
