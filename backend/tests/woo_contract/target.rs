//! The store a contract test runs against: the simulator or the real store, the same way in.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Router, body::Bytes, http::HeaderMap, routing::post};
use reqwest::Method;
use serde_json::{Value, json};
use wns::woo::{WooClient, WooSettings};
use wns_sim::woo::{RunningWoo, WooConfig, WooSim};

pub const WEBHOOK_SECRET: &str = "wns-test-webhook-secret";

enum Kind {
    /// Kept running while the test runs.
    Sim(#[allow(dead_code)] RunningWoo),
    /// The real store's `store.json`.
    Real(Value),
}

pub struct Target {
    kind: Kind,
    pub base_url: String,
    consumer_key: String,
    consumer_secret: String,
    /// Tells apart what this test makes in a store other tests share.
    pub tag: String,
}

/// Held by the real store's tests that run its Action Scheduler queue: two runners at once claim
/// each other's deliveries, so a test could find its own queue run empty.
pub static ACTION_SCHEDULER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl Target {
    pub async fn sim() -> Target {
        wns::testing::init_logs();
        let woo = WooSim::spawn(WooConfig::for_tests()).await.unwrap();
        Target {
            base_url: woo.base_url.clone(),
            consumer_key: wns_sim::woo::TEST_CONSUMER_KEY.into(),
            consumer_secret: wns_sim::woo::TEST_CONSUMER_SECRET.into(),
            kind: Kind::Sim(woo),
            tag: tag(),
        }
    }

    pub fn real() -> Target {
        wns::testing::init_logs();
        let info = real_store_info();
        let text = |k: &str| info[k].as_str().unwrap().to_string();
        Target {
            base_url: text("url"),
            consumer_key: text("consumer_key"),
            consumer_secret: text("consumer_secret"),
            kind: Kind::Real(info),
            tag: tag(),
        }
    }

    pub fn settings(&self, base_url: &str) -> WooSettings {
        WooSettings {
            base_url: base_url.into(),
            consumer_key: self.consumer_key.clone(),
            consumer_secret: self.consumer_secret.clone().into(),
            webhook_secret: WEBHOOK_SECRET.into(),
            webhook_max_body_bytes: 2 * 1024 * 1024,
            public_url: "http://127.0.0.1:9".into(),
            sweep_every_secs: 300,
            webhook_check_every_secs: 300,
            ca_file: None,
        }
    }

    /// wns's client as a store on plain http gets it: OAuth 1.0a signatures.
    pub fn client(&self) -> WooClient {
        WooClient::new(&self.settings(&self.base_url)).unwrap()
    }

    /// A call to the store's REST API as wp-admin's REST clients send it through an HTTPS proxy
    /// (Basic auth, `X-Forwarded-Proto: https`); the answer's status, headers and JSON.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, HeaderMap, Value) {
        let mut req = reqwest::Client::new()
            .request(method, format!("{}/wp-json/wc/v3/{path}", self.base_url))
            .basic_auth(&self.consumer_key, Some(&self.consumer_secret))
            .header("X-Forwarded-Proto", "https");
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.unwrap();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{path}: {status} is not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
        (status, headers, json)
    }

    /// [`Target::call`] that must succeed.
    pub async fn rest(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, _, answer) = self.call(method.clone(), path, body).await;
        assert!((200..300).contains(&status), "{method} {path}: {status} {answer}");
        answer
    }

    /// A published simple product with managed stock and a SKU of this test's own.
    pub async fn product(&self, sku: &str, price: &str, stock: i64) -> (u64, String) {
        let sku = format!("{sku}-{}", self.tag);
        let p = self
            .rest(
                Method::POST,
                "products",
                Some(json!({
                    "name": format!("Contract {sku}"), "sku": sku, "regular_price": price,
                    "manage_stock": true, "stock_quantity": stock, "status": "publish"
                })),
            )
            .await;
        (p["id"].as_u64().unwrap(), sku)
    }

    /// A processing order placed through the REST API by a customer in San Francisco, with
    /// `lines` as `(product id, quantity)`; its id.
    pub async fn order(&self, lines: &[(u64, u32)]) -> u64 {
        let address = json!({
            "first_name": "Ada", "last_name": "Lovelace", "address_1": "1 Main St", "city": "San Francisco",
            "state": "CA", "postcode": "94103", "country": "US"
        });
        let mut billing = address.clone();
        billing["email"] = json!(format!("ada-{}@example.com", uuid::Uuid::new_v4()));
        let line_items: Vec<Value> = lines.iter().map(|(p, q)| json!({ "product_id": p, "quantity": q })).collect();
        let body = json!({
            "status": "processing", "payment_method": "bacs", "payment_method_title": "Bank transfer",
            "billing": billing, "shipping": address, "line_items": line_items
        });
        self.rest(Method::POST, "orders", Some(body)).await["id"].as_u64().unwrap()
    }

    /// Cancels an order this test placed, so that a run again on the same store starts alike (an
    /// order in processing that the next run's NetSuite never saw would count as in flight).
    pub async fn cancel(&self, order: u64) {
        self.rest(Method::PUT, &format!("orders/{order}"), Some(json!({ "status": "cancelled" }))).await;
    }

    /// The real store's `store.json` (its URL, path, keys, users and seeded products).
    pub fn info(&self) -> &Value {
        let Kind::Real(info) = &self.kind else { panic!("only the real store has a store.json") };
        info
    }

    fn wp_load(&self) -> String {
        format!("{}wp-load.php", self.info()["path"].as_str().unwrap())
    }

    /// Runs PHP inside the real store (WordPress loaded), as its own CLI scripts do.
    pub fn php(&self, code: &str) -> String {
        run_php(&self.wp_load(), code)
    }

    /// Lets the store deliver what it queued: the real store's Action Scheduler queue is run once,
    /// as WP-Cron would; the simulator delivers on its own.
    pub async fn deliver(&self) {
        if let Kind::Real(_) = self.kind {
            let wp_load = self.wp_load();
            let run = move || run_php(&wp_load, "ActionScheduler_QueueRunner::instance()->run();");
            tokio::task::spawn_blocking(run).await.unwrap();
        }
    }

    /// Deletes a webhook this test made, so that later tests' queue runs do not deliver to it.
    pub async fn delete_webhook(&self, id: u64) {
        self.rest(Method::DELETE, &format!("webhooks/{id}?force=true"), None).await;
    }
}

fn tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_uppercase()
}

fn real_store_info() -> Value {
    let file = std::env::var("WNS_REAL_WOO")
        .expect("WNS_REAL_WOO must name a running test store's store.json: run these with `cargo xtask test-php`");
    serde_json::from_str(&std::fs::read_to_string(&file).expect("reading store.json")).unwrap()
}

/// `code` run by PHP's CLI with the store's WordPress loaded; what it printed.
fn run_php(wp_load: &str, code: &str) -> String {
    let out = std::process::Command::new("php")
        .arg("-r")
        .arg(format!("$_SERVER['HTTP_HOST'] = '127.0.0.1'; require {wp_load:?}; {code}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "PHP in the store ({code}): {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Every request a receiver on a loopback port got: its headers and body.
pub type Received = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A receiver that answers every delivery with 200.
pub async fn receiver() -> (String, Received) {
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

/// Runs `deliver` and re-checks until `done` holds; the bound only stops a broken run.
pub async fn until(t: &Target, what: &str, mut done: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    loop {
        if done().await {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        t.deliver().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
