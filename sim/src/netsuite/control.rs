//! `/_sim/…`: the standalone binary's handle for tests and demos in other processes — seed
//! data, move stock, ship orders, turn faults on, read counters. Not part of NetSuite's API,
//! so no auth and no concurrency gate.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{Faults, NetSuiteSim, SeedItem, lock};

pub fn router(sim: NetSuiteSim) -> Router {
    Router::new()
        .route("/_sim/counters", get(counters))
        .route("/_sim/counters/reset", post(reset))
        .route("/_sim/items", post(item))
        .route("/_sim/locations", post(location))
        .route("/_sim/stock", post(stock))
        .route("/_sim/stock/receive", post(receive))
        .route("/_sim/stock/sell", post(sell))
        .route("/_sim/fulfil", post(fulfil))
        .route("/_sim/faults", put(faults))
        .route("/_sim/limit", put(limit))
        .route("/_sim/latency", put(latency_scale))
        .route("/_sim/records/{record_type}", get(records))
        .with_state(sim)
}

fn bad(problem: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": problem.into() }))).into_response()
}

async fn counters(State(sim): State<NetSuiteSim>) -> Response {
    Json(sim.counters()).into_response()
}

async fn reset(State(sim): State<NetSuiteSim>) -> StatusCode {
    sim.reset_counters();
    StatusCode::NO_CONTENT
}

async fn item(State(sim): State<NetSuiteSim>, Json(item): Json<SeedItem>) -> Response {
    if item.itemid.is_empty() {
        return bad("itemid is required");
    }
    Json(json!({ "id": sim.seed_item(item) })).into_response()
}

#[derive(Deserialize)]
struct NewLocation {
    name: String,
}

async fn location(State(sim): State<NetSuiteSim>, Json(l): Json<NewLocation>) -> Response {
    Json(json!({ "id": sim.seed_location(&l.name) })).into_response()
}

#[derive(Deserialize)]
struct StockLevel {
    item: String,
    location: String,
    on_hand: i64,
    available: i64,
}

fn known_item_and_location(sim: &NetSuiteSim, item: &str, location: &str) -> bool {
    let is_location = {
        let store = lock(&sim.inner.store);
        location.parse().ok().and_then(|n| store.get(n)).is_some_and(|r| r.rtype.name == "location")
    };
    is_location && item.parse().is_ok_and(|n| sim.is_item(n))
}

const UNKNOWN: &str = "item and location must be internal ids of an existing item and location";

async fn stock(State(sim): State<NetSuiteSim>, Json(s): Json<StockLevel>) -> Response {
    if !known_item_and_location(&sim, &s.item, &s.location) {
        return bad(UNKNOWN);
    }
    sim.set_stock(&s.item, &s.location, s.on_hand, s.available);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct StockMove {
    item: String,
    location: String,
    quantity: i64,
}

/// An item receipt (`receive_stock`).
async fn receive(State(sim): State<NetSuiteSim>, Json(m): Json<StockMove>) -> Response {
    if !known_item_and_location(&sim, &m.item, &m.location) {
        return bad(UNKNOWN);
    }
    sim.receive_stock(&m.item, &m.location, m.quantity);
    StatusCode::NO_CONTENT.into_response()
}

/// Another channel's sale (`sell_elsewhere`).
async fn sell(State(sim): State<NetSuiteSim>, Json(m): Json<StockMove>) -> Response {
    if !known_item_and_location(&sim, &m.item, &m.location) {
        return bad(UNKNOWN);
    }
    sim.sell_elsewhere(&m.item, &m.location, m.quantity);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Fulfil {
    sales_order: String,
    #[serde(default)]
    tracking_numbers: Vec<String>,
}

async fn fulfil(State(sim): State<NetSuiteSim>, Json(f): Json<Fulfil>) -> Response {
    let numbers: Vec<&str> = f.tracking_numbers.iter().map(String::as_str).collect();
    match sim.try_fulfil(&f.sales_order, &numbers) {
        Ok(id) => Json(json!({ "id": id })).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.body()).into_response(),
    }
}

#[derive(Deserialize)]
#[serde(default)]
struct FaultSettings {
    server_error_rate: f64,
    timeout_rate: f64,
    timeout_delay_ms: u64,
    lost_response_rate: f64,
    throttle_rate: f64,
}

impl Default for FaultSettings {
    fn default() -> FaultSettings {
        FaultSettings {
            server_error_rate: 0.0,
            timeout_rate: 0.0,
            timeout_delay_ms: 30_000,
            lost_response_rate: 0.0,
            throttle_rate: 0.0,
        }
    }
}

async fn faults(State(sim): State<NetSuiteSim>, Json(f): Json<FaultSettings>) -> Response {
    let rates = [f.server_error_rate, f.timeout_rate, f.lost_response_rate, f.throttle_rate];
    if rates.iter().any(|r| !(0.0..=1.0).contains(r)) {
        return bad("rates are between 0 and 1");
    }
    sim.set_faults(Faults {
        server_error_rate: f.server_error_rate,
        timeout_rate: f.timeout_rate,
        timeout_delay: Duration::from_millis(f.timeout_delay_ms),
        lost_response_rate: f.lost_response_rate,
        throttle_rate: f.throttle_rate,
    });
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Limit {
    limit: usize,
}

async fn limit(State(sim): State<NetSuiteSim>, Json(l): Json<Limit>) -> StatusCode {
    sim.set_concurrency_limit(l.limit);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Scale {
    scale: f64,
}

async fn latency_scale(State(sim): State<NetSuiteSim>, Json(s): Json<Scale>) -> Response {
    if !(s.scale >= 0.0 && s.scale.is_finite()) {
        return bad("scale is a finite number >= 0");
    }
    lock(&sim.inner.live).latency.scale = s.scale;
    StatusCode::NO_CONTENT.into_response()
}

async fn records(State(sim): State<NetSuiteSim>, Path(record_type): Path<String>) -> Response {
    Json(sim.records(&record_type)).into_response()
}
