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
//! both. The first write of a SKU is a delta too: from WooCommerce's figure read twice, around
//! entering every order WooCommerce holds in the ledger, and written only when the two reads
//! agree (no checkout in between, so the ledger holds exactly the orders that figure reflects;
//! a SKU that moved waits for the next cycle). Stores without the plugin
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
//!
//! Files: `settings` (`[stock]`), `read` (NetSuite's rows and the figures per SKU), `push`
//! (writes to WooCommerce and their confirmation), `health` (freshness, drift, the schedule);
//! this file holds the cycle that runs them in order.

use std::collections::BTreeSet;

use crate::{
    netsuite::{NetSuiteClient, NsError},
    queue::{Handlers, JobKind, Queue},
    store::{Store, placeholders},
    woo::{WooClient, client::WooError},
};

mod health;
mod push;
mod read;
mod settings;

pub use health::DriftCheck;
pub use settings::{StockSettings, WriteMode};

/// A SKU WooCommerce refused, as [`StockSync::refused`] reads it.
#[derive(sqlx::FromRow)]
struct Refused {
    netsuite_item_id: String,
    sku: String,
    /// When WooCommerce first refused it.
    since: i64,
    target: i64,
    pushed: Option<i64>,
}
const WATERMARK: &str = "stock.netsuite_modified";
/// When the last successful cycle started (wns's milliseconds).
const LAST_CYCLE: &str = "stock.last_cycle";
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
        handlers.on(JobKind::WooProduct.as_str(), move |job| {
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
        let (mut changed, newest) = self.read_netsuite(since, full, started, &mut report).await?;
        changed.extend(self.to_compute_again(started).await?);
        let figures = self.figures(&changed, started).await?;
        report.skus_changed = figures.len();
        self.push(figures, started, &mut report).await?;
        if full {
            report.drift_suspects = self.suspects_after_reconciliation(&report.written).await?;
        }
        if let Some(n) = newest {
            self.set_watermark(&n).await?;
        }
        crate::store::watermarks::set(self.store(), LAST_CYCLE, started, started).await?;
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
        let entered = self.catch_up_ledger().await?;
        if entered > 0 {
            tracing::info!(
                orders = entered,
                "stock: orders wns had not seen entered as in flight before the first write"
            );
        }
        self.ledger_complete.store(true, Ordering::Release);
        Ok(())
    }
}

/// (basis, value, time) of the last write of a SKU, when there was one.
type LastWrite = (Option<i64>, Option<i64>, Option<i64>);

#[cfg(test)]
mod tests {
    use super::*;

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
