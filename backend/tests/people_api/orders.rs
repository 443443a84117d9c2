//! `/api/v1/orders` against the real order flow and both simulators, on SQLite and PostgreSQL:
//! the status of a screen of orders in one request (posted with its number and a link into
//! NetSuite, blocked with the reason and who fixes it, unknown), one order's timeline, and the
//! clear 400s for too many ids and a body that is not the request.

use crate::support;
use std::{sync::Arc, time::Duration};

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tower::ServiceExt;
use wns::{
    api::{
        AppState,
        auth::{Cap, create_key},
        router,
    },
    metrics::Metrics,
    store::Backend,
};
use wns_api_types::{OrderStatus, OrderSyncState, OrderTimeline, Owner};
use wns_sim::woo::{Address, Checkout};

const SETTLE: Duration = Duration::from_secs(20);

struct Api {
    app: axum::Router,
    key: String,
}

async fn api(f: &support::Flow) -> Api {
    let key = create_key(&f.store, "test", &[Cap::View].into_iter().collect(), f.queue.now()).await.unwrap();
    let mut state = AppState::new(f.queue.clone(), Arc::new(Metrics::new()));
    state.netsuite_account = Some("1234567_SB1".into());
    Api { app: router(state), key }
}

impl Api {
    async fn call(&self, req: axum::http::request::Builder, body: Body) -> (StatusCode, String) {
        let req = req.header(header::AUTHORIZATION, format!("Bearer {}", self.key)).body(body).unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        (status, String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).to_string())
    }

    async fn statuses(&self, ids: &[u64]) -> Vec<OrderStatus> {
        let body = Body::from(json!({ "ids": ids }).to_string());
        let req = Request::post("/api/v1/orders/status").header(header::CONTENT_TYPE, "application/json");
        let (status, body) = self.call(req, body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        serde_json::from_str(&body).unwrap()
    }
}

fn guest(email: &str) -> Address {
    Address { email: email.into(), ..Address::us_ca() }
}

async fn one_request_answers_posted_blocked_and_unknown_orders_in_the_order_asked(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let (mug, _) = f.product("API-MUG", Decimal::new(1250, 2), true);
    let (odd, _) = f.product("API-ODD", Decimal::new(500, 2), false);
    let posted = f.woo.sim.checkout(Checkout::guest(guest("p@example.com")).line(mug, 1)).unwrap();
    let blocked = f.woo.sim.checkout(Checkout::guest(guest("b@example.com")).line(odd, 1)).unwrap();
    for id in [posted.id, blocked.id] {
        f.enqueue(id).await;
    }
    f.settle(SETTLE).await;
    let api = api(&f).await;
    let got = api.statuses(&[blocked.id, 999_999, posted.id]).await;
    assert_eq!(got.iter().map(|s| s.order_id).collect::<Vec<_>>(), vec![blocked.id, 999_999, posted.id]);

    let so = f.sales_order(posted.id).unwrap();
    let p = &got[2];
    assert_eq!(p.state, OrderSyncState::Posted);
    assert_eq!(p.netsuite_id.as_deref(), so["id"].as_str());
    assert_eq!(p.netsuite_number.as_deref(), so["tranId"].as_str());
    let url = p.netsuite_url.as_deref().unwrap();
    assert!(
        url.starts_with("https://1234567-sb1.app.netsuite.com/app/accounting/transactions/salesord.nl?id="),
        "{url}"
    );

    let bl = &got[0];
    assert_eq!(bl.state, OrderSyncState::Blocked);
    let reason = bl.blocked.as_ref().unwrap();
    assert_eq!((reason.owner, reason.cause.as_str()), (Owner::Ecommerce, "sku:API-ODD"));
    assert!(reason.message.contains("API-ODD") && !reason.fix.is_empty(), "{reason:?}");
    assert_eq!(got[1].state, OrderSyncState::Unknown);
}

async fn an_orders_timeline_has_its_attempts_and_open_exceptions(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let (odd, _) = f.product("API-TL", Decimal::new(500, 2), false);
    let order = f.woo.sim.checkout(Checkout::guest(guest("t@example.com")).line(odd, 1)).unwrap();
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    let api = api(&f).await;
    let (status, body) = api.call(Request::get(format!("/api/v1/orders/{}/timeline", order.id)), Body::empty()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let t: OrderTimeline = serde_json::from_str(&body).unwrap();
    assert_eq!(t.status.state, OrderSyncState::Blocked);
    assert!(!t.attempts.is_empty() && t.attempts.iter().all(|a| a.outcome == "blocked"), "{:?}", t.attempts);
    assert!(t.exceptions.iter().any(|e| e.kind == "unmapped_sku" && e.entity == "sku:API-TL"), "{:?}", t.exceptions);
    let (status, body) = api.call(Request::get("/api/v1/orders/424242/timeline"), Body::empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // Replay of a blocked order: for someone with `replay`, it runs again now and is audited.
    let replay = || Request::post(format!("/api/v1/orders/{}/replay", order.id));
    let (status, _) = api.call(replay(), Body::empty()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "view may not replay");
    let key =
        create_key(&f.store, "ops", &[Cap::View, Cap::Replay].into_iter().collect(), f.queue.now()).await.unwrap();
    let ops = Api { app: api.app.clone(), key };
    let (status, body) = ops.call(replay(), Body::empty()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let replayed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(replayed["result"], "requeued");
    assert_eq!(ops.statuses(&[order.id]).await[0].state, OrderSyncState::Waiting);
    let (status, body) = ops.call(replay(), Body::empty()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "waiting already: {body}");
    f.settle(SETTLE).await;
    assert_eq!(ops.statuses(&[order.id]).await[0].state, OrderSyncState::Blocked, "the SKU is still unmapped");
    let (_, log) = ops.call(Request::get(format!("/api/v1/audit?entity=job:{}", replayed["job"])), Body::empty()).await;
    let log: Value = serde_json::from_str(&log).unwrap();
    assert_eq!((log[0]["action"].as_str(), log[0]["before"]["state"].as_str()), (Some("job.replay"), Some("blocked")));
    let (status, _) = ops.call(Request::post("/api/v1/orders/424242/replay"), Body::empty()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn too_many_ids_or_a_body_that_is_not_the_request_is_a_clear_400(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let api = api(&f).await;
    let post = || Request::post("/api/v1/orders/status").header(header::CONTENT_TYPE, "application/json");
    let ids: Vec<u64> = (1..=10_000).collect();
    let (status, body) = api.call(post(), Body::from(json!({ "ids": ids }).to_string())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "bad_request");
    assert!(v["error"]["message"].as_str().unwrap().contains("at most 500"), "{body}");
    for bad in ["{\"ids\": [1, 2", "{\"orders\": [1]}", "{\"ids\": [\"x\"]}"] {
        let (status, body) = api.call(post(), Body::from(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        let message = serde_json::from_str::<Value>(&body).unwrap()["error"]["message"].as_str().unwrap().to_string();
        assert!(message.contains("{\"ids\": [order ids]}"), "says what the body must be: {message}");
    }
    assert!(api.statuses(&[]).await.is_empty());
}

on_both_databases!(
    one_request_answers_posted_blocked_and_unknown_orders_in_the_order_asked,
    an_orders_timeline_has_its_attempts_and_open_exceptions,
    too_many_ids_or_a_body_that_is_not_the_request_is_a_clear_400,
);
