//! `POST /webhooks/woocommerce` with deliveries recorded from a real WooCommerce 7.9 store
//! (`tests/fixtures/woocommerce/webhooks`), on SQLite and PostgreSQL: stored before answered,
//! processed once however often it arrives, bad input kept and never processed.

#[macro_use]
#[path = "support/both.rs"]
mod both;

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use serde_json::Value;
use sqlx::Row;
use tower::ServiceExt;
use wns::{
    api::{AppState, router},
    clock::ManualClock,
    metrics::Metrics,
    monitor::exceptions,
    queue::{Handlers, Outcome, Queue, RetryPolicy, Worker, WorkerOptions},
    store::{Backend, Store},
    testing::TestDb,
};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/woocommerce/webhooks");
const SECRET: &str = "wns-fixture-secret-7f3a";

/// A recorded delivery: its headers and the exact bytes WooCommerce sent.
fn recorded(name: &str) -> (Vec<(String, String)>, Vec<u8>) {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()).unwrap();
    let headers = v["headers"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "Host" | "Content-Length" | "Connection"))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    (headers, v["raw_body"].as_str().unwrap().as_bytes().to_vec())
}

struct Harness {
    _db: TestDb,
    store: Store,
    queue: Queue,
    app: axum::Router,
}

async fn harness(backend: Backend) -> Harness {
    wns::testing::init_logs();
    let db = TestDb::new(backend).await;
    let store = db.store(4).await;
    let queue = Queue::new(store.clone(), Arc::new(ManualClock::new(1_700_000_000_000)), RetryPolicy::default());
    let state = AppState::new(queue.clone(), Arc::new(Metrics::new())).with_webhook_secret(SECRET.into());
    Harness { _db: db, store, queue, app: router(state) }
}

impl Harness {
    async fn post(&self, headers: &[(String, String)], body: Vec<u8>) -> StatusCode {
        let mut req = Request::post("/webhooks/woocommerce");
        for (k, v) in headers {
            req = req.header(k, v);
        }
        self.app.clone().oneshot(req.body(Body::from(body)).unwrap()).await.unwrap().status()
    }

    /// The status and the body of the answer.
    async fn post_read(&self, headers: &[(String, String)], body: Vec<u8>) -> (StatusCode, String) {
        use http_body_util::BodyExt;
        let mut req = Request::post("/webhooks/woocommerce");
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let res = self.app.clone().oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
        let status = res.status();
        (status, String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).to_string())
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query(sql).fetch_one(self.store.pool()).await.unwrap().try_get(0).unwrap()
    }
}

async fn a_delivery_sent_three_times_is_stored_and_processed_once(backend: Backend) {
    let h = harness(backend).await;
    let (headers, body) = recorded("06-order-created-order-23.json");
    for _ in 0..3 {
        assert_eq!(h.post(&headers, body.clone()).await, StatusCode::OK);
    }
    assert_eq!(h.count("select count(*) from webhook_deliveries where status = 'accepted'").await, 1);
    assert_eq!(h.count("select count(*) from jobs where kind = 'woo.order' and entity_key = 'order:23'").await, 1);

    let runs = Arc::new(AtomicUsize::new(0));
    let counted = runs.clone();
    let handlers = Handlers::new().on("woo.order", move |_| {
        let counted = counted.clone();
        async move {
            counted.fetch_add(1, Ordering::SeqCst);
            Outcome::Done
        }
    });
    let worker = Worker::new(h.queue.clone(), handlers, WorkerOptions::new("test"));
    worker.drain().await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1, "processed once");
}

async fn deliveries_for_one_order_collapse_into_one_pending_job(backend: Backend) {
    let h = harness(backend).await;
    for name in ["06-order-created-order-23.json", "07-order-updated-order-23.json", "28-order-updated-order-23.json"] {
        let (headers, body) = recorded(name);
        assert_eq!(h.post(&headers, body).await, StatusCode::OK, "{name}");
    }
    assert_eq!(h.count("select count(*) from webhook_deliveries where status = 'accepted'").await, 3, "each kept");
    assert_eq!(h.count("select count(*) from jobs where entity_key = 'order:23'").await, 1, "one pending job");
    let (headers, body) = recorded("08-product-updated-product-16.json");
    assert_eq!(h.post(&headers, body).await, StatusCode::OK);
    assert_eq!(h.count("select count(*) from jobs where kind = 'woo.product' and entity_key = 'product:16'").await, 1);
}

/// WooCommerce 7.9's delivery id is `wp_hash(webhook id . current second)`: these three recorded
/// deliveries, about three products, were sent within one second and share one id.
async fn same_second_deliveries_sharing_a_delivery_id_are_each_accepted(backend: Backend) {
    let h = harness(backend).await;
    let names = [
        "08-product-updated-product-16.json",
        "09-product-updated-product-17.json",
        "10-product-updated-product-18.json",
    ];
    let ids: std::collections::HashSet<String> = names
        .iter()
        .map(|n| recorded(n).0.into_iter().find(|(k, _)| k == "X-WC-Webhook-Delivery-ID").unwrap().1)
        .collect();
    assert_eq!(ids.len(), 1, "the recording shares one delivery id");
    for name in names {
        let (headers, body) = recorded(name);
        assert_eq!(h.post(&headers, body).await, StatusCode::OK, "{name}");
    }
    assert_eq!(h.count("select count(*) from webhook_deliveries where status = 'accepted'").await, 3);
    for product in [16, 17, 18] {
        let sql = format!("select count(*) from jobs where kind = 'woo.product' and entity_key = 'product:{product}'");
        assert_eq!(h.count(&sql).await, 1, "product {product} has its job");
    }
}

/// A repeat of one delivery (same topic, resource and bytes) under a new delivery id, as
/// WooCommerce sends it a second later, is still the same delivery.
async fn a_repeat_under_a_new_delivery_id_is_a_duplicate(backend: Backend) {
    let h = harness(backend).await;
    let (headers, body) = recorded("06-order-created-order-23.json");
    assert_eq!(h.post(&headers, body.clone()).await, StatusCode::OK);
    let renamed: Vec<_> = headers
        .into_iter()
        .map(
            |(k, v)| {
                if k == "X-WC-Webhook-Delivery-ID" { (k, "0123456789abcdef0123456789abcdef".into()) } else { (k, v) }
            },
        )
        .collect();
    assert_eq!(h.post(&renamed, body).await, StatusCode::OK);
    assert_eq!(h.count("select count(*) from webhook_deliveries where status = 'accepted'").await, 1);
}

async fn a_bad_signature_is_refused_and_quarantined(backend: Backend) {
    let h = harness(backend).await;
    let (mut headers, body) = recorded("06-order-created-order-23.json");
    for (k, v) in headers.iter_mut() {
        if k == "X-WC-Webhook-Signature" {
            *v = "YwZFEllixGmPLmx9ohwABiM30/S5J/GxkoO1LOwcpdd=".into();
        }
    }
    assert_eq!(h.post(&headers, body.clone()).await, StatusCode::UNAUTHORIZED);
    let unsigned: Vec<_> = headers.iter().filter(|(k, _)| k != "X-WC-Webhook-Signature").cloned().collect();
    assert_eq!(h.post(&unsigned, body.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(h.count("select count(*) from webhook_deliveries where status = 'quarantined'").await, 2, "kept");
    assert_eq!(h.count("select count(*) from jobs").await, 0, "never processed");
    // The body is kept byte for byte for whoever investigates.
    let kept: Vec<u8> = sqlx::query("select body from webhook_deliveries limit 1")
        .fetch_one(h.store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(kept, body);
}

/// Unsigned deliveries are anyone's: per source at most a minute's worth is stored (then 429),
/// and the quarantine keeps the newest ones within its bounds, with one counted exception.
async fn the_quarantine_is_rate_limited_per_source_and_bounded(backend: Backend) {
    use wns::woo::webhook::{QUARANTINE_PER_MINUTE, QUARANTINE_ROWS};
    let h = harness(backend).await;
    let unsigned =
        |source: usize| vec![("X-WC-Webhook-Source".to_string(), format!("https://probe-{source}.example/"))];
    for _ in 0..QUARANTINE_PER_MINUTE {
        assert_eq!(h.post(&unsigned(0), b"{\"id\":1}".to_vec()).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(h.post(&unsigned(0), b"{\"id\":1}".to_vec()).await, StatusCode::TOO_MANY_REQUESTS, "over the rate");
    assert_eq!(h.post(&unsigned(1), b"{\"id\":1}".to_vec()).await, StatusCode::UNAUTHORIZED, "another source");
    let stored = h.count("select count(*) from webhook_deliveries where status = 'quarantined'").await;
    assert_eq!(stored, QUARANTINE_PER_MINUTE as i64 + 1);

    let sources = QUARANTINE_ROWS as usize / QUARANTINE_PER_MINUTE as usize + 2;
    for source in 2..2 + sources {
        for n in 0..QUARANTINE_PER_MINUTE {
            h.post(&unsigned(source), format!("{{\"id\":{n}}}").into_bytes()).await;
        }
    }
    let kept = h.count("select count(*) from webhook_deliveries where status = 'quarantined'").await;
    assert_eq!(kept, QUARANTINE_ROWS, "bounded");
    let newest = h.count("select max(id) from webhook_deliveries").await;
    let oldest_kept = h.count("select min(id) from webhook_deliveries where status = 'quarantined'").await;
    assert_eq!(newest - oldest_kept + 1, QUARANTINE_ROWS, "the oldest were dropped");
    let open = exceptions::open(&h.store, Some(exceptions::ExceptionKind::WebhookUnsigned)).await.unwrap();
    assert_eq!(open.len(), 1, "one exception, counted");
    assert!(open[0].seen > QUARANTINE_ROWS, "{}", open[0].seen);
    assert!(open[0].message.contains("dropped"), "{}", open[0].message);
}

async fn the_creation_ping_is_answered_200(backend: Backend) {
    let h = harness(backend).await;
    let (headers, body) = recorded("01-ping-webhook-1.json");
    assert_eq!(h.post(&headers, body).await, StatusCode::OK);
    assert_eq!(h.count("select count(*) from webhook_deliveries where status = 'ping'").await, 1);
    assert_eq!(h.count("select count(*) from jobs").await, 0);
}

async fn malformed_json_with_a_valid_signature_is_kept_and_raises_an_exception(backend: Backend) {
    let h = harness(backend).await;
    let (headers, _) = recorded("06-order-created-order-23.json");
    let body = b"<br />\n<b>Warning</b>: Undefined index in functions.php{\"id\":23".to_vec();
    let mut headers: Vec<_> = headers.into_iter().filter(|(k, _)| k != "X-WC-Webhook-Signature").collect();
    headers.push(("X-WC-Webhook-Signature".into(), sign(&body)));
    assert_eq!(h.post(&headers, body).await, StatusCode::BAD_REQUEST);
    assert_eq!(h.count("select count(*) from webhook_deliveries where status = 'malformed'").await, 1);
    assert_eq!(h.count("select count(*) from jobs").await, 0);
    let open = exceptions::open(&h.store, None).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].kind.as_str(), open[0].owner.as_str()), ("webhook_malformed", "ecommerce"));
    assert!(open[0].message.contains("not JSON"), "{}", open[0].message);
}

/// A signed order delivery that names no usable id is bad input: 400, kept, never a job such as
/// `order:abc`.
async fn an_order_delivery_without_a_numeric_id_is_refused_with_400_and_kept(backend: Backend) {
    let h = harness(backend).await;
    for body in [&br#"{"status":"processing"}"#[..], br#"{"id":"abc"}"#, br#"{"id":0}"#, br#"{"id":-4}"#] {
        let headers = vec![
            ("X-WC-Webhook-Topic".to_string(), "order.created".to_string()),
            ("X-WC-Webhook-Signature".to_string(), sign(body)),
        ];
        assert_eq!(h.post(&headers, body.to_vec()).await, StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(body));
    }
    assert_eq!(h.count("select count(*) from webhook_deliveries where status = 'malformed'").await, 4);
    assert_eq!(h.count("select count(*) from jobs").await, 0);
    let open = exceptions::open(&h.store, Some(exceptions::ExceptionKind::WebhookMalformed)).await.unwrap();
    assert!(open.iter().any(|e| e.message.contains("has no order or product id")), "{open:?}");
    // The id as a string of digits is still an id (WooCommerce sends numbers; others may not).
    let body = br#"{"id":"23"}"#;
    let headers = vec![
        ("X-WC-Webhook-Topic".to_string(), "order.updated".to_string()),
        ("X-WC-Webhook-Signature".to_string(), sign(body)),
    ];
    assert_eq!(h.post(&headers, body.to_vec()).await, StatusCode::OK);
    assert_eq!(h.count("select count(*) from jobs where entity_key = 'order:23'").await, 1);
}

async fn an_unknown_topic_is_accepted_with_202_and_kept(backend: Backend) {
    let h = harness(backend).await;
    let body = br#"{"id":5,"email":"jane@example.com"}"#.to_vec();
    let headers = vec![
        ("X-WC-Webhook-Topic".to_string(), "customer.updated".to_string()),
        ("X-WC-Webhook-Delivery-ID".to_string(), "abc".to_string()),
        ("X-WC-Webhook-Signature".to_string(), sign(&body)),
    ];
    assert_eq!(h.post(&headers, body).await, StatusCode::ACCEPTED);
    assert_eq!(h.count("select count(*) from webhook_deliveries where status = 'ignored'").await, 1);
    assert_eq!(h.count("select count(*) from jobs").await, 0);
}

async fn a_five_megabyte_body_is_refused_with_413(backend: Backend) {
    let h = harness(backend).await;
    let body = vec![b' '; 5 * 1024 * 1024];
    let headers = vec![("X-WC-Webhook-Signature".to_string(), sign(&body))];
    let (status, answer) = h.post_read(&headers, body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value = serde_json::from_str(&answer).unwrap_or_else(|_| panic!("a JSON answer like the others: {answer}"));
    assert_eq!(v["error"]["code"], "too_large");
    assert!(v["error"]["message"].as_str().unwrap().contains("webhook_max_body_bytes"), "{answer}");
    assert_eq!(h.count("select count(*) from jobs").await, 0);
}

fn sign(body: &[u8]) -> String {
    use base64::Engine;
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[test]
fn every_recorded_signed_delivery_verifies() {
    let mut signed = 0;
    for entry in std::fs::read_dir(FIXTURES).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with('_') || name.contains("-ping-") {
            continue;
        }
        let (headers, body) = recorded(&name);
        let sig = headers.iter().find(|(k, _)| k == "X-WC-Webhook-Signature").map(|(_, v)| v.clone()).unwrap();
        assert!(wns::woo::webhook::signature_valid(&SECRET.into(), &body, &sig), "{name}");
        signed += 1;
    }
    assert!(signed >= 20, "{signed}");
}

on_both_databases!(
    a_delivery_sent_three_times_is_stored_and_processed_once,
    same_second_deliveries_sharing_a_delivery_id_are_each_accepted,
    a_repeat_under_a_new_delivery_id_is_a_duplicate,
    deliveries_for_one_order_collapse_into_one_pending_job,
    a_bad_signature_is_refused_and_quarantined,
    the_quarantine_is_rate_limited_per_source_and_bounded,
    the_creation_ping_is_answered_200,
    malformed_json_with_a_valid_signature_is_kept_and_raises_an_exception,
    an_order_delivery_without_a_numeric_id_is_refused_with_400_and_kept,
    an_unknown_topic_is_accepted_with_202_and_kept,
    a_five_megabyte_body_is_refused_with_413,
);
