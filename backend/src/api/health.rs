//! `GET /livez` (liveness: the process serves HTTP; for a container's health check, so a NetSuite
//! outage does not get wns restarted), `GET /healthz` (readiness: the database answers and every
//! supervised loop has succeeded recently; for alerts and load balancers) and `GET /metrics`
//! (Prometheus text format).

use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use serde_json::json;

use super::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/livez", get(livez)).route("/healthz", get(healthz)).route("/metrics", get(metrics))
}

async fn livez() -> impl IntoResponse {
    Json(json!({ "status": "alive" }))
}

/// 503 when a loop is down or late: the process answers, but part of the sync has stopped.
async fn healthz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    state.queue.store().ping().await.map_err(ApiError::Unavailable)?;
    let loops = state.loops.report();
    let ready = loops.iter().all(|l| l.verdict.is_ready());
    let (status, word) = if ready { (StatusCode::OK, "ok") } else { (StatusCode::SERVICE_UNAVAILABLE, "not_ready") };
    let body = json!({ "status": word, "database": state.queue.store().backend().name(), "loops": loops });
    Ok((status, Json(body)))
}

async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let summary = state.queue.summary().await.map_err(ApiError::Unavailable)?;
    state.metrics.set_queue_depth(&summary);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render()))
}
