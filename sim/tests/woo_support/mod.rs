//! Shared by the `woo_*` tests: a signed REST client, the recorded fixtures, a structural JSON
//! comparison (same keys in the same order, same JSON types) and a local webhook receiver.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::sync::Notify;
use wns_sim::woo::json::OJson;
use wns_sim::woo::{RunningWoo, TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET, WooConfig, WooSim, oauth1_header_now};

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/woocommerce")
}

/// A recorded exchange: the request and the response as WooCommerce sent it.
pub struct Fixture {
    pub request: OJson,
    pub status: u16,
    pub headers: OJson,
    pub body: OJson,
}

pub fn fixture(name: &str) -> Fixture {
    let path = fixtures_dir().join(format!("{name}.json"));
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let f = OJson::parse(&text).expect("fixture is JSON");
    let response = f.get("response").expect("response").clone();
    let raw = response.get("raw_body").and_then(OJson::as_str).expect("raw_body").to_owned();
    Fixture {
        request: f.get("request").expect("request").clone(),
        status: response.get("status").and_then(OJson::as_u64).expect("status") as u16,
        headers: response.get("headers_that_matter").cloned().unwrap_or_default(),
        body: OJson::parse(raw.as_bytes()).expect("raw body is JSON"),
    }
}

impl Fixture {
    pub fn request_body(&self) -> OJson {
        self.request.get("body").cloned().unwrap_or_default()
    }
}

/// Differences in shape between `expected` and `actual`: key sets and order of every object,
/// JSON types of every value, element shapes of arrays (pairwise up to the shorter one).
pub fn shape_diff(expected: &OJson, actual: &OJson) -> Vec<String> {
    let mut out = Vec::new();
    walk(expected, actual, "$", &mut out);
    out
}

fn walk(e: &OJson, a: &OJson, path: &str, out: &mut Vec<String>) {
    if e.type_name() != a.type_name() {
        out.push(format!("{path}: expected {} ({}), got {} ({})", e.type_name(), short(e), a.type_name(), short(a)));
        return;
    }
    match (e, a) {
        (OJson::Obj(ep), OJson::Obj(ap)) => {
            let ek: Vec<&str> = ep.iter().map(|(k, _)| k.as_str()).collect();
            let ak: Vec<&str> = ap.iter().map(|(k, _)| k.as_str()).collect();
            // An object keyed by ids (a PHP array with numeric keys) is a map: types only.
            let numeric =
                |keys: &[&str]| !keys.is_empty() && keys.iter().all(|k| k.bytes().all(|b| b.is_ascii_digit()));
            if numeric(&ek) && numeric(&ak) {
                return;
            }
            if ek != ak {
                out.push(format!("{path}: keys differ\n  expected {ek:?}\n  got      {ak:?}"));
                return;
            }
            for ((k, ev), (_, av)) in ep.iter().zip(ap) {
                walk(ev, av, &format!("{path}.{k}"), out);
            }
        }
        (OJson::Arr(ei), OJson::Arr(ai)) => {
            for (i, (ev, av)) in ei.iter().zip(ai).enumerate() {
                walk(ev, av, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn short(v: &OJson) -> String {
    let s = String::from_utf8(wns_sim_json(v)).unwrap_or_default();
    s.chars().take(60).collect()
}

fn wns_sim_json(v: &OJson) -> Vec<u8> {
    serde_json::to_vec(&v.to_value()).unwrap_or_default()
}

/// Keys whose values depend on ids, clocks or random keys, not on WooCommerce's arithmetic.
const VOLATILE: &[&str] = &[
    "id",
    "product_id",
    "variation_id",
    "parent_id",
    "customer_id",
    "rate_id",
    "resource_id",
    "order_key",
    "payment_url",
    "_links",
    "number",
    "permalink",
    "permalink_template",
    "related_ids",
    "variations",
    "cart_hash",
    "total_sales",
];

/// Value differences outside [`VOLATILE`] keys and dates (shapes are checked by [`shape_diff`]).
pub fn value_diff(expected: &OJson, actual: &OJson) -> Vec<String> {
    let mut out = Vec::new();
    values(expected, actual, "$", &mut out);
    out
}

fn values(e: &OJson, a: &OJson, path: &str, out: &mut Vec<String>) {
    match (e, a) {
        (OJson::Obj(ep), OJson::Obj(_)) => {
            let refunded_item = e.get("key").and_then(OJson::as_str) == Some("_refunded_item_id");
            for (k, ev) in ep {
                let skip = VOLATILE.contains(&k.as_str())
                    || k.starts_with("date_")
                    || (refunded_item && (k == "value" || k == "display_value"))
                    || ev.as_object().is_some() && (k == "value" || k == "display_value");
                if let (false, Some(av)) = (skip, a.get(k)) {
                    values(ev, av, &format!("{path}.{k}"), out);
                }
            }
        }
        (OJson::Arr(ei), OJson::Arr(ai)) => {
            if ei.len() != ai.len() {
                out.push(format!("{path}: expected {} items, got {}", ei.len(), ai.len()));
            }
            for (i, (ev, av)) in ei.iter().zip(ai).enumerate() {
                values(ev, av, &format!("{path}[{i}]"), out);
            }
        }
        _ if e != a => out.push(format!("{path}: expected {}, got {}", short(e), short(a))),
        _ => {}
    }
}

pub fn assert_same_shape(what: &str, expected: &OJson, actual: &OJson) {
    let diff = shape_diff(expected, actual);
    assert!(diff.is_empty(), "{what}: shape differs from the recording:\n{}", diff.join("\n"));
}

pub fn assert_same_values(what: &str, expected: &OJson, actual: &OJson) {
    let diff = value_diff(expected, actual);
    assert!(diff.is_empty(), "{what}: values differ from the recording:\n{}", diff.join("\n"));
}

/// An answer: status, headers and the body read in document order.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub raw: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> OJson {
        OJson::parse(&self.raw).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.raw)))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
    }
}

/// A REST client signing every request with one-legged OAuth 1.0a, as over plain HTTP.
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
}

impl Client {
    pub fn new(base: &str) -> Client {
        Client { base: base.to_owned(), http: reqwest::Client::new() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/wp-json/wc/v3{path}", self.base)
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<&OJson>) -> Answer {
        let url = if path.starts_with("/wp-json") { format!("{}{path}", self.base) } else { self.url(path) };
        let auth = oauth1_header_now(method.as_str(), &url, TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET);
        let mut req = self.http.request(method, &url).header("Authorization", auth);
        if let Some(body) = body {
            req = req.header("Content-Type", "application/json").body(serde_json::to_vec(&body.to_value()).unwrap());
        }
        answer(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &OJson) -> Answer {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &OJson) -> Answer {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

pub async fn answer(r: reqwest::Response) -> Answer {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let raw = r.bytes().await.expect("body").to_vec();
    Answer { status, headers, raw }
}

pub async fn start() -> (RunningWoo, Client) {
    let running = WooSim::spawn(WooConfig::for_tests()).await.expect("simulator starts");
    let client = Client::new(&running.base_url);
    (running, client)
}

/// The recorded store's catalogue, created through the REST API with the recorded requests.
pub struct Catalogue {
    pub mug: u64,
    pub tee: u64,
    pub beans: u64,
    pub tshirt: u64,
    /// S, M, L.
    pub sizes: [u64; 3],
}

pub async fn recorded_catalogue(c: &Client) -> Catalogue {
    let mug = OJson::parse(
        br#"{"name":"Enamel Mug","type":"simple","regular_price":"12.50","sku":"WNS-MUG","manage_stock":true,"stock_quantity":40}"#,
    )
    .unwrap();
    let mug = c.post("/products", &mug).await.json();
    let tee = c.post("/products", &fixture("setup-product-entity-name").request_body()).await.json();
    let beans = c.post("/products", &fixture("setup-product-unicode-sku").request_body()).await.json();
    let tshirt = c.post("/products", &fixture("setup-product-variable").request_body()).await.json();
    let tshirt_id = tshirt.get("id").and_then(OJson::as_u64).unwrap();
    let mut sizes = [0; 3];
    for (i, (size, stock)) in [("S", 5), ("M", 8), ("L", 3)].into_iter().enumerate() {
        let body = OJson::parse(
            format!(
                r#"{{"regular_price":"22.00","sku":"TSHIRT-{size}","manage_stock":true,"stock_quantity":{stock},"attributes":[{{"name":"Size","option":"{size}"}}]}}"#
            )
            .as_bytes(),
        )
        .unwrap();
        sizes[i] = c
            .post(&format!("/products/{tshirt_id}/variations"), &body)
            .await
            .json()
            .get("id")
            .and_then(OJson::as_u64)
            .unwrap();
    }
    let id = |v: &OJson| v.get("id").and_then(OJson::as_u64).unwrap();
    Catalogue { mug: id(&mug), tee: id(&tee), beans: id(&beans), tshirt: tshirt_id, sizes }
}

/// A recorded request body with the recorded product ids replaced by ours.
pub fn remap_ids(body: &OJson, map: &[(u64, u64)]) -> OJson {
    match body {
        OJson::Obj(pairs) => OJson::Obj(
            pairs
                .iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v.as_u64()) {
                        ("product_id" | "variation_id", Some(old)) => {
                            OJson::int(map.iter().find(|(o, _)| *o == old).map(|(_, n)| *n).unwrap_or(old) as i64)
                        }
                        _ => remap_ids(v, map),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        OJson::Arr(items) => OJson::Arr(items.iter().map(|v| remap_ids(v, map)).collect()),
        other => other.clone(),
    }
}

impl Catalogue {
    /// Recorded ids (16–22) → ours.
    pub fn id_map(&self) -> Vec<(u64, u64)> {
        vec![
            (16, self.mug),
            (17, self.tee),
            (18, self.beans),
            (19, self.tshirt),
            (20, self.sizes[0]),
            (21, self.sizes[1]),
            (22, self.sizes[2]),
        ]
    }
}

/// One webhook request as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Delivery {
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }
}

/// A local webhook receiver answering with a settable status.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    seen: Arc<Mutex<Vec<Delivery>>>,
    status: Arc<AtomicU16>,
    arrived: Arc<Notify>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let r = Receiver {
            url: format!("http://{addr}/hooks"),
            seen: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
            arrived: Arc::new(Notify::new()),
        };
        let app = Router::new().route("/hooks", post(receive)).with_state(r.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        r
    }

    pub fn answer_with(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    pub fn seen(&self) -> Vec<Delivery> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits (at most 10 s) until `n` requests have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Delivery> {
        let wait = async {
            loop {
                let notified = self.arrived.notified();
                if self.seen.lock().unwrap().len() >= n {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(10), wait).await.expect("deliveries arrive in time");
        self.seen()
    }
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    r.seen.lock().unwrap().push(Delivery { headers, body });
    r.arrived.notify_waiters();
    StatusCode::from_u16(r.status.load(Ordering::SeqCst)).unwrap()
}
