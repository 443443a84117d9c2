//! The control API over HTTP under `/_sim/`, for the demo and for processes that only hold a
//! URL (benchmarks, the standalone binary). No authentication: it is not part of WooCommerce.
//!
//! `GET counters` · `POST checkout` (a [`Checkout`]) · `POST products` (a [`NewProduct`]) ·
//! `POST orders/<id>/status` `{"status"}` · `POST orders/<id>/refunds` `{"amount"?, "lines", "reason"}` ·
//! `POST orders/<id>/trash` · `POST orders/<id>/restore` · `POST payouts` (a [`PayoutSpec`]) ·
//! `POST faults` `{"webhook_loss"?, "latency_scale"?}`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::error::SimError;
use super::{Checkout, NewProduct, PayoutSpec, RefundLine, WooSim};

#[derive(Deserialize)]
struct StatusBody {
    status: String,
}

#[derive(Deserialize)]
struct RefundBody {
    #[serde(default)]
    amount: Option<Decimal>,
    #[serde(default)]
    lines: Vec<RefundLine>,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
struct Faults {
    webhook_loss: Option<f64>,
    latency_scale: Option<f64>,
}

fn fail(e: SimError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, Json(json!({"code": e.code, "message": e.message}))).into_response()
}

fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new((StatusCode::BAD_REQUEST, Json(json!({"code": "bad_json", "message": e.to_string()}))).into_response())
    })
}

fn done<T: serde::Serialize>(result: Result<T, SimError>) -> Response {
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => fail(e),
    }
}

pub(crate) async fn handle(
    State(sim): State<WooSim>,
    method: Method,
    Path(path): Path<String>,
    body: Bytes,
) -> Response {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let order = |s: &str| s.parse::<u64>().ok();
    match (method, segs.as_slice()) {
        (Method::GET, ["counters"]) => Json(sim.counters()).into_response(),
        (Method::GET, ["dropped"]) => Json(sim.dropped_deliveries()).into_response(),
        (Method::POST, ["checkout"]) => match parse::<Checkout>(&body) {
            Ok(c) => match sim.checkout(c) {
                Ok(o) => (StatusCode::CREATED, Json(o)).into_response(),
                Err(e) => (StatusCode::CONFLICT, Json(json!({"code": "checkout_refused", "message": e.to_string()})))
                    .into_response(),
            },
            Err(r) => *r,
        },
        (Method::POST, ["products"]) => match parse::<NewProduct>(&body) {
            Ok(p) => done(sim.try_add_product(p).map(|id| json!({"id": id}))),
            Err(r) => *r,
        },
        (Method::GET, ["orders", id]) if order(id).is_some() => match sim.order(order(id).unwrap_or_default()) {
            Some(o) => Json(o).into_response(),
            None => StatusCode::NOT_FOUND.into_response(),
        },
        (Method::POST, ["orders", id, "status"]) if order(id).is_some() => match parse::<StatusBody>(&body) {
            Ok(b) => done(sim.update_order_status(order(id).unwrap_or_default(), &b.status).map(|()| json!({}))),
            Err(r) => *r,
        },
        (Method::POST, ["orders", id, "refunds"]) if order(id).is_some() => match parse::<RefundBody>(&body) {
            Ok(b) => done(
                sim.refund(order(id).unwrap_or_default(), b.amount, &b.lines, &b.reason).map(|id| json!({"id": id})),
            ),
            Err(r) => *r,
        },
        (Method::POST, ["orders", id, "trash"]) if order(id).is_some() => {
            done(sim.delete_order(order(id).unwrap_or_default()).map(|()| json!({})))
        }
        (Method::POST, ["orders", id, "restore"]) if order(id).is_some() => {
            done(sim.restore_order(order(id).unwrap_or_default()).map(|()| json!({})))
        }
        (Method::POST, ["payouts"]) => {
            let spec = if body.is_empty() { Ok(PayoutSpec::default()) } else { parse::<PayoutSpec>(&body) };
            match spec {
                Ok(spec) => done(sim.create_payout(spec).map(|id| json!({"id": id}))),
                Err(r) => *r,
            }
        }
        (Method::POST, ["faults"]) => match parse::<Faults>(&body) {
            Ok(f) => {
                if let Some(loss) = f.webhook_loss {
                    sim.set_webhook_loss(loss);
                }
                if let Some(scale) = f.latency_scale {
                    sim.set_latency_scale(scale);
                }
                Json(json!({"webhook_loss": sim.webhook_loss(), "latency_scale": sim.latency_scale()})).into_response()
            }
            Err(r) => *r,
        },
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
