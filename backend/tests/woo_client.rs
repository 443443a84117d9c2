//! The WooCommerce client's errors, each class reached through the real client: against the
//! WooCommerce simulator (injected 500s, wrong keys, a missing order, a refused webhook), a port
//! nobody listens on, and a stand-in server for what the simulator never answers (429, 503, a
//! 200 that is not JSON). The queue reads nothing but the class, so each one is what a job does
//! next: retry, stop the flow, or wait for a person.

use axum::{Router, http::StatusCode, response::IntoResponse, routing::any};
use wns::{
    remote::ErrorClass,
    woo::{WooClient, WooError, WooSettings},
};
use wns_sim::woo::{RunningWoo, WooConfig, WooSim};

fn settings(base_url: &str, secret: &str) -> WooSettings {
    WooSettings {
        base_url: base_url.into(),
        consumer_key: wns_sim::woo::TEST_CONSUMER_KEY.into(),
        consumer_secret: secret.into(),
        webhook_secret: "wns-test-webhook-secret".into(),
        webhook_max_body_bytes: 2 * 1024 * 1024,
        public_url: "http://127.0.0.1:9".into(),
        sweep_every_secs: 300,
        webhook_check_every_secs: 300,
        ca_file: None,
    }
}

async fn store() -> (RunningWoo, WooClient) {
    let woo = WooSim::spawn(WooConfig::for_tests()).await.unwrap();
    let client = WooClient::new(&settings(&woo.base_url, wns_sim::woo::TEST_CONSUMER_SECRET)).unwrap();
    (woo, client)
}

/// A server answering every request with `status` and `body` (what a proxy, a rate limiter or a
/// WordPress in maintenance mode sends instead of WooCommerce's JSON).
async fn stand_in(status: u16, content_type: &'static str, body: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().fallback(any(move || async move {
        (StatusCode::from_u16(status).unwrap(), [("content-type", content_type)], body).into_response()
    }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn api_status(e: &WooError) -> u16 {
    match e {
        WooError::Api { status, .. } => *status,
        other => panic!("not an answer from WooCommerce: {other}"),
    }
}

#[tokio::test]
async fn no_answer_at_all_is_retried() {
    // Port 9 (discard): nothing listens, the connection is refused.
    let client = WooClient::new(&settings("http://127.0.0.1:9", wns_sim::woo::TEST_CONSUMER_SECRET)).unwrap();
    let err = client.order(23).await.unwrap_err();
    assert!(matches!(err, WooError::Transport { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Retry, "{err}");
}

#[tokio::test]
async fn a_server_error_is_retried_and_the_retry_succeeds() {
    let (woo, client) = store().await;
    woo.sim.fail_next("wc/v3/webhooks", 1);
    let err = client.webhooks().await.unwrap_err();
    assert_eq!(api_status(&err), 500, "{err}");
    assert!(matches!(&err, WooError::Api { code, .. } if code == "internal_server_error"), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Retry, "{err}");
    client.webhooks().await.expect("the failure was one request; the same request again succeeds");

    let unavailable = stand_in(503, "text/html", "<h1>Briefly unavailable for scheduled maintenance.</h1>").await;
    let client = WooClient::new(&settings(&unavailable, "cs")).unwrap();
    let err = client.order(23).await.unwrap_err();
    assert_eq!(api_status(&err), 503, "{err}");
    assert_eq!(err.class(), ErrorClass::Retry, "{err}");
}

#[tokio::test]
async fn too_many_requests_is_retried() {
    let limited = stand_in(
        429,
        "application/json",
        r#"{"code":"rate_limit_exceeded","message":"Too many requests. Please wait and try again.","data":{"status":429}}"#,
    )
    .await;
    let client = WooClient::new(&settings(&limited, "cs")).unwrap();
    let err = client.order(23).await.unwrap_err();
    assert_eq!(api_status(&err), 429, "{err}");
    assert!(matches!(&err, WooError::Api { code, .. } if code == "rate_limit_exceeded"), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Retry, "{err}");
}

#[tokio::test]
async fn wrong_keys_stop_the_flow() {
    let woo = WooSim::spawn(WooConfig::for_tests()).await.unwrap();
    let client = WooClient::new(&settings(&woo.base_url, "cs_not_the_secret")).unwrap();
    let err = client.order(23).await.unwrap_err();
    assert_eq!(api_status(&err), 401, "{err}");
    assert_eq!(err.class(), ErrorClass::Fatal, "{err}");
    assert_eq!(woo.sim.counters().auth_failures, 1);
}

#[tokio::test]
async fn a_refused_request_waits_for_a_person() {
    let (_woo, client) = store().await;
    let err = client.order(999_999).await.unwrap_err();
    assert_eq!(api_status(&err), 404, "{err}");
    assert!(matches!(&err, WooError::Api { code, .. } if code == "woocommerce_rest_shop_order_invalid_id"), "{err:?}");
    assert_eq!(err.class(), ErrorClass::NeedsPerson, "{err}");

    let err = client.create_webhook("order.shipped", "http://127.0.0.1:9/webhooks/woocommerce").await.unwrap_err();
    assert_eq!(api_status(&err), 400, "{err}");
    assert_eq!(err.class(), ErrorClass::NeedsPerson, "{err}");
}

#[tokio::test]
async fn an_answer_that_is_not_woocommerces_json_is_retried() {
    // A 200 from something in front of WordPress (a login or captive page), not the order.
    let html = stand_in(200, "text/html", "<!doctype html><title>Just a moment...</title>").await;
    let client = WooClient::new(&settings(&html, "cs")).unwrap();
    let err = client.order(23).await.unwrap_err();
    assert!(matches!(err, WooError::Protocol { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Retry, "{err}");
    let err = client.webhooks().await.unwrap_err();
    assert!(matches!(err, WooError::Protocol { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Retry, "{err}");
}
