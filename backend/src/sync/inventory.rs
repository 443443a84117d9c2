//! Stock: NetSuite → WooCommerce within a minute, without overselling.
//!
//! **Reading.** Every `stock.every_secs` (default 60) one SuiteQL query per web-store location
//! reads the `inventoryitemlocations` rows whose `lastmodifieddate` is at or after the watermark
//! minus `stock.overlap_secs`. The watermark is the newest `lastmodifieddate` NetSuite itself
//! returned (its clock, its time zone), so neither clock skew nor the account's time zone can
//! skip a change; the overlap re-reads the last minutes in case a transaction committed late.
//! Sales orders, fulfilments, receipts and adjustments all move these rows, so one table covers
//! every transaction that moves stock. Every `stock.full_every_secs` (default nightly) the same
//! queries run without the watermark: the reconciliation pass, which also lists WooCommerce's
//! whole catalogue (`wc_catalogue`: ids for absolute writes, category slugs for
//! `category_buffers`, and WooCommerce's stock, compared with wns's figure — a difference is
//! looked at again after the drift grace period).
//!
//! **Available to sell** per SKU = Σ available in the web store's locations − units on
//! WooCommerce orders NetSuite's figure does not reflect yet (in flight) − the safety buffer,
//! never below 0. A WooCommerce order's units are in flight from the moment wns sees the order
//! until its sales order is saved *before* a stock read starts (NetSuite commits the units when it
//! saves the order, so that read already shows them): no gap, and no double count.
//!
//! **The write race, and how it is closed.** WooCommerce's `stock_quantity` is absolute. Writing
//! "17" overwrites every checkout that landed between wns computing 17 and WooCommerce storing
//! it, and those units are sold twice. So wns does not write absolute values in steady state:
//! it writes only what moved on NetSuite's side, as deltas, through wns's atomic stock-adjust
//! route (`POST wns/v1/stock/adjust`, the WordPress plugin's; `wc_update_product_stock` with
//! increase/decrease under WooCommerce's own row lock, one idempotency key per change). What
//! moved on NetSuite's side is the change of Y = NetSuite available + web units NetSuite
//! reflects: a web order's sales order lowers NetSuite's figure and raises the reflected units
//! by the same amount, so Y moves only with receipts, other channels, adjustments and
//! cancellations there. WooCommerce already took its own orders off at checkout; adding ΔY keeps
//! both. The first write of a SKU, the reconciliation and stores without the plugin
//! (`stock.write = "absolute"`) use WooCommerce's batch endpoint with the absolute value — the
//! race exists there, and the oversell benchmark measures it.
//!
//! **Freshness** per SKU: NetSuite's as-of time (`ns_as_of`), what was pushed when, and what
//! WooCommerce confirmed. A cycle that has not succeeded for `stock.stale_after_secs` raises
//! `stock_stale` (operations) for the whole stock; a SKU WooCommerce has refused for that long
//! (every cycle writes refused SKUs again) raises `stock_stale` for that SKU, with wns's figure
//! and what WooCommerce still shows. **Drift**: when WooCommerce reports a product change
//! (`product.updated`, i.e. an edit in wp-admin or by another plugin), its stock is compared with
//! what wns expects; a difference raises `stock_drift` (ecommerce) with both values, and with
//! `stock.correct_drift` the difference is written back as a delta.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::{
    monitor::exceptions::{Exception, ExceptionKind},
    netsuite::{
        ErrorClass, Lane, NetSuiteClient, NsError,
        suiteql::{WindowedQuery, literal},
    },
    queue::{ClaimedJob, Handlers, Outcome, Queue},
    store::Store,
    woo::{
        WooClient,
        catalog::{MAX_BATCH, StockDelta},
        client::WooError,
    },
};

pub const PRODUCT_KIND: &str = "woo.product";

/// A SKU WooCommerce refused, as [`StockSync::refused`] reads it.
struct Refused {
    netsuite_item_id: String,
    sku: String,
    /// When WooCommerce first refused it.
    since: i64,
    target: i64,
    pushed: Option<i64>,
}
const WATERMARK: &str = "stock.netsuite_modified";
/// NetSuite's `lastmodifieddate` as wns asks for it (`TO_CHAR`) and gives it back (`TO_TIMESTAMP`).
const NS_FORMAT: &str = "YYYY-MM-DD HH24:MI:SS";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WriteMode {
    /// Deltas through the plugin's stock-adjust route (closes the write race).
    #[default]
    Adjust,
    /// WooCommerce's batch endpoint with absolute values, for stores without the plugin.
    Absolute,
}

/// `[stock]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StockSettings {
    /// NetSuite locations whose stock the web store sells.
    pub locations: Vec<String>,
    #[serde(default = "sixty")]
    pub every_secs: u64,
    #[serde(default = "overlap")]
    pub overlap_secs: u64,
    #[serde(default = "nightly")]
    pub full_every_secs: u64,
    #[serde(default = "stale")]
    pub stale_after_secs: u64,
    /// Units held back from every SKU.
    #[serde(default)]
    pub buffer: i64,
    /// Per SKU, instead of `buffer`.
    #[serde(default)]
    pub buffers: BTreeMap<String, i64>,
    /// Per WooCommerce category slug, instead of `buffer` (the largest of a product's
    /// categories; a SKU's own buffer wins). Categories come from the nightly reconciliation.
    #[serde(default)]
    pub category_buffers: BTreeMap<String, i64>,
    #[serde(default)]
    pub write: WriteMode,
    /// Count units of orders NetSuite does not reflect yet (turn off only to measure why not).
    #[serde(default = "yes")]
    pub reserve_in_flight: bool,
    /// Write WooCommerce back to wns's figure when it drifted.
    #[serde(default)]
    pub correct_drift: bool,
    /// A difference must still be there this long after it was first seen to be drift: a
    /// checkout's `product.updated` can arrive before its order's webhook.
    #[serde(default = "drift_grace")]
    pub drift_grace_secs: u64,
}

fn drift_grace() -> u64 {
    120
}

/// What a drift check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftCheck {
    /// WooCommerce shows wns's figure (or the product is not wns's to compare).
    InStep,
    /// A difference (WooCommerce − wns) seen for the first time; checked again after the grace.
    Suspect(i64),
    /// The same difference after the grace: raised as `stock_drift`.
    Drift(i64),
}

fn sixty() -> u64 {
    60
}
fn overlap() -> u64 {
    120
}
fn nightly() -> u64 {
    86_400
}
fn stale() -> u64 {
    900
}
fn yes() -> bool {
    true
}

impl StockSettings {
    pub fn new(locations: Vec<String>) -> StockSettings {
        StockSettings {
            locations,
            every_secs: sixty(),
            overlap_secs: overlap(),
            full_every_secs: nightly(),
            stale_after_secs: stale(),
            buffer: 0,
            buffers: BTreeMap::new(),
            category_buffers: BTreeMap::new(),
            write: WriteMode::Adjust,
            reserve_in_flight: true,
            correct_drift: false,
            drift_grace_secs: drift_grace(),
        }
    }

    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.locations.is_empty() {
            return Err(("stock.locations", "name the NetSuite location ids the web store sells from".into()));
        }
        if self.every_secs == 0 {
            return Err(("stock.every_secs", "must be at least 1".into()));
        }
        if self.buffer < 0 || self.buffers.values().chain(self.category_buffers.values()).any(|b| *b < 0) {
            return Err(("stock.buffer", "buffers are units held back: 0 or more".into()));
        }
        Ok(())
    }

    /// The SKU's own buffer, else the largest of its categories', else the default.
    pub fn buffer_of(&self, sku: &str, categories: &str) -> i64 {
        if let Some(b) = self.buffers.get(sku) {
            return *b;
        }
        categories.split(',').filter_map(|c| self.category_buffers.get(c.trim())).copied().max().unwrap_or(self.buffer)
    }
}

/// What one cycle did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CycleReport {
    pub full: bool,
    pub rows_read: usize,
    pub skus_changed: usize,
    pub pushed: usize,
    pub woo_requests: usize,
    pub rejected: usize,
    /// Full passes: SKUs whose WooCommerce stock differed from wns's figure, to be checked again.
    pub drift_suspects: usize,
    /// The SKUs this cycle wrote.
    pub written: BTreeSet<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StockError {
    #[error(transparent)]
    NetSuite(#[from] NsError),
    #[error(transparent)]
    Woo(#[from] WooError),
    #[error("stock tables: {0}")]
    Store(#[from] sqlx::Error),
}

#[derive(Clone)]
pub struct StockSync {
    ns: NetSuiteClient,
    woo: WooClient,
    queue: Queue,
    settings: StockSettings,
    /// Set once this process has entered every recent WooCommerce order in the units ledger.
    ledger_complete: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The write mode in use: `write = "adjust"` needs wns's plugin in the store, looked for once.
    write: std::sync::Arc<tokio::sync::OnceCell<WriteMode>>,
}

/// One SKU's figures at a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figures {
    pub sku: String,
    pub netsuite_item_id: String,
    pub ns_available: i64,
    pub in_flight: i64,
    pub reflected: i64,
    pub buffer: i64,
}

impl Figures {
    pub fn target(&self, reserve: bool) -> i64 {
        let in_flight = if reserve { self.in_flight } else { 0 };
        (self.ns_available - in_flight - self.buffer).max(0)
    }

    /// What only NetSuite-side movements change (see the module comment).
    pub fn basis(&self) -> i64 {
        self.ns_available + self.reflected - self.buffer
    }
}

impl StockSync {
    pub fn new(ns: NetSuiteClient, woo: WooClient, queue: Queue, settings: StockSettings) -> StockSync {
        StockSync { ns, woo, queue, settings, ledger_complete: Default::default(), write: Default::default() }
    }

    fn store(&self) -> &Store {
        self.queue.store()
    }

    /// `handlers` plus the `woo.product` job (drift check).
    pub fn register(&self, handlers: Handlers) -> Handlers {
        let sync = self.clone();
        handlers.on(PRODUCT_KIND, move |job| {
            let sync = sync.clone();
            async move { sync.product_job(&job).await }
        })
    }

    /// One read of NetSuite and the WooCommerce writes it calls for. `full` ignores the watermark.
    pub async fn cycle(&self, full: bool) -> Result<CycleReport, StockError> {
        self.complete_ledger().await?;
        let started = self.queue.now();
        let mut report = CycleReport { full, ..CycleReport::default() };
        let since = if full { None } else { self.watermark().await? };
        if full {
            report.woo_requests += self.list_catalogue().await?;
        }
        let mut changed: BTreeSet<String> = BTreeSet::new();
        let mut newest = since.clone();
        for location in &self.settings.locations {
            let mut q = WindowedQuery::new(
                format!(
                    "SELECT iil.item, i.itemid, iil.quantityavailable, TO_CHAR(iil.lastmodifieddate, '{NS_FORMAT}') AS modified \
                     FROM inventoryitemlocations iil JOIN item i ON i.id = iil.item"
                ),
                "iil.item",
            )
            .and(format!("iil.location = {}", literal(location)));
            if let Some(since) = &since {
                let from = overlap_before(since, self.settings.overlap_secs);
                q = q.and(format!("iil.lastmodifieddate >= TO_TIMESTAMP({}, '{NS_FORMAT}')", literal(&from)));
            }
            let rows = self.ns.suiteql_all(Lane::StockReads, &q).await?;
            report.rows_read += rows.len();
            let mut unreadable = Vec::new();
            let mut tx = self.store().pool().begin().await?;
            for row in &rows {
                let (Some(item), Some(itemid)) = (row.get("item"), row.get("itemid")) else { continue };
                let available = match parse_quantity(row.get("quantityavailable")) {
                    Ok(q) => q,
                    Err(text) => {
                        // Never a 0 written to the shop: the SKU keeps its last figure.
                        unreadable.push((itemid.to_string(), location.clone(), text));
                        continue;
                    }
                };
                let modified = row.get("modified").unwrap_or_default().to_string();
                if newest.as_deref().is_none_or(|n| modified.as_str() > n) {
                    newest = Some(modified.clone());
                }
                // One statement: a row comes back only when it is new or its figure moved.
                let moved = sqlx::query(
                    "insert into stock_locations (netsuite_item_id, location, itemid, available, modified, read_at) \
                     values ($1, $2, $3, $4, $5, $6) on conflict (netsuite_item_id, location) do update set \
                     itemid = excluded.itemid, available = excluded.available, modified = excluded.modified, \
                     read_at = excluded.read_at \
                     where stock_locations.available <> excluded.available or stock_locations.itemid <> excluded.itemid \
                     returning netsuite_item_id",
                )
                .bind(item)
                .bind(location)
                .bind(itemid)
                .bind(available)
                .bind(&modified)
                .bind(started)
                .fetch_optional(&mut *tx)
                .await?;
                if full || moved.is_some() {
                    changed.insert(item.to_string());
                }
            }
            tx.commit().await?;
            for (sku, location, text) in unreadable {
                self.unreadable(&sku, &location, &text).await?;
            }
        }
        // Web orders posted or closed since the last read change what counts as reflected (or in
        // flight) even when the rows NetSuite moved for them were read a cycle earlier: a read
        // that started between NetSuite saving the order and wns noting it saw the new figure
        // with the order still in flight. Their SKUs are computed again.
        let previous: Option<i64> = sqlx::query_scalar("select value from watermarks where name = 'stock.last_cycle'")
            .fetch_optional(self.store().pool())
            .await?;
        if let Some(prev) = previous {
            let rows = sqlx::query(
                "select distinct s.netsuite_item_id from order_units u join stock_items s on s.sku = u.sku \
                 where (u.posted_at >= $1 and u.posted_at < $2) or (u.closed_at >= $1 and u.closed_at < $2)",
            )
            .bind(prev)
            .bind(started)
            .fetch_all(self.store().pool())
            .await?;
            for r in rows {
                changed.insert(r.try_get(0)?);
            }
        }
        // SKUs WooCommerce refused are written again every cycle, not only when NetSuite moves
        // them again: the fix is usually made in WooCommerce (a product created, stock managed).
        for r in self.refused(i64::MAX).await? {
            changed.insert(r.netsuite_item_id);
        }
        // A write WooCommerce never confirmed (the request failed as a whole) is tried again:
        // NetSuite's figure was stored, so its row no longer looks changed.
        let pending: Vec<String> =
            sqlx::query_scalar("select netsuite_item_id from stock_items where write_pending_since is not null")
                .fetch_all(self.store().pool())
                .await?;
        changed.extend(pending);
        let figures = self.figures(&changed, started).await?;
        report.skus_changed = figures.len();
        self.push(figures, started, &mut report).await?;
        if full {
            report.drift_suspects = self.suspects_after_reconciliation(&report.written).await?;
        }
        if let Some(n) = newest {
            self.set_watermark(&n).await?;
        }
        sqlx::query(
            "insert into watermarks (name, value, updated_at) values ('stock.last_cycle', $1, $1) \
             on conflict (name) do update set value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(started)
        .execute(self.store().pool())
        .await?;
        Ok(report)
    }

    /// `write = "adjust"` without wns's plugin in the store would fail every cycle: look for its
    /// route once, and without it say so once and write absolute values (with the in-flight
    /// reservation; the write race is then open, see `docs/runbook.md`).
    pub async fn write_mode(&self) -> Result<WriteMode, StockError> {
        let mode = self
            .write
            .get_or_try_init(|| async {
                if self.settings.write == WriteMode::Absolute || self.woo.has_stock_adjust_route().await? {
                    return Ok::<_, WooError>(self.settings.write);
                }
                tracing::warn!(
                    "stock: the store does not offer wns's stock-adjust route (wns's WordPress plugin is not active), so wns writes absolute stock figures instead of deltas; a checkout that races a write can then oversell — install the plugin, or keep a safety buffer (docs/runbook.md, Stock)"
                );
                Ok(WriteMode::Absolute)
            })
            .await?;
        Ok(*mode)
    }

    /// No stock write before the in-flight ledger is complete: orders WooCommerce took while wns
    /// was down (or before its first start) have no units yet, and a figure computed without
    /// them would offer those units again. Once per process, before the first cycle, every order
    /// modified since the sweep's watermark (or its first look-back) is listed and the unknown
    /// ones entered; a failure fails the cycle, which tries again.
    async fn complete_ledger(&self) -> Result<(), StockError> {
        use std::sync::atomic::Ordering;
        if self.ledger_complete.load(Ordering::Acquire) {
            return Ok(());
        }
        let opts = crate::woo::sweep::SweepOptions::default();
        let after = crate::woo::sweep::catch_up_start(&self.queue, &opts).await?;
        let entered = crate::woo::sweep::catch_up_units(&self.woo, &self.queue, after).await.map_err(|e| match e {
            crate::woo::sweep::SweepError::Woo(e) => StockError::Woo(e),
            crate::woo::sweep::SweepError::Store(e) => StockError::Store(e),
        })?;
        if entered > 0 {
            tracing::info!(
                orders = entered,
                "stock: orders wns had not seen entered as in flight before the first write"
            );
        }
        self.ledger_complete.store(true, Ordering::Release);
        Ok(())
    }

    /// The figures of the SKUs of NetSuite items `items` as of a read that started at `as_of`.
    pub async fn figures(&self, items: &BTreeSet<String>, as_of: i64) -> Result<Vec<Figures>, sqlx::Error> {
        let mut out = Vec::new();
        let locations = &self.settings.locations;
        for chunk in items.iter().collect::<Vec<_>>().chunks(500) {
            let ids: Vec<&str> = chunk.iter().map(|s| s.as_str()).collect();
            let sql = format!(
                "select l.netsuite_item_id, coalesce(m.sku, l.itemid), cast(sum(l.available) as bigint) from stock_locations l \
                 left join sku_map m on m.netsuite_item_id = l.netsuite_item_id \
                 where l.netsuite_item_id in ({}) and l.location in ({}) \
                 group by l.netsuite_item_id, coalesce(m.sku, l.itemid)",
                placeholders(1, ids.len()),
                placeholders(ids.len() + 1, locations.len())
            );
            let mut q = sqlx::query(&sql);
            for id in &ids {
                q = q.bind(*id);
            }
            for l in locations {
                q = q.bind(l.as_str());
            }
            let mut found = Vec::new();
            for r in q.fetch_all(self.store().pool()).await? {
                let (item, sku, available): (String, String, i64) = (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?);
                found.push((item, sku, available));
            }
            let skus: Vec<&str> = found.iter().map(|(_, sku, _)| sku.as_str()).collect();
            let units = self.units(&skus, as_of).await?;
            let categories = self.categories(&skus).await?;
            for (item, sku, available) in found {
                let (in_flight, reflected) = units.get(&sku).copied().unwrap_or_default();
                let cats = categories.get(&sku).map(String::as_str).unwrap_or_default();
                out.push(Figures {
                    buffer: self.settings.buffer_of(&sku, cats),
                    netsuite_item_id: item,
                    ns_available: available,
                    in_flight,
                    reflected,
                    sku,
                });
            }
        }
        Ok(out)
    }

    /// WooCommerce category slugs per SKU, as the last reconciliation listed them.
    async fn categories(&self, skus: &[&str]) -> Result<BTreeMap<String, String>, sqlx::Error> {
        let mut out = BTreeMap::new();
        if skus.is_empty() || self.settings.category_buffers.is_empty() {
            return Ok(out);
        }
        let sql = format!("select sku, categories from wc_catalogue where sku in ({})", placeholders(1, skus.len()));
        let mut q = sqlx::query(&sql);
        for sku in skus {
            q = q.bind(*sku);
        }
        for r in q.fetch_all(self.store().pool()).await? {
            out.insert(r.try_get(0)?, r.try_get(1)?);
        }
        Ok(out)
    }

    /// The whole WooCommerce catalogue, products and variations, into `wc_catalogue` (the
    /// reconciliation's first step). Returns the requests it took.
    async fn list_catalogue(&self) -> Result<usize, StockError> {
        let now = self.queue.now();
        let mut requests = 0;
        let mut page = 1;
        loop {
            let p = self.woo.products_page(page).await?;
            requests += 1;
            let mut rows = Vec::new();
            for product in &p.items {
                let cats: Vec<&str> = product.categories.iter().map(|c| c.slug.as_str()).collect();
                let cats = cats.join(",");
                if product.kind == "variable" {
                    requests += 1;
                    for v in self.woo.variations(product.id).await? {
                        rows.push((
                            v.sku.clone(),
                            v.id,
                            product.id,
                            cats.clone(),
                            v.manage_stock.is_managed(),
                            v.stock_quantity,
                        ));
                    }
                } else {
                    rows.push((
                        product.sku.clone(),
                        product.id,
                        0,
                        cats,
                        product.manage_stock.is_managed(),
                        product.stock_quantity,
                    ));
                }
            }
            let mut tx = self.store().pool().begin().await?;
            for (sku, id, parent, cats, managed, stock) in rows.into_iter().filter(|r| !r.0.is_empty()) {
                sqlx::query(
                    "insert into wc_catalogue (sku, wc_id, wc_parent, categories, manage_stock, stock, seen_at) \
                     values ($1, $2, $3, $4, $5, $6, $7) on conflict (sku) do update set wc_id = excluded.wc_id, \
                     wc_parent = excluded.wc_parent, categories = excluded.categories, \
                     manage_stock = excluded.manage_stock, stock = excluded.stock, seen_at = excluded.seen_at",
                )
                .bind(&sku)
                .bind(id as i64)
                .bind(parent as i64)
                .bind(&cats)
                .bind(managed as i32)
                .bind(stock)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            if page >= p.total_pages || p.items.is_empty() {
                return Ok(requests);
            }
            page += 1;
        }
    }

    /// After a full pass: SKUs whose WooCommerce stock (as listed, or as the write just answered)
    /// is not wns's figure become drift suspects, checked again by a `woo.product` job after the
    /// grace period (a checkout in between explains a passing difference).
    async fn suspects_after_reconciliation(&self, written: &BTreeSet<String>) -> Result<usize, sqlx::Error> {
        let rows = sqlx::query(
            "select s.sku, s.target, s.confirmed, c.stock, c.wc_id from stock_items s \
             join wc_catalogue c on c.sku = s.sku where c.manage_stock = 1",
        )
        .fetch_all(self.store().pool())
        .await?;
        let now = self.queue.now();
        let mut n = 0;
        for r in rows {
            let (sku, target, confirmed, listed, wc_id): (String, i64, Option<i64>, Option<i64>, i64) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?);
            // Written this cycle: what WooCommerce answered; otherwise what the listing showed.
            let woo = if written.contains(&sku) { confirmed } else { listed };
            let Some(woo) = woo else { continue };
            if woo == target {
                continue;
            }
            self.suspect(&sku, Some(woo - target), now).await?;
            let job = crate::queue::NewJob::new(
                PRODUCT_KIND,
                format!("product:{wc_id}"),
                json!({ "topic": "reconciliation" }),
            )
            .run_after(now + self.settings.drift_grace_secs as i64 * 1000);
            self.queue.enqueue(job).await?;
            n += 1;
        }
        Ok(n)
    }

    /// (in flight, reflected) web units per SKU of `skus` for a NetSuite read that started at
    /// `as_of`; SKUs without web orders are absent.
    async fn units(&self, skus: &[&str], as_of: i64) -> Result<BTreeMap<String, (i64, i64)>, sqlx::Error> {
        let mut out = BTreeMap::new();
        if skus.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "select sku, \
               cast(coalesce(sum(case when active = 1 and (posted_at is null or posted_at >= $1) \
                                      and closed_at is null then quantity else 0 end), 0) as bigint), \
               cast(coalesce(sum(case when posted_at < $1 and (closed_at is null or closed_at >= $1) \
                                      then posted_quantity else 0 end), 0) as bigint) \
             from order_units where sku in ({}) group by sku",
            placeholders(2, skus.len())
        );
        let mut q = sqlx::query(&sql).bind(as_of);
        for sku in skus {
            q = q.bind(*sku);
        }
        for r in q.fetch_all(self.store().pool()).await? {
            out.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?));
        }
        Ok(out)
    }

    /// Writes what changed, lowest stock first, 100 per request.
    async fn push(&self, mut figures: Vec<Figures>, as_of: i64, report: &mut CycleReport) -> Result<(), StockError> {
        let reserve = self.settings.reserve_in_flight;
        let write = self.write_mode().await?;
        figures.sort_by_key(|f| (f.target(reserve), f.sku.clone()));
        let mut known: BTreeMap<String, LastWrite> = BTreeMap::new();
        let mut pending: BTreeSet<String> = BTreeSet::new();
        for chunk in figures.chunks(500) {
            let sql = format!(
                "select sku, pushed_basis, pushed, pushed_at, write_pending_since from stock_items where sku in ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for f in chunk {
                q = q.bind(&f.sku);
            }
            for r in q.fetch_all(self.store().pool()).await? {
                known.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
                if r.try_get::<Option<i64>, _>(4)?.is_some() {
                    pending.insert(r.try_get(0)?);
                }
            }
            let mut tx = self.store().pool().begin().await?;
            for f in chunk {
                known.entry(f.sku.clone()).or_insert((None, None, None));
                record(&mut tx, f, as_of, f.target(reserve), self.queue.now()).await?;
            }
            tx.commit().await?;
        }
        let (mut deltas, mut absolute, mut unchanged) = (Vec::new(), Vec::new(), Vec::new());
        for f in figures {
            let (basis, pushed, _) = known[&f.sku];
            match (write, basis) {
                // The reconciliation too writes only NetSuite-side movement; WooCommerce's own
                // figure is compared with wns's by the drift check.
                (WriteMode::Adjust, Some(b)) if f.basis() != b => deltas.push(f),
                (WriteMode::Adjust, Some(_)) if pending.contains(&f.sku) => unchanged.push(f.sku),
                (WriteMode::Adjust, Some(_)) => {}
                // WooCommerce took its own checkouts off since the last write, so an unchanged
                // target is no reason to skip a SKU whose NetSuite side moved (a receipt that
                // lands with the sales order of a web order leaves the target as it was).
                _ if pushed != Some(f.target(reserve)) || basis != Some(f.basis()) => absolute.push(f),
                _ if pending.contains(&f.sku) => unchanged.push(f.sku),
                _ => {}
            }
        }
        // A SKU whose pending write is no longer needed (NetSuite moved back) waits for nothing.
        let unchanged: Vec<&str> = unchanged.iter().map(String::as_str).collect();
        self.set_pending(&unchanged, None).await?;
        let to_write: Vec<&str> = deltas.iter().chain(&absolute).map(|f| f.sku.as_str()).collect();
        self.set_pending(&to_write, Some(self.queue.now())).await?;
        for chunk in deltas.chunks(MAX_BATCH) {
            let items: Vec<StockDelta> = chunk
                .iter()
                .map(|f| {
                    let (from, _, at) = known[&f.sku];
                    let from = from.unwrap_or_default();
                    // The same movement sent again (a lost answer) keeps its key; the same
                    // from → to later (a dip and its correction, a receipt after an equal sale)
                    // follows another write and gets a new one, or the plugin would replay it.
                    StockDelta {
                        sku: f.sku.clone(),
                        delta: f.basis() - from,
                        idempotency_key: format!("wns:{}:{}:{from}:{}", f.sku, at.unwrap_or_default(), f.basis()),
                    }
                })
                .collect();
            report.woo_requests += 1;
            let answers = self.woo.adjust_stock(&items).await?;
            for (f, a) in chunk.iter().zip(answers) {
                match a.result {
                    Ok(now) => {
                        self.pushed(f, f.target(reserve), Some(now)).await?;
                        report.pushed += 1;
                        report.written.insert(f.sku.clone());
                    }
                    Err((code, message)) => {
                        report.rejected += 1;
                        self.rejected(&f.sku, &code, &message).await?;
                    }
                }
            }
        }
        if !absolute.is_empty() {
            self.push_absolute(absolute, reserve, report).await?;
        }
        Ok(())
    }

    /// Absolute writes through WooCommerce's batch endpoints: simple products together, each
    /// variable product's variations together.
    async fn push_absolute(
        &self,
        figures: Vec<Figures>,
        reserve: bool,
        report: &mut CycleReport,
    ) -> Result<(), StockError> {
        let mut ids: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for chunk in figures.chunks(500) {
            let sql = format!(
                "select sku, wc_id, wc_parent from wc_catalogue where sku in ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for f in chunk {
                q = q.bind(&f.sku);
            }
            for r in q.fetch_all(self.store().pool()).await? {
                ids.insert(r.try_get(0)?, (r.try_get::<i64, _>(1)? as u64, r.try_get::<i64, _>(2)? as u64));
            }
        }
        // SKUs the catalogue has not listed yet: WooCommerce's SKU filter, 100 per request.
        let skus: Vec<&str> = figures.iter().map(|f| f.sku.as_str()).filter(|s| !ids.contains_key(*s)).collect();
        for chunk in skus.chunks(MAX_BATCH) {
            report.woo_requests += 1;
            for p in self.woo.products_by_skus(chunk).await? {
                ids.insert(p.sku.clone(), (p.id, p.parent_id));
            }
        }
        let mut groups: BTreeMap<u64, Vec<&Figures>> = BTreeMap::new();
        for f in &figures {
            match ids.get(&f.sku) {
                Some((_, parent)) => groups.entry(*parent).or_default().push(f),
                None => {
                    report.rejected += 1;
                    self.rejected(&f.sku, "wns_unknown_sku", "No WooCommerce product or variation has this SKU.")
                        .await?;
                }
            }
        }
        for (parent, group) in groups {
            for chunk in group.chunks(MAX_BATCH) {
                let updates: Vec<serde_json::Value> = chunk
                    .iter()
                    .map(|f| json!({ "id": ids[&f.sku].0, "manage_stock": true, "stock_quantity": f.target(reserve) }))
                    .collect();
                report.woo_requests += 1;
                let answers = self.woo.batch_update((parent != 0).then_some(parent), &updates).await?;
                for (f, a) in chunk.iter().zip(answers) {
                    match a.result {
                        Ok(p) => {
                            self.pushed(f, f.target(reserve), p.stock_quantity).await?;
                            report.pushed += 1;
                            report.written.insert(f.sku.clone());
                        }
                        Err(e) => {
                            report.rejected += 1;
                            self.rejected(&f.sku, "woocommerce_rest_batch_item", &e.to_string()).await?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Marks SKUs about to be written (`since`: now; the first mark's time is kept), or clears the
    /// mark of SKUs that need no write (`None`). [`Self::pushed`] clears it when WooCommerce confirms.
    async fn set_pending(&self, skus: &[&str], since: Option<i64>) -> Result<(), sqlx::Error> {
        for chunk in skus.chunks(500) {
            let set = if since.is_some() { "coalesce(write_pending_since, $1)" } else { "$1" };
            let sql = format!(
                "update stock_items set write_pending_since = {set} where sku in ({})",
                placeholders(2, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(since);
            for sku in chunk {
                q = q.bind(*sku);
            }
            q.execute(self.store().pool()).await?;
        }
        Ok(())
    }

    async fn pushed(&self, f: &Figures, target: i64, confirmed: Option<i64>) -> Result<(), sqlx::Error> {
        let now = self.queue.now();
        sqlx::query(
            "update stock_items set pushed_basis = $1, pushed = $2, pushed_at = $3, confirmed = $4, \
             confirmed_at = $3, updated_at = $3, write_pending_since = null where sku = $5",
        )
        .bind(f.basis())
        .bind(target)
        .bind(now)
        .bind(confirmed)
        .bind(&f.sku)
        .execute(self.store().pool())
        .await?;
        for kind in [ExceptionKind::StockItemRejected, ExceptionKind::StockStale] {
            crate::monitor::exceptions::resolve(self.store(), kind, &format!("sku:{}", f.sku), now).await?;
        }
        Ok(())
    }

    async fn unreadable(&self, sku: &str, location: &str, text: &str) -> Result<(), sqlx::Error> {
        Exception::new(
            ExceptionKind::StockUnreadable,
            format!("sku:{sku}"),
            format!("NetSuite gave SKU {sku} at location {location} an available quantity wns cannot read ({text:?}); WooCommerce keeps the last figure"),
            "Look at the item's inventory at that location in NetSuite (a custom field or a script may be writing text into it); the next read that NetSuite answers with a number writes the SKU.",
        )
        .raise(self.store(), self.queue.now())
        .await
    }

    async fn rejected(&self, sku: &str, code: &str, message: &str) -> Result<(), sqlx::Error> {
        Exception::new(
            ExceptionKind::StockItemRejected,
            format!("sku:{sku}"),
            format!("WooCommerce refused the stock of SKU {sku}: {code}: {message}"),
            "Check the product in WooCommerce: the SKU must exist once and the product must manage stock; the next cycle writes it again.",
        )
        .raise(self.store(), self.queue.now())
        .await
    }

    /// SKUs with an open `stock_item_rejected` first seen before `before`.
    async fn refused(&self, before: i64) -> Result<Vec<Refused>, sqlx::Error> {
        let rows = sqlx::query(
            "select s.netsuite_item_id, s.sku, e.first_seen, s.target, s.pushed from exceptions e \
             join stock_items s on e.entity_key = 'sku:' || s.sku \
             where e.kind = $1 and e.resolved_at is null and e.first_seen < $2",
        )
        .bind(ExceptionKind::StockItemRejected.as_str())
        .bind(before)
        .fetch_all(self.store().pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Refused {
                    netsuite_item_id: r.try_get(0)?,
                    sku: r.try_get(1)?,
                    since: r.try_get(2)?,
                    target: r.try_get(3)?,
                    pushed: r.try_get(4)?,
                })
            })
            .collect()
    }

    async fn watermark(&self) -> Result<Option<String>, sqlx::Error> {
        let r = sqlx::query("select value from watermarks where name = $1")
            .bind(WATERMARK)
            .fetch_optional(self.store().pool())
            .await?;
        // NetSuite's text goes in `value` (bigint) as digits: yyyymmddhhmmss.
        Ok(r.map(|r| r.try_get::<i64, _>(0)).transpose()?.map(from_digits))
    }

    async fn set_watermark(&self, modified: &str) -> Result<(), sqlx::Error> {
        let Some(digits) = to_digits(modified) else { return Ok(()) };
        sqlx::query(
            "insert into watermarks (name, value, updated_at) values ($1, $2, $3) \
             on conflict (name) do update set value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(WATERMARK)
        .bind(digits)
        .bind(self.queue.now())
        .execute(self.store().pool())
        .await?;
        Ok(())
    }

    /// `stock_stale` (operations) when no cycle has succeeded for `stale_after_secs`.
    pub async fn check_freshness(&self) -> Result<bool, sqlx::Error> {
        let last: Option<i64> = sqlx::query_scalar("select value from watermarks where name = 'stock.last_cycle'")
            .fetch_optional(self.store().pool())
            .await?;
        let now = self.queue.now();
        let limit = self.settings.stale_after_secs as i64 * 1000;
        let stale = last.is_none_or(|t| now - t > limit);
        if stale {
            let age = last.map(|t| format!("{} s old", (now - t) / 1000)).unwrap_or_else(|| "never read".into());
            Exception::new(
                ExceptionKind::StockStale,
                "stock",
                format!("WooCommerce's stock is {age}: no stock cycle succeeded within {} s", self.settings.stale_after_secs),
                "Look at the log lines of `stock cycle failed` (NetSuite or WooCommerce unreachable, credentials); the next successful cycle catches up everything.",
            )
            .raise(self.store(), now)
            .await?;
        } else {
            crate::monitor::exceptions::resolve(self.store(), ExceptionKind::StockStale, "stock", now).await?;
        }
        // Cycles that succeed can still leave one SKU behind: WooCommerce keeps refusing its write.
        for Refused { sku, since, target, pushed, .. } in self.refused(now - limit).await? {
            let shown = pushed
                .map(|p| format!("still shows {p} from wns's last write"))
                .unwrap_or_else(|| "was never written by wns".into());
            Exception::new(
                ExceptionKind::StockStale,
                format!("sku:{sku}"),
                format!(
                    "SKU {sku}: WooCommerce's stock has not followed NetSuite for {} s (more than {} s): wns's figure is {target}, WooCommerce {shown}, because WooCommerce refuses the write",
                    (now - since) / 1000,
                    self.settings.stale_after_secs
                ),
                "Fix what the stock_item_rejected exception of this SKU names (usually the product in WooCommerce); the next cycle writes it and closes both exceptions.",
            )
            .raise(self.store(), now)
            .await?;
        }
        // Writes that failed as a whole (WooCommerce down or erroring) and are still retried.
        let unconfirmed = sqlx::query(
            "select s.sku, s.write_pending_since, s.target, s.pushed from stock_items s \
             where s.write_pending_since < $1 and not exists (select 1 from exceptions e \
             where e.kind = $2 and e.entity_key = 'sku:' || s.sku and e.resolved_at is null)",
        )
        .bind(now - limit)
        .bind(ExceptionKind::StockItemRejected.as_str())
        .fetch_all(self.store().pool())
        .await?;
        for r in unconfirmed {
            let (sku, since, target, pushed): (String, i64, i64, Option<i64>) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?);
            let shown = pushed
                .map(|p| format!("still shows {p} from wns's last confirmed write"))
                .unwrap_or_else(|| "was never written by wns".into());
            Exception::new(
                ExceptionKind::StockStale,
                format!("sku:{sku}"),
                format!(
                    "SKU {sku}: WooCommerce has not confirmed a stock write for {} s (more than {} s): wns's figure is {target}, WooCommerce {shown}; every cycle tries again",
                    (now - since) / 1000,
                    self.settings.stale_after_secs
                ),
                "Look at the log lines of `stock cycle failed`: WooCommerce answered the stock write with an error or not at all. The next write WooCommerce confirms closes this exception.",
            )
            .raise(self.store(), now)
            .await?;
        }
        Ok(stale)
    }

    /// Cycles every `every_secs` (a full pass every `full_every_secs`, the first one at start)
    /// and checks freshness after each, until `shutdown`.
    pub async fn run(self, shutdown: tokio_util::sync::CancellationToken, heartbeat: crate::supervise::Heartbeat) {
        let every = std::time::Duration::from_secs(self.settings.every_secs);
        let full_every = self.settings.full_every_secs.max(self.settings.every_secs) as i64 * 1000;
        let mut last_full: Option<i64> = None;
        loop {
            let full = last_full.is_none_or(|t| self.queue.now() - t >= full_every);
            match self.cycle(full).await {
                Ok(r) => {
                    heartbeat.ok();
                    if full {
                        last_full = Some(self.queue.now());
                    }
                    tracing::info!(
                        full,
                        read = r.rows_read,
                        changed = r.skus_changed,
                        pushed = r.pushed,
                        woo_requests = r.woo_requests,
                        rejected = r.rejected,
                        "stock cycle"
                    );
                }
                Err(e) => tracing::warn!(error = %e, "stock cycle failed"),
            }
            if let Err(e) = self.check_freshness().await {
                tracing::warn!(error = %e, "stock freshness check failed");
            }
            tokio::select! { _ = shutdown.cancelled() => return, _ = tokio::time::sleep(every) => {} }
        }
    }

    /// `woo.product`: a product changed in WooCommerce (not by a checkout): compare its stock.
    async fn product_job(&self, job: &ClaimedJob) -> Outcome {
        let Some(id) = job.entity_key.strip_prefix("product:").and_then(|n| n.parse::<u64>().ok()) else {
            return Outcome::Dead {
                error: format!("{PRODUCT_KIND} job for {:?}: not a `product:<id>` key", job.entity_key),
            };
        };
        match self.check_drift(id).await {
            Ok(DriftCheck::Suspect(_)) => Outcome::RetryAfter {
                error: "WooCommerce's stock differs from wns's; checking again after the grace period".into(),
                after: std::time::Duration::from_secs(self.settings.drift_grace_secs),
            },
            Ok(_) => Outcome::Done,
            Err(StockError::Woo(WooError::Api { status: 404, .. })) => Outcome::Done,
            Err(e) => match &e {
                StockError::Woo(w) if matches!(w.class(), ErrorClass::Fatal) => Outcome::Dead { error: e.to_string() },
                _ => Outcome::Retry { error: e.to_string() },
            },
        }
    }

    /// Compares WooCommerce's stock of product/variation `id` with wns's figure. A difference
    /// is drift only when it is the same after `drift_grace_secs`: orders whose webhooks are
    /// still on their way explain a passing one.
    pub async fn check_drift(&self, id: u64) -> Result<DriftCheck, StockError> {
        let p = self.woo.product(id).await?;
        let (Some(woo), true) = (p.stock_quantity, p.manage_stock.is_managed()) else { return Ok(DriftCheck::InStep) };
        let row =
            sqlx::query("select netsuite_item_id, drift_suspect, drift_suspect_at from stock_items where sku = $1")
                .bind(&p.sku)
                .fetch_optional(self.store().pool())
                .await?;
        let Some(row) = row else { return Ok(DriftCheck::InStep) };
        let (item, suspect, suspect_at): (String, Option<i64>, Option<i64>) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let now = self.queue.now();
        let Some(f) = self.figures(&BTreeSet::from([item]), now).await?.into_iter().next() else {
            return Ok(DriftCheck::InStep);
        };
        let expected = f.target(self.settings.reserve_in_flight);
        let diff = woo - expected;
        let entity = format!("sku:{}", p.sku);
        if diff == 0 {
            self.suspect(&p.sku, None, now).await?;
            crate::monitor::exceptions::resolve(self.store(), ExceptionKind::StockDrift, &entity, now).await?;
            return Ok(DriftCheck::InStep);
        }
        let grace = self.settings.drift_grace_secs as i64 * 1000;
        let confirmed = suspect == Some(diff) && suspect_at.is_some_and(|t| now - t >= grace);
        if !confirmed {
            if suspect != Some(diff) {
                self.suspect(&p.sku, Some(diff), now).await?;
            }
            return Ok(DriftCheck::Suspect(diff));
        }
        Exception::new(
            ExceptionKind::StockDrift,
            entity,
            format!(
                "SKU {}: WooCommerce shows {woo} in stock, wns expects {expected} (NetSuite {} − in flight {} − buffer {})",
                p.sku, f.ns_available, f.in_flight, f.buffer
            ),
            if self.settings.correct_drift {
                "wns wrote its figure back; find who edits stock in WooCommerce (a person in wp-admin, another plugin) — NetSuite is the master."
            } else {
                "Find who edits stock in WooCommerce (a person in wp-admin, another plugin): NetSuite is the master. Set stock.correct_drift = true to have wns write its figure back."
            },
        )
        .raise(self.store(), now)
        .await?;
        if self.settings.correct_drift {
            let key = format!("wns:drift:{}:{now}", p.sku);
            self.woo.adjust_stock(&[StockDelta { sku: p.sku.clone(), delta: -diff, idempotency_key: key }]).await?;
        }
        self.suspect(&p.sku, None, now).await?;
        Ok(DriftCheck::Drift(diff))
    }

    async fn suspect(&self, sku: &str, diff: Option<i64>, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query("update stock_items set drift_suspect = $1, drift_suspect_at = $2 where sku = $3")
            .bind(diff)
            .bind(diff.map(|_| now))
            .bind(sku)
            .execute(self.store().pool())
            .await?;
        Ok(())
    }
}

/// (basis, value, time) of the last write of a SKU, when there was one.
type LastWrite = (Option<i64>, Option<i64>, Option<i64>);

/// What wns computed for a SKU at a read (before any write).
async fn record(
    tx: &mut sqlx::AnyConnection,
    f: &Figures,
    as_of: i64,
    target: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into stock_items (sku, netsuite_item_id, ns_available, ns_as_of, target, updated_at) \
         values ($1, $2, $3, $4, $5, $6) on conflict (sku) do update set \
         netsuite_item_id = excluded.netsuite_item_id, ns_available = excluded.ns_available, \
         ns_as_of = excluded.ns_as_of, target = excluded.target, updated_at = excluded.updated_at",
    )
    .bind(&f.sku)
    .bind(&f.netsuite_item_id)
    .bind(f.ns_available)
    .bind(as_of)
    .bind(target)
    .bind(now)
    .execute(tx)
    .await?;
    Ok(())
}

/// NetSuite's `quantityavailable`: absent (SuiteQL leaves out empty columns) is 0, a number is
/// taken whole units down (a fraction cannot be sold in WooCommerce), anything else is refused
/// with its text.
fn parse_quantity(v: Option<&str>) -> Result<i64, String> {
    let Some(text) = v.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(0) };
    let d: rust_decimal::Decimal = text.parse().map_err(|_| text.to_string())?;
    i64::try_from(d.floor()).map_err(|_| text.to_string())
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `2026-11-27 06:13:39` → 20261127061339.
fn to_digits(s: &str) -> Option<i64> {
    let d: String = s.chars().filter(char::is_ascii_digit).collect();
    (d.len() == 14).then(|| d.parse().ok()).flatten()
}

fn from_digits(d: i64) -> String {
    let s = format!("{d:014}");
    format!("{}-{}-{} {}:{}:{}", &s[0..4], &s[4..6], &s[6..8], &s[8..10], &s[10..12], &s[12..14])
}

/// NetSuite's time text minus `secs`, in the same format (naive: NetSuite's zone is kept).
fn overlap_before(ns_time: &str, secs: u64) -> String {
    match chrono::NaiveDateTime::parse_from_str(ns_time, "%Y-%m-%d %H:%M:%S") {
        Ok(t) => (t - chrono::Duration::seconds(secs as i64)).format("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => ns_time.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netsuite_times_round_trip_through_the_watermark_and_the_overlap_goes_back() {
        assert_eq!(to_digits("2026-11-27 06:13:39"), Some(20261127061339));
        assert_eq!(from_digits(20261127061339), "2026-11-27 06:13:39");
        assert_eq!(overlap_before("2026-11-27 00:01:00", 120), "2026-11-26 23:59:00");
    }

    #[test]
    fn quantities_are_whole_units_down_and_text_is_refused_not_zero() {
        assert_eq!(parse_quantity(None), Ok(0));
        assert_eq!(parse_quantity(Some("12")), Ok(12));
        assert_eq!(parse_quantity(Some("7.75")), Ok(7));
        assert_eq!(parse_quantity(Some("-2")), Ok(-2));
        assert_eq!(parse_quantity(Some("twelve")), Err("twelve".into()));
        assert_eq!(parse_quantity(Some("1e999")), Err("1e999".into()));
    }

    #[test]
    fn available_to_sell_never_goes_below_zero_and_basis_ignores_web_orders() {
        let f = Figures {
            sku: "A".into(),
            netsuite_item_id: "1".into(),
            ns_available: 10,
            in_flight: 3,
            reflected: 4,
            buffer: 2,
        };
        assert_eq!(f.target(true), 5);
        assert_eq!(f.target(false), 8);
        assert_eq!(Figures { in_flight: 30, ..f.clone() }.target(true), 0);
        // A web order's sales order is saved: NetSuite −2, reflected +2, basis unchanged.
        let after = Figures { ns_available: 8, reflected: 6, in_flight: 1, ..f.clone() };
        assert_eq!(after.basis(), f.basis());
    }
}
