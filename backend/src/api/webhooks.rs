//! `POST /webhooks/woocommerce`: the rules are in [`crate::woo::webhook`]; this is the HTTP side.
//! The body limit answers 413 before a large body is read into memory.

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use serde_json::json;

use super::{ApiError, AppState};
use crate::woo::webhook::DeliveryHeaders;

pub fn router(max_body: usize) -> Router<AppState> {
    Router::new().route("/webhooks/woocommerce", post(receive)).layer(DefaultBodyLimit::max(max_body))
}

async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let h = DeliveryHeaders::from_http(&headers);
    let verdict =
        state.webhooks.receive(&h, &body, state.webhook_secret.as_ref()).await.map_err(ApiError::Unavailable)?;
    state.metrics.record_webhook(verdict.outcome());
    let status = StatusCode::from_u16(verdict.status()).expect("verdict statuses are valid");
    let message = match verdict.outcome() {
        "quarantined" => "signature missing or wrong; the delivery was kept and will not be processed",
        "malformed" => "body is not JSON; the delivery was kept for inspection",
        "ignored" => "topic not processed by wns; the delivery was kept",
        _ => "ok",
    };
    Ok((status, Json(json!({ "result": verdict.outcome(), "message": message }))).into_response())
}
