//! WooCommerce simulator: the `wc/v3` routes wns uses, WooCommerce Payments' deposits and
//! transactions, webhooks, and wns's own stock-adjust plugin route, behaving like the
//! WooCommerce 7.9 store recorded in `fixtures/woocommerce/`.
//!
//! Invariants: every JSON body is byte-compatible with WordPress (`wp_json_encode` escaping, key
//! order, money as strings), state lives behind one lock so a checkout is atomic, and webhook
//! deliveries never run inside the request that caused them: they are queued, coalesced per
//! (webhook, resource) while pending, built at delivery time and sent by a background task.

mod auth;
mod batch;
mod control;
mod control_http;
mod control_types;
mod crypto;
mod delivery;
mod error;
mod hookshot;
mod http;
pub mod json;
mod lifecycle;
mod model;
mod money;
mod order_items;
mod orders;
mod payments;
mod pricing;
mod products;
mod refunds;
mod router;
mod seed;
mod stock;
mod stock_levels;
mod store;
mod variations;
mod view_order;
mod view_product;
mod webhooks;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::any;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rust_decimal::Decimal;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::latency::Latency;

pub use auth::{OAuthMethod, oauth1_header, oauth1_header_now};
pub use control_types::{
    Checkout, CheckoutLine, DroppedDelivery, Fee, NewProduct, NewVariableProduct, NewVariation, Order, OrderLine,
    PayoutSpec, RefundLine, ShippingChoice,
};
pub use error::{CheckoutError, SimError};
pub use model::{Address, TaxRate};
pub use seed::seed_catalogue;

/// Consumer key of [`WooConfig::for_tests`].
pub const TEST_CONSUMER_KEY: &str = "ck_5f3c1e0b9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b";
/// Consumer secret of [`WooConfig::for_tests`].
pub const TEST_CONSUMER_SECRET: &str = "cs_0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";

/// What the REST key may do (WooCommerce > Settings > Advanced > REST API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KeyPermissions {
    Read,
    Write,
    ReadWrite,
}

/// How webhooks reach their receivers.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDelivery {
    /// Time between the change and the delivery (WP-Cron / Action Scheduler lag).
    pub delay: Duration,
    /// Share of deliveries that never happen (a lost cron run); counted in `webhooks_dropped`.
    pub loss_rate: f64,
    /// WooCommerce waits 60 s for the receiver.
    pub timeout: Duration,
    /// Deliveries in flight at once; 1 keeps WooCommerce's one-queue-runner order.
    pub concurrency: usize,
    /// `woocommerce_max_webhook_delivery_failures` (5): a webhook is disabled when a delivery fails
    /// while its failure count is already above this, i.e. on the 7th consecutive failure.
    pub max_failures: u32,
}

impl Default for WebhookDelivery {
    fn default() -> Self {
        WebhookDelivery {
            delay: Duration::ZERO,
            loss_rate: 0.0,
            timeout: Duration::from_secs(60),
            concurrency: 1,
            max_failures: 5,
        }
    }
}

#[derive(Debug, Clone)]
pub struct WooConfig {
    pub consumer_key: String,
    pub consumer_secret: String,
    pub key_permissions: KeyPermissions,
    /// The store is reached over HTTPS, so Basic and query-string keys work. A plain-HTTP store
    /// still treats a request with `X-Forwarded-Proto: https` as HTTPS (a trusted proxy).
    pub https: bool,
    /// Home URL printed in `_links` and signed by OAuth; `spawn` fills it with the bound address.
    pub site_url: Option<String>,
    /// Site time zone; `date_x` fields are local, `date_x_gmt` UTC.
    pub utc_offset_minutes: i32,
    /// Per request (WordPress boot + query).
    pub latency: Latency,
    /// Added per item of a batch (items run one after the other).
    pub batch_item_latency: Latency,
    pub latency_scale: f64,
    pub webhook_delivery: WebhookDelivery,
    pub seed: u64,
    pub currency: String,
    pub tax_rates: Vec<TaxRate>,
    /// wns's WordPress plugin is active: its `wns/v1` routes exist (a real store has none of
    /// them until the plugin is installed).
    pub wns_plugin: bool,
}

impl WooConfig {
    /// Known keys, plain HTTP (sign with OAuth 1.0a or send `X-Forwarded-Proto: https`), no
    /// latency, no loss, and the recorded store's tax rates (US-CA 7.25 %, GB 20 %).
    pub fn for_tests() -> WooConfig {
        WooConfig {
            consumer_key: TEST_CONSUMER_KEY.to_owned(),
            consumer_secret: TEST_CONSUMER_SECRET.to_owned(),
            key_permissions: KeyPermissions::ReadWrite,
            https: false,
            site_url: None,
            utc_offset_minutes: 0,
            latency: Latency::ZERO,
            batch_item_latency: Latency::ZERO,
            latency_scale: 1.0,
            webhook_delivery: WebhookDelivery { timeout: Duration::from_secs(5), ..WebhookDelivery::default() },
            seed: 7,
            currency: "USD".to_owned(),
            tax_rates: default_tax_rates(),
            wns_plugin: true,
        }
    }
}

/// The recorded store's rates: id 1 US/CA "CA State Tax" 7.25 %, id 2 GB "VAT" 20 %, both on shipping.
pub fn default_tax_rates() -> Vec<TaxRate> {
    let rate = |id, country: &str, state: &str, pct, name: &str| TaxRate {
        id,
        country: country.into(),
        state: state.into(),
        rate: pct,
        name: name.into(),
        priority: 1,
        shipping: true,
    };
    vec![rate(1, "US", "CA", Decimal::new(725, 2), "CA State Tax"), rate(2, "GB", "", Decimal::from(20), "VAT")]
}

/// What the simulator has seen and done, for assertions and benchmark reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct WooCounters {
    pub requests: u64,
    /// `GET /wc/v3/orders/{id}` → count.
    pub requests_by_route: BTreeMap<String, u64>,
    pub auth_failures: u64,
    pub batch_requests: u64,
    pub checkouts: u64,
    pub checkouts_refused: u64,
    /// Deliveries put in the queue (after coalescing).
    pub webhooks_queued: u64,
    /// Changes that found a delivery for the same webhook and resource still pending.
    pub webhooks_coalesced: u64,
    /// Deliveries attempted (HTTP request made or tried).
    pub webhooks_sent: u64,
    /// Answered 2xx, 301 or 302.
    pub webhooks_delivered: u64,
    /// Any other answer, or no answer.
    pub webhooks_failed: u64,
    /// Lost by the configured loss fault: never sent.
    pub webhooks_dropped: u64,
    pub webhooks_dropped_by_topic: BTreeMap<String, u64>,
    /// Times a webhook was disabled after repeated failures.
    pub webhooks_disabled: u64,
    pub pings_sent: u64,
}

pub(crate) struct Inner {
    cfg: WooConfig,
    store: Mutex<store::Store>,
    site_url: RwLock<String>,
    latency_scale: AtomicU64,
    webhook_loss: AtomicU64,
    latency_rng: Mutex<StdRng>,
    /// Its own stream, so which deliveries are lost depends on the seed and the delivery order only.
    loss_rng: Mutex<StdRng>,
    counters: Mutex<WooCounters>,
    dropped: Mutex<Vec<DroppedDelivery>>,
    outbox: Arc<delivery::Outbox>,
    dispatcher_started: AtomicBool,
    /// Injected failures: (path part, requests left to fail).
    failures: Mutex<Vec<(String, usize)>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.outbox.close();
    }
}

/// A simulated WooCommerce store. Cheap to clone; clones share the store.
#[derive(Clone)]
pub struct WooSim {
    inner: Arc<Inner>,
}

/// A simulator serving HTTP on a local port.
pub struct RunningWoo {
    /// `http://127.0.0.1:<port>`: where to send requests (and what the store calls itself).
    pub base_url: String,
    pub addr: SocketAddr,
    pub sim: WooSim,
    shutdown: CancellationToken,
}

impl RunningWoo {
    pub fn stop(&self) {
        self.shutdown.cancel();
    }
}

impl WooSim {
    pub fn new(cfg: WooConfig) -> WooSim {
        let mut store = store::Store::new(&cfg.currency, cfg.utc_offset_minutes, cfg.seed, cfg.tax_rates.clone());
        seed::default_coupons(&mut store);
        let site_url = cfg.site_url.clone().unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
        WooSim {
            inner: Arc::new(Inner {
                latency_scale: AtomicU64::new(cfg.latency_scale.to_bits()),
                webhook_loss: AtomicU64::new(cfg.webhook_delivery.loss_rate.to_bits()),
                latency_rng: Mutex::new(StdRng::seed_from_u64(cfg.seed ^ 0x5eed)),
                loss_rng: Mutex::new(StdRng::seed_from_u64(cfg.seed ^ 0x1055)),
                store: Mutex::new(store),
                site_url: RwLock::new(site_url.trim_end_matches('/').to_owned()),
                counters: Mutex::new(WooCounters::default()),
                dropped: Mutex::new(Vec::new()),
                outbox: Arc::new(delivery::Outbox::default()),
                dispatcher_started: AtomicBool::new(false),
                failures: Mutex::new(Vec::new()),
                cfg,
            }),
        }
    }

    /// `/wp-json/…` (WordPress REST) and `/_sim/…` (control) on one router.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/wp-json", any(router::wp_json))
            .route("/wp-json/", any(router::wp_json))
            .route("/wp-json/{*path}", any(router::wp_json))
            .route("/_sim/{*path}", any(control_http::handle))
            .layer(DefaultBodyLimit::max(8 << 20))
            .with_state(self.clone())
    }

    /// Serves on `127.0.0.1:0`.
    pub async fn spawn(cfg: WooConfig) -> std::io::Result<RunningWoo> {
        WooSim::spawn_at(cfg, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub async fn spawn_at(cfg: WooConfig, listen: SocketAddr) -> std::io::Result<RunningWoo> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let configured = cfg.site_url.is_some();
        let scheme = if cfg.https { "https" } else { "http" };
        let sim = WooSim::new(cfg);
        if !configured {
            sim.set_site_url(&format!("{scheme}://{addr}"));
        }
        sim.ensure_dispatcher();
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let app = sim.router();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).with_graceful_shutdown(token.cancelled_owned()).await;
        });
        Ok(RunningWoo { base_url: format!("http://{addr}"), addr, sim, shutdown })
    }

    pub fn config(&self) -> &WooConfig {
        &self.inner.cfg
    }

    pub fn site_url(&self) -> String {
        self.inner.site_url.read().expect("site url lock").clone()
    }

    pub fn set_site_url(&self, url: &str) {
        *self.inner.site_url.write().expect("site url lock") = url.trim_end_matches('/').to_owned();
    }

    pub fn set_latency_scale(&self, scale: f64) {
        self.inner.latency_scale.store(scale.to_bits(), Ordering::Relaxed);
    }

    pub fn latency_scale(&self) -> f64 {
        f64::from_bits(self.inner.latency_scale.load(Ordering::Relaxed))
    }

    pub fn set_webhook_loss(&self, rate: f64) {
        self.inner.webhook_loss.store(rate.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
    }

    pub fn webhook_loss(&self) -> f64 {
        f64::from_bits(self.inner.webhook_loss.load(Ordering::Relaxed))
    }

    /// The next `n` requests whose path contains `path_part` fail as a PHP fatal error does in
    /// WordPress's REST API: 500 `internal_server_error`, nothing done.
    pub fn fail_next(&self, path_part: &str, n: usize) {
        self.inner.failures.lock().expect("failures lock").push((path_part.to_owned(), n));
    }

    /// Takes one injected failure for `path`, if one is left.
    pub(crate) fn take_failure(&self, path: &str) -> bool {
        let mut failures = self.inner.failures.lock().expect("failures lock");
        let Some(f) = failures.iter_mut().find(|(part, left)| *left > 0 && path.contains(part.as_str())) else {
            return false;
        };
        f.1 -= 1;
        true
    }

    /// Stops the store's clock at `at` (`None`: runs with the wall clock again).
    pub fn freeze_clock(&self, at: Option<chrono::DateTime<chrono::Utc>>) {
        self.store().clock.frozen = at;
    }

    /// Moves the store's clock forward by `by` (frozen or not).
    pub fn advance_clock(&self, by: Duration) {
        self.store().clock.shift += chrono::Duration::from_std(by).expect("a sane duration");
    }

    pub fn counters(&self) -> WooCounters {
        self.inner.counters.lock().expect("counters lock").clone()
    }

    /// Every delivery lost by the loss fault, in order.
    pub fn dropped_deliveries(&self) -> Vec<DroppedDelivery> {
        self.inner.dropped.lock().expect("dropped lock").clone()
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, store::Store> {
        self.inner.store.lock().expect("store lock")
    }

    pub(crate) fn count(&self, f: impl FnOnce(&mut WooCounters)) {
        f(&mut self.inner.counters.lock().expect("counters lock"));
    }

    pub(crate) fn sample_latency(&self, latency: &Latency, times: usize) -> Duration {
        let scale = self.latency_scale();
        let mut rng = self.inner.latency_rng.lock().expect("rng lock");
        (0..times).map(|_| latency.sample(&mut *rng, scale)).sum()
    }

    /// Runs `f` on the store, then queues the webhooks its changes fire.
    pub(crate) fn with_store<T>(&self, f: impl FnOnce(&mut store::Store) -> T) -> T {
        let (out, hooks) = {
            let mut store = self.store();
            let out = f(&mut store);
            (out, store.take_hooks())
        };
        self.enqueue(hooks);
        out
    }
}
