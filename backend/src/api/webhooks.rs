//! `POST /webhooks/woocommerce`: the rules are in [`crate::woo::webhook`]; this is the HTTP side.
//! The body limit answers 413 before a large body is read into memory.

use std::net::SocketAddr;

use axum::{
    Extension, Json, Router,
    body::Bytes,
    extract::{ConnectInfo, DefaultBodyLimit, State},
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

async fn receive(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            state.metrics.record_webhook("too_large");
            return Err(ApiError::TooLarge(format!(
                "the delivery is larger than woocommerce.webhook_max_body_bytes ({} bytes) and was not kept; raise the limit if orders this large are real",
                state.webhook_max_body
            )));
        }
        Err(e) => {
            return Err(ApiError::BadRequest(format!("the delivery's body could not be read: {}", e.body_text())));
        }
    };
    let mut h = DeliveryHeaders::from_http(&headers);
    // Served with connect info (`wns serve`), the peer keys the quarantine's rate limit.
    h.peer = peer.map(|Extension(ConnectInfo(addr))| addr.ip());
    let verdict =
        state.webhooks.receive(&h, &body, state.webhook_secret.as_ref()).await.map_err(ApiError::Unavailable)?;
    state.metrics.record_webhook(verdict.outcome());
    let status = StatusCode::from_u16(verdict.status()).expect("verdict statuses are valid");
    let message = match verdict.outcome() {
        "quarantined" if state.webhook_secret.is_none() => {
            "wns has no webhook secret configured ([woocommerce] webhook_secret), so no delivery can be verified; the delivery was kept and will not be processed"
        }
        "quarantined" => "signature missing or wrong; the delivery was kept and will not be processed",
        "rate_limited" => "too many unsigned deliveries from this source; this one was not stored",
        "malformed" => "body is not JSON or names no order or product id; the delivery was kept for inspection",
        "ignored" => "topic not processed by wns; the delivery was kept",
        _ => "ok",
    };
    Ok((status, Json(json!({ "result": verdict.outcome(), "message": message }))).into_response())
}
