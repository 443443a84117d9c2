//! The backend's WooCommerce client against a **real** WordPress 6.1 + WooCommerce 7.9 + wns-sync
//! (the one `cargo xtask wp` starts), over plain http with OAuth 1.0a signatures as wns sends
//! them there. Ignored in a plain `cargo test`: `cargo xtask test` (and `cargo xtask test-php`)
//! start the store and run these with `--ignored` and `WNS_REAL_WOO` = the store's store.json.
//! The last one is the whole flow: a real order → its real webhook → wns → a sales order in the
//! NetSuite simulator, and a NetSuite stock change → the real product's stock.

#[path = "support/flow.rs"]
mod support;

use std::sync::{Arc, Mutex};

use axum::{Router, body::Bytes, http::HeaderMap, routing::post};
use serde_json::Value;
use wns::woo::{WooClient, WooSettings, catalog::StockDelta, webhook::signature_valid};

const WEBHOOK_SECRET: &str = "wns-test-webhook-secret";

fn real_store() -> (Value, WooClient) {
    let file = std::env::var("WNS_REAL_WOO")
        .expect("WNS_REAL_WOO must name a running test store's store.json: run these with `cargo xtask test-php`");
    let info: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("reading store.json")).unwrap();
    let text = |k: &str| info[k].as_str().unwrap().to_string();
    let settings = WooSettings {
        base_url: text("url"),
        consumer_key: text("consumer_key"),
        consumer_secret: text("consumer_secret").into(),
        webhook_secret: WEBHOOK_SECRET.into(),
        webhook_max_body_bytes: 2 * 1024 * 1024,
        public_url: "http://127.0.0.1:9".into(),
        sweep_every_secs: 300,
        webhook_check_every_secs: 300,
    };
    let client = WooClient::new(&settings).unwrap();
    (info, client)
}

fn id(info: &Value, sku: &str) -> u64 {
    info["products"][sku].as_u64().unwrap()
}

#[tokio::test]
#[ignore = "needs a real store: cargo xtask test-php"]
async fn products_and_variations_by_sku_over_oauth() {
    let (info, woo) = real_store();
    let found = woo.products_by_sku("WNS-MUG").await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].id, id(&info, "WNS-MUG"));
    assert!(found[0].stock_quantity.is_some());

    let variations = woo.variations(id(&info, "WNS-TEE")).await.unwrap();
    let mut skus: Vec<&str> = variations.iter().map(|v| v.sku.as_str()).collect();
    skus.sort();
    assert_eq!(skus, ["WNS-TEE-L", "WNS-TEE-M", "WNS-TEE-S"]);
    // WooCommerce's variations endpoint names no parent (nor does the simulator's); the product
    // search by SKU does.
    assert!(variations.iter().all(|v| v.parent_id == 0), "{variations:?}");
    let tee_l = woo.products_by_sku("WNS-TEE-L").await.unwrap();
    assert_eq!((tee_l[0].parent_id, tee_l[0].kind.as_str()), (id(&info, "WNS-TEE"), "variation"));

    let both = woo.products_by_skus(&["WNS-POSTER", "WNS-TEE-L"]).await.unwrap();
    let mut ids: Vec<u64> = both.iter().map(|p| p.id).collect();
    ids.sort();
    assert_eq!(ids, [id(&info, "WNS-POSTER"), id(&info, "WNS-TEE-L")]);
}

#[tokio::test]
#[ignore = "needs a real store: cargo xtask test-php"]
async fn the_atomic_stock_route_applies_once_and_fails_item_by_item() {
    let (info, woo) = real_store();
    assert!(woo.has_stock_adjust_route().await.unwrap(), "wns-sync's route is found in the namespace index");
    let before = woo.product(id(&info, "WNS-POSTER")).await.unwrap().stock_quantity.unwrap();
    let key = format!("rust-{}", uuid::Uuid::new_v4());
    let items = [
        StockDelta { sku: "WNS-POSTER".into(), delta: -2, idempotency_key: key.clone() },
        StockDelta { sku: "NO-SUCH-SKU".into(), delta: 1, idempotency_key: format!("{key}-x") },
    ];
    let first = woo.adjust_stock(&items).await.unwrap();
    assert_eq!(first[0].result, Ok(before - 2));
    assert!(!first[0].replayed);
    assert_eq!(first[1].result.as_ref().unwrap_err().0, "wns_unknown_sku");

    let again = woo.adjust_stock(&items[..1]).await.unwrap();
    assert!(again[0].replayed);
    assert_eq!(again[0].result, Ok(before - 2));
    assert_eq!(woo.product(id(&info, "WNS-POSTER")).await.unwrap().stock_quantity, Some(before - 2));
}

/// Every request a receiver on a loopback port got: its headers and body.
type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

async fn receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let keep = got.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| async move {
            keep.lock().unwrap().push((headers, body));
            "ok"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

/// Held by the tests that run the store's Action Scheduler queue: two runners at once claim each
/// other's deliveries, so a test could find its own queue run empty.
static ACTION_SCHEDULER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs WooCommerce's Action Scheduler queue once, as WP-Cron would: deliveries are queued.
fn run_action_scheduler(info: &Value) {
    let wp_load = format!("{}wp-load.php", info["path"].as_str().unwrap());
    let out = std::process::Command::new("php")
        .arg("-r")
        .arg(format!(
            "$_SERVER['HTTP_HOST'] = '127.0.0.1'; require {wp_load:?}; ActionScheduler_QueueRunner::instance()->run();"
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "running the Action Scheduler queue: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a real store: cargo xtask test-php"]
async fn a_webhook_is_created_pinged_unsigned_and_delivers_signed_through_action_scheduler() {
    let _queue = ACTION_SCHEDULER.lock().await;
    let (info, woo) = real_store();
    let (url, got) = receiver().await;
    let hook = woo.create_webhook("product.updated", &url).await.unwrap();
    assert_eq!((hook.status.as_str(), hook.topic.as_str()), ("active", "product.updated"));
    {
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 1, "the creation ping, synchronous");
        let (headers, body) = &got[0];
        assert_eq!(std::str::from_utf8(body).unwrap(), format!("webhook_id={}", hook.id));
        assert!(headers.get("x-wc-webhook-signature").is_none(), "the ping is not signed: {headers:?}");
    }
    assert!(woo.webhooks().await.unwrap().iter().any(|w| w.id == hook.id && w.delivery_url == url));

    let poster = id(&info, "WNS-POSTER");
    let key = format!("rust-hook-{}", uuid::Uuid::new_v4());
    woo.adjust_stock(&[StockDelta { sku: "WNS-POSTER".into(), delta: 1, idempotency_key: key }]).await.unwrap();
    let queued = got.lock().unwrap().len();
    assert_eq!(queued, 1, "deliveries wait for the Action Scheduler queue");
    tokio::task::spawn_blocking(move || run_action_scheduler(&info)).await.unwrap();

    let got = got.lock().unwrap();
    let deliveries: Vec<_> = got
        .iter()
        .filter(|(h, _)| h.get("x-wc-webhook-id").and_then(|v| v.to_str().ok()) == Some(&hook.id.to_string()))
        .filter(|(h, _)| h.get("x-wc-webhook-signature").is_some())
        .collect();
    assert!(!deliveries.is_empty(), "no signed delivery after the queue ran: {got:?}");
    let (headers, body) = deliveries[0];
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(header("x-wc-webhook-topic"), "product.updated");
    assert_eq!(header("x-wc-webhook-resource"), "product");
    assert!(header("user-agent").starts_with("WooCommerce/7.9.0 Hookshot (WordPress/6.1"), "{headers:?}");
    assert!(signature_valid(&WEBHOOK_SECRET.into(), body, &header("x-wc-webhook-signature")), "signature");
    let product: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(product["id"].as_u64(), Some(poster));
}

/// A call to the store's REST API as a REST client over a TLS-terminating proxy sends it (Basic
/// auth, `X-Forwarded-Proto: https`): `method` on `wp-json/wc/v3/<path>`, answered with success.
async fn rest(info: &Value, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let mut req = reqwest::Client::new()
        .request(method.clone(), format!("{}/wp-json/wc/v3/{path}", info["url"].as_str().unwrap()))
        .basic_auth(info["consumer_key"].as_str().unwrap(), info["consumer_secret"].as_str())
        .header("X-Forwarded-Proto", "https");
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let answer: Value = res.json().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {answer}");
    answer
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a real store: cargo xtask test-php"]
async fn a_real_order_reaches_netsuite_through_its_webhook_and_netsuite_stock_reaches_the_real_product() {
    use std::time::{Duration, Instant};
    use wns::{
        api::{AppState, router},
        clock,
        metrics::Metrics,
        queue::{Handlers, Queue, RetryPolicy, Worker, WorkerOptions},
        store::Backend,
        sync::{
            SyncSettings,
            inventory::{StockSettings, StockSync},
            order_flow::OrderFlow,
            sales_order::OrderMapping,
        },
        testing::TestDb,
    };
    use wns_sim::netsuite::{NetSuiteConfig, NetSuiteSim, SeedItem};

    wns::testing::init_logs();
    let _queue = ACTION_SCHEDULER.lock().await;
    let started = Instant::now();
    let (info, woo) = real_store();
    // wns: SQLite, its queue, the NetSuite simulator with the store's mug as an item.
    let db = TestDb::new(Backend::Sqlite).await;
    let queue = Queue::new(db.store(8).await, clock::system(), RetryPolicy::default());
    let ns = NetSuiteSim::spawn(NetSuiteConfig::for_tests()).await.unwrap();
    let typed = |name: &str, t: &str| ns.sim.seed_item(SeedItem { item_type: t.into(), ..SeedItem::new(name) });
    let (shipping_item, fee_item) = (typed("Shipping", "OthCharge"), typed("Fee", "OthCharge"));
    let east = ns.sim.seed_location("East");
    let mug_item = ns.sim.seed_item(SeedItem::new("WNS-MUG"));
    ns.sim.set_stock(&mug_item, &east, 40, 40);
    let mut settings = SyncSettings::new(OrderMapping::new("shop", "1", &shipping_item, &fee_item));
    settings.routing.default_location = Some(east.clone());
    let client = support::netsuite_client(&ns.base_url, 5, 10);
    let flow = OrderFlow::new(client.clone(), woo.clone(), queue.clone(), settings);
    let stock = StockSync::new(client, woo.clone(), queue.clone(), StockSettings::new(vec![east.clone()]));
    let opts = WorkerOptions { poll: Duration::from_millis(50), ..WorkerOptions::new("real-store-flow") };
    let worker = Worker::new(queue.clone(), stock.register(flow.register(Handlers::new())), opts);

    // wns's HTTP listener with the webhook receiver, and the store's webhook pointing at it.
    let state = AppState::new(queue.clone(), Arc::new(Metrics::new())).with_webhook_secret(WEBHOOK_SECRET.into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/woocommerce", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    let hook = woo.create_webhook("order.created", &url).await.unwrap();
    assert_eq!(hook.status, "active", "the creation ping was answered: {hook:?}");

    // A real order, placed through the store's REST API.
    let mug = id(&info, "WNS-MUG");
    let order = rest(
        &info,
        reqwest::Method::POST,
        "orders",
        Some(serde_json::json!({
            "status": "processing",
            "payment_method": "bacs",
            "payment_method_title": "Bank transfer",
            "billing": {
                "first_name": "Ada", "last_name": "Lovelace", "email": format!("ada-{}@example.com", uuid::Uuid::new_v4()),
                "address_1": "1 Main St", "city": "San Francisco", "state": "CA", "postcode": "94103", "country": "US"
            },
            "shipping": {
                "first_name": "Ada", "last_name": "Lovelace",
                "address_1": "1 Main St", "city": "San Francisco", "state": "CA", "postcode": "94103", "country": "US"
            },
            "line_items": [{ "product_id": mug, "quantity": 2 }]
        })),
    )
    .await;
    let order_id = order["id"].as_u64().unwrap();

    // The store's queue delivers the webhook, signed, to wns; wns's worker posts the order.
    let php_info = info.clone();
    tokio::task::spawn_blocking(move || run_action_scheduler(&php_info)).await.unwrap();
    let external_id = format!("wc-shop-order-{order_id}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let sales_order = loop {
        worker.drain().await.unwrap();
        if let Some(so) = ns.sim.find_by_external_id("salesOrder", &external_id) {
            break so;
        }
        assert!(Instant::now() < deadline, "no sales order {external_id} in NetSuite within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let lines = sales_order["item"]["items"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{sales_order}");
    assert_eq!((lines[0]["item"]["id"].as_str(), lines[0]["quantity"].as_i64()), (Some(mug_item.as_str()), Some(2)));

    // NetSuite's stock changes (the posted order is already in its figure); one stock cycle
    // writes it to the real product.
    let before = woo.product(mug).await.unwrap().stock_quantity.unwrap();
    let target = before + 7;
    ns.sim.advance_clock(Duration::from_secs(1));
    ns.sim.set_stock(&mug_item, &east, target, target);
    let report = stock.cycle(true).await.unwrap();
    let after = woo.product(mug).await.unwrap().stock_quantity;
    // Cleaning up first, so that a run again on the same store starts alike: the order cancelled
    // (a mug order in processing that this run's NetSuite never saw would count as in flight),
    // the webhook deleted.
    rest(
        &info,
        reqwest::Method::PUT,
        &format!("orders/{order_id}"),
        Some(serde_json::json!({ "status": "cancelled" })),
    )
    .await;
    rest(&info, reqwest::Method::DELETE, &format!("webhooks/{}?force=true", hook.id), None).await;
    assert_eq!(
        after,
        Some(target),
        "NetSuite's available {target} (the order already in it) in the store (was {before}): {report:?}"
    );
    eprintln!("the whole flow against the real store took {:?}", started.elapsed());
}
