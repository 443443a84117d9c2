//! NetSuite SuiteTalk REST simulator: records, SuiteQL, async jobs, TBA and OAuth 2.0, the
//! per-account concurrency gate, latency and faults. It follows Oracle's documentation and the
//! recorded samples in `fixtures/netsuite-samples/`, not the client's convenience, so a client that
//! passes against it has a chance against the real service. Guesses are marked [INFERRED].
//!
//! Tax: REST works only with SuiteTax, whose engine computes each line's tax on save. The
//! simulator stands in for that per-line calculation with one account-wide rate
//! ([`NetSuiteConfig::tax_rate`], [`NetSuiteSim::set_tax_rate`]); lines that bring their own
//! `taxAmount` keep it. No tax codes, nexuses or `taxDetails` sublist are simulated.
//!
//! Inventory: `inventoryitemlocations` moves as NetSuite's does. Approved sales orders commit
//! stock at their lines' locations when saved (available falls, committed rises, the shortfall
//! is backordered), closing lines or deleting the order releases it, fulfilment ships committed
//! units out of on hand and committed. [`NetSuiteSim::set_stock`] seeds, and
//! [`NetSuiteSim::receive_stock`] / [`NetSuiteSim::sell_elsewhere`] move stock as receipts and
//! other channels would. The rules, and what is [INFERRED], are in `store.rs`.
//!
//! One simulator is one account. Its state sits behind short-lived locks; nothing is held
//! across an await except the concurrency slot, which is exactly what NetSuite counts.

mod auth;
mod config;
mod control;
mod error;
mod jobs;
mod oauth2;
mod records;
mod render;
mod reply;
mod routes;
mod service;
mod store;
mod suiteql;
mod transform;
mod types;
mod validate;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use chrono::{DateTime, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub use config::{
    Counters, Faults, LatencyProfile, NetSuiteConfig, OAuth2Client, TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET,
    TEST_TOKEN_ID, TEST_TOKEN_SECRET, TbaCredentials,
};
pub use error::{Detail, NsError};

use auth::AuthState;
use jobs::Jobs;
use records::Key;
use render::View;
use store::Store;
use types::{Category, record_type};
use validate::Setup;

/// An item as the simulator seeds it: what `inventoryItem` etc. would hold.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SeedItem {
    /// The SKU.
    pub itemid: String,
    pub display_name: String,
    /// SuiteQL `itemtype` code: `InvtPart` (default), `NonInvtPart`, `Service`, `Kit`…
    pub item_type: String,
    pub base_price: Decimal,
    pub is_inactive: bool,
    pub subsidiaries: Vec<String>,
    /// The item's UPC code (`upcCode`), empty for none.
    pub upc: String,
}

impl SeedItem {
    /// An active inventory item with this SKU, display name the same, price 0.
    pub fn new(itemid: &str) -> SeedItem {
        SeedItem { itemid: itemid.into(), display_name: itemid.into(), ..SeedItem::default() }
    }
}

impl Default for SeedItem {
    fn default() -> SeedItem {
        SeedItem {
            itemid: String::new(),
            display_name: String::new(),
            item_type: "InvtPart".into(),
            base_price: Decimal::ZERO,
            is_inactive: false,
            subsidiaries: Vec::new(),
            upc: String::new(),
        }
    }
}

/// One item's figures at one location, as `inventoryitemlocations` shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockRow {
    pub on_hand: i64,
    /// On hand less what sales orders have committed (as seeded by [`NetSuiteSim::set_stock`]
    /// and moved by orders, fulfilments, receipts and sales elsewhere).
    pub available: i64,
    pub committed: i64,
    pub backordered: i64,
}

/// The settings that can change while the simulator runs.
pub(crate) struct Live {
    pub limit: usize,
    pub latency: LatencyProfile,
    pub faults: Faults,
    pub skew: Duration,
    pub token_lifetime: Duration,
    pub tax_rate: Option<Decimal>,
}

pub(crate) struct Inner {
    pub account: String,
    pub live: Mutex<Live>,
    pub auth: Mutex<AuthState>,
    pub store: Mutex<Store>,
    pub counters: Mutex<Counters>,
    pub rng: Mutex<StdRng>,
    pub jobs: Mutex<Jobs>,
    pub processors: Arc<tokio::sync::Semaphore>,
    pub tables: Mutex<suiteql::TableCache>,
    /// Scheme and host the last request came in on, for links built outside a request.
    pub base_hint: Mutex<String>,
    /// The account's time: what records and stock rows are stamped with.
    pub clock: Mutex<SimClock>,
}

/// The account's clock, injectable so tests move time instead of sleeping (`lastmodifieddate`
/// has whole seconds as wns reads it). Every record and stock movement is stamped with it;
/// authentication (TBA timestamps and nonces, OAuth 2.0 assertions and tokens) stays on the wall
/// clock, as the client signing the request is.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SimClock {
    frozen: Option<DateTime<Utc>>,
    shift: chrono::Duration,
}

impl SimClock {
    fn now(&self) -> DateTime<Utc> {
        self.frozen.unwrap_or_else(Utc::now) + self.shift
    }
}

/// Locks never guard a half-done change (each critical section completes or does nothing), so a
/// panic elsewhere must not take the whole simulator down with a poisoned lock.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Async jobs run on this many "REST async processors" (one SuiteCloud Plus licence's worth).
const ASYNC_PROCESSORS: usize = 2;

#[derive(Clone)]
pub struct NetSuiteSim {
    pub(crate) inner: Arc<Inner>,
}

pub struct RunningNetSuite {
    pub base_url: String,
    pub sim: NetSuiteSim,
    stop: CancellationToken,
}

impl Drop for RunningNetSuite {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl NetSuiteSim {
    pub fn new(cfg: NetSuiteConfig) -> NetSuiteSim {
        let live = Live {
            limit: cfg.concurrency_limit,
            latency: cfg.latency,
            faults: cfg.faults,
            skew: cfg.max_clock_skew,
            token_lifetime: cfg.token_lifetime,
            tax_rate: cfg.tax_rate,
        };
        NetSuiteSim {
            inner: Arc::new(Inner {
                account: cfg.account_id,
                live: Mutex::new(live),
                auth: Mutex::new(AuthState::new(cfg.tba, cfg.oauth2_clients)),
                store: Mutex::new(Store::new()),
                counters: Mutex::new(Counters::default()),
                rng: Mutex::new(StdRng::seed_from_u64(cfg.seed)),
                jobs: Mutex::new(Jobs::default()),
                processors: Arc::new(tokio::sync::Semaphore::new(ASYNC_PROCESSORS)),
                tables: Mutex::new(suiteql::TableCache::default()),
                base_hint: Mutex::new("http://localhost".into()),
                clock: Mutex::new(SimClock::default()),
            }),
        }
    }

    /// REST routes under `/services/rest/…` and the control API under `/_sim/…`.
    pub fn router(&self) -> Router {
        service::router(self.clone()).merge(control::router(self.clone()))
    }

    /// Serves on 127.0.0.1 at a free port until the returned value is dropped.
    pub async fn spawn(cfg: NetSuiteConfig) -> std::io::Result<RunningNetSuite> {
        let sim = NetSuiteSim::new(cfg);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        *lock(&sim.inner.base_hint) = base_url.clone();
        let stop = CancellationToken::new();
        let app = sim.router();
        let shutdown = stop.clone().cancelled_owned();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
                tracing::warn!(error = %e, "netsuite simulator stopped serving");
            }
        });
        Ok(RunningNetSuite { base_url, sim, stop })
    }

    pub fn account_id(&self) -> &str {
        &self.inner.account
    }

    /// The account's time now: what a record or stock movement saved now is stamped with.
    pub fn now(&self) -> DateTime<Utc> {
        lock(&self.inner.clock).now()
    }

    /// Stops the account's clock at `at` (`None`: runs with the wall clock again). Requests are
    /// still authenticated against the wall clock.
    pub fn freeze_clock(&self, at: Option<DateTime<Utc>>) {
        lock(&self.inner.clock).frozen = at;
    }

    /// Moves the account's clock forward by `by` (frozen or not); authentication is not moved.
    pub fn advance_clock(&self, by: Duration) {
        lock(&self.inner.clock).shift += chrono::Duration::from_std(by).expect("a sane duration");
    }

    pub fn counters(&self) -> Counters {
        lock(&self.inner.counters).clone()
    }

    /// Zeroes the counts; requests in flight stay counted as in flight.
    pub fn reset_counters(&self) {
        let mut c = lock(&self.inner.counters);
        let in_flight = c.in_flight;
        *c = Counters { in_flight, peak_in_flight: in_flight, ..Counters::default() };
    }

    pub fn set_faults(&self, f: Faults) {
        lock(&self.inner.live).faults = f;
    }

    pub fn set_concurrency_limit(&self, n: usize) {
        lock(&self.inner.live).limit = n;
    }

    pub fn set_latency(&self, l: LatencyProfile) {
        lock(&self.inner.live).latency = l;
    }

    /// The SuiteTax stand-in's rate for saves from now on (`None`: no tax is computed).
    pub fn set_tax_rate(&self, rate: Option<Decimal>) {
        lock(&self.inner.live).tax_rate = rate;
    }

    /// What a save computes, as the account is set up right now.
    pub(crate) fn setup(&self) -> Setup {
        Setup { tax_rate: lock(&self.inner.live).tax_rate }
    }

    pub fn add_oauth2_client(&self, c: OAuth2Client) {
        lock(&self.inner.auth).oauth2.push(c);
    }

    pub fn add_tba_credentials(&self, c: TbaCredentials) {
        lock(&self.inner.auth).tba.push(c);
    }

    /// A location; returns its internal id.
    pub fn seed_location(&self, name: &str) -> String {
        let rtype = record_type("location").expect("location is a known type");
        let f = json!({ "name": name, "isInactive": false });
        let now = self.now();
        let id = lock(&self.inner.store).insert(rtype, into_fields(f), now);
        id.to_string()
    }

    /// An item with the SKU `item.itemid`; returns its internal id.
    pub fn seed_item(&self, item: SeedItem) -> String {
        let rtype = types::item_type_for_code(&item.item_type)
            .unwrap_or_else(|| record_type("inventoryItem").expect("inventoryItem is a known type"));
        let subsidiaries: Vec<Value> = item.subsidiaries.iter().map(|s| json!({ "id": s })).collect();
        let mut f = json!({
            "itemId": item.itemid,
            "displayName": item.display_name,
            "itemType": { "id": rtype.code },
            "basePrice": validate::number(item.base_price),
            "isInactive": item.is_inactive,
        });
        if !subsidiaries.is_empty() {
            f["subsidiary"] = json!({ "items": subsidiaries });
        }
        if !item.upc.is_empty() {
            f["upcCode"] = json!(item.upc);
        }
        let now = self.now();
        lock(&self.inner.store).insert(rtype, into_fields(f), now).to_string()
    }

    /// Replaces the item's subsidiary sublist, as someone editing the item in NetSuite would,
    /// and bumps its `lastModifiedDate`. An empty list removes the sublist, which (as with
    /// [`SeedItem::subsidiaries`]) makes the item available in every subsidiary.
    pub fn set_item_subsidiaries(&self, item_id: &str, subsidiaries: &[&str]) {
        let now = self.now();
        let mut store = lock(&self.inner.store);
        let record = item_id.parse().ok().and_then(|id| store.get(id)).filter(|r| r.rtype.category == Category::Item);
        let Some(record) = record else {
            panic!("set_item_subsidiaries: {item_id:?} is not the internal id of an item");
        };
        let (id, mut f) = (record.id, record.fields.clone());
        if subsidiaries.is_empty() {
            f.remove("subsidiary");
        } else {
            let lines: Vec<Value> = subsidiaries.iter().map(|s| json!({ "id": s })).collect();
            f.insert("subsidiary".into(), json!({ "items": lines }));
        }
        // `replace` bumps the store's version, so SuiteQL's cached tables are rebuilt.
        store.replace(id, f, now);
    }

    /// Seeds one item's on hand and available at one location and bumps its `lastmodifieddate`.
    /// What open sales orders have committed there stays counted in `committed`/`backordered`.
    pub fn set_stock(&self, item_id: &str, location_id: &str, on_hand: i64, available: i64) {
        let (item, location) = stock_key("set_stock", item_id, location_id);
        let now = self.now();
        lock(&self.inner.store).set_stock(item, location, on_hand, available, now);
    }

    /// An item receipt at one location: on hand and available rise by `quantity`, then
    /// backordered sales order lines there commit what they can, oldest order first.
    pub fn receive_stock(&self, item_id: &str, location_id: &str, quantity: i64) {
        let (item, location) = stock_key("receive_stock", item_id, location_id);
        let now = self.now();
        lock(&self.inner.store).receive_stock(item, location, quantity, now);
    }

    /// Another channel's sale, shipped at once from one location: on hand and available drop by
    /// `quantity`; commitments are left as they are.
    pub fn sell_elsewhere(&self, item_id: &str, location_id: &str, quantity: i64) {
        let (item, location) = stock_key("sell_elsewhere", item_id, location_id);
        let now = self.now();
        lock(&self.inner.store).take_stock(item, location, quantity, now);
    }

    /// Fulfils every open line of a sales order (as `!transform/itemFulfillment` would, shipped,
    /// with one package per tracking number); returns the fulfilment's internal id.
    pub fn fulfil(&self, sales_order_id: &str, tracking_numbers: &[&str]) -> String {
        self.try_fulfil(sales_order_id, tracking_numbers)
            .unwrap_or_else(|e| panic!("fulfil {sales_order_id}: {} {}", e.code(), e.detail()))
    }

    pub(crate) fn try_fulfil(&self, sales_order_id: &str, tracking_numbers: &[&str]) -> Result<String, NsError> {
        let from = record_type("salesOrder").expect("salesOrder is a known type");
        let to = record_type("itemFulfillment").expect("itemFulfillment is a known type");
        let key = records::parse_key(sales_order_id)?;
        let packages: Vec<Value> = tracking_numbers.iter().map(|t| json!({ "packageTrackingNumber": t })).collect();
        let mut body = json!({ "shipStatus": { "id": "C" } });
        if !packages.is_empty() {
            body["package"] = json!({ "items": packages });
        }
        let (setup, now) = (self.setup(), self.now());
        let mut store = lock(&self.inner.store);
        transform::transform(&mut store, from, &key, to, into_fields(body), now, &setup).map(|id| id.to_string())
    }

    /// Stored records of a type as GET with `expandSubResources=true` shows them.
    pub fn records(&self, record_type_name: &str) -> Vec<Value> {
        let Some(rtype) = record_type(record_type_name) else { return Vec::new() };
        let base = lock(&self.inner.base_hint).clone();
        let store = lock(&self.inner.store);
        let view = View { store: &store, base: &base, expand: true };
        store
            .ids_of(rtype.name)
            .into_iter()
            .filter_map(|id| store.get(id))
            .map(|r| serde_json::to_value(view.record(r, None)).unwrap_or(Value::Null))
            .collect()
    }

    pub fn record_count(&self, record_type_name: &str) -> usize {
        record_type(record_type_name).map_or(0, |t| lock(&self.inner.store).count_of(t.name))
    }

    pub fn find_by_external_id(&self, record_type_name: &str, external_id: &str) -> Option<Value> {
        let rtype = record_type(record_type_name)?;
        let base = lock(&self.inner.base_hint).clone();
        let store = lock(&self.inner.store);
        let id = records::resolve(&store, rtype, &Key::Eid(external_id.to_string())).ok()?;
        let view = View { store: &store, base: &base, expand: true };
        serde_json::to_value(view.record(store.get(id)?, None)).ok()
    }

    /// Quantities at one location: (on hand, available), if any were ever set.
    pub fn stock(&self, item_id: &str, location_id: &str) -> Option<(i64, i64)> {
        let key = (item_id.parse().ok()?, location_id.parse().ok()?);
        lock(&self.inner.store).stock.get(&key).map(|s| (s.on_hand, s.available))
    }

    /// One item's figures at one location, if the row exists (seeded, received, sold or
    /// committed against).
    pub fn stock_row(&self, item_id: &str, location_id: &str) -> Option<StockRow> {
        let key = (item_id.parse().ok()?, location_id.parse().ok()?);
        lock(&self.inner.store).stock.get(&key).map(|s| StockRow {
            on_hand: s.on_hand,
            available: s.available,
            committed: s.committed,
            backordered: s.backordered,
        })
    }

    /// Waits until every async task submitted so far has finished (tests drain instead of sleeping).
    pub async fn wait_for_jobs(&self) {
        while lock(&self.inner.jobs).pending() > 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    pub(crate) fn is_item(&self, id: u64) -> bool {
        lock(&self.inner.store).is_a(id, Category::Item)
    }
}

fn stock_key(what: &str, item_id: &str, location_id: &str) -> (u64, u64) {
    match (item_id.parse(), location_id.parse()) {
        (Ok(item), Ok(location)) => (item, location),
        _ => panic!("{what}: ids must be internal ids, got {item_id:?} / {location_id:?}"),
    }
}

fn into_fields(v: Value) -> store::Fields {
    match v {
        Value::Object(m) => m,
        _ => store::Fields::new(),
    }
}
