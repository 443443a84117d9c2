//! Exceptions: every failure a person must act on becomes one typed row with an owner (finance,
//! operations, ecommerce, customer service), what happened in words, and the fix. Raising the
//! same exception again (same kind and entity) counts it instead of adding a row, so a problem
//! that repeats a thousand times is one line with a count, not a thousand lines nobody reads.
//!
//! Exceptions manage themselves: each closes when wns sees its cause gone, and the row records
//! how it ended ([`Resolution`], column `resolution`). Raised again after that, it is a new row.
//!
//! | kind (entity) | closes by itself when | resolution |
//! |---|---|---|
//! | `unmapped_sku` (`sku:<SKU>`) | a mapping is saved, or NetSuite has an item named after the SKU | `sku_mapped` |
//! | | an order with the SKU is posted | `order_posted` |
//! | `missing_sku`, `customer_rejected`, `sales_order_rejected` (`order:<id>`) | the order is posted | `order_posted` |
//! | | the order is cancelled, trashed or deleted in WooCommerce | `order_cancelled` |
//! | `item_not_sellable` (`item:<id>`) | an order with the item is posted | `order_posted` |
//! | `tax_difference` (`order:<id>`) | NetSuite tax: the order is posted within the tolerance (approved) | `order_posted` |
//! | | WooCommerce tax: a later read-back finds NetSuite's total equal to WooCommerce's | `totals_match` |
//! | | the order is cancelled, trashed or deleted | `order_cancelled` |
//! | `netsuite_login` (`netsuite`) | the recheck logs in, or an order is posted | `login_ok`, `order_posted` |
//! | `webhook_miss` (`order:<id>`) | the order the sweep found is processed (posted, closed or left as it is) | `order_posted`, `order_processed` |
//! | `webhook_malformed` (`delivery:<id>`) | a later delivery from the same webhook is accepted | `webhook_delivered` |
//! | `webhook_disabled` (`webhook:<id>`) | a delivery from the re-enabled webhook is accepted | `webhook_delivered` |
//! | `stock_drift` (`sku:<SKU>`) | a drift check or the reconciliation sees WooCommerce at wns's figure | `stock_corrected` |
//! | | wns writes the SKU and WooCommerce answers wns's figure | `stock_written` |
//! | `stock_item_rejected`, `stock_stale` (`sku:<SKU>`) | WooCommerce confirms a write of the SKU | `stock_written` |
//! | `stock_stale` (`stock`) | a stock cycle succeeds within the limit again | `cycle_succeeded` |
//! | `stock_unreadable` (`sku:<SKU>`) | a full pass reads a number for the SKU at every web-store location | `stock_read` |
//!
//! The webhook kinds, decided: a `webhook_miss` is information (the sweep already queued the
//! order), so it closes once that order has been processed. A `webhook_malformed` body names no
//! order (it is not JSON, or has no id) and that order is caught up by the sweep anyway; what it
//! says is that the store's payloads were broken, so it closes when the same webhook (by its
//! `X-WC-Webhook-ID`, else its topic) next has a delivery accepted. A new malformed delivery is a
//! new row.
//!
//! Two kinds stay for a person ([`Resolution::Fixed`]), because wns cannot see their cause go:
//! `webhook_unsigned` (`quarantine`) comes from whoever posts to wns's address, and a quiet spell
//! proves nothing; `changed_after_fulfilment` is settled by hand in NetSuite (or with a credit
//! memo), which wns does not read.

use sqlx::AnyConnection;
use wns_api_types::Owner;

use crate::store::Store;

/// The kinds wns raises. Each has one owner; `docs/runbook.md` says what each means and how to
/// fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExceptionKind {
    /// A webhook with a valid signature whose body is not JSON.
    WebhookMalformed,
    /// WooCommerce disabled one of wns's webhooks after failed deliveries; wns re-enabled it.
    WebhookDisabled,
    /// Deliveries failed the signature check (entity `quarantine`): kept in a bounded quarantine.
    WebhookUnsigned,
    /// An order the sweep found that no webhook had delivered.
    WebhookMiss,
    /// NetSuite rejected the credentials.
    NetSuiteLogin,
    /// An order line's SKU has no NetSuite item (entity `sku:<SKU>`).
    UnmappedSku,
    /// A WooCommerce line item without a SKU (entity `order:<id>`).
    MissingSku,
    /// NetSuite refused an item on a sales order: not sold in the subsidiary, no price level,
    /// inactive (entity `item:<NetSuite id>`).
    ItemNotSellable,
    /// NetSuite refused the customer's details (entity `order:<id>`).
    CustomerRejected,
    /// NetSuite's tax differs from WooCommerce's by more than the tolerance (entity `order:<id>`).
    TaxDifference,
    /// The order changed in WooCommerce after NetSuite fulfilled (part of) it (entity `order:<id>`).
    ChangedAfterFulfilment,
    /// NetSuite refused the sales order for a reason not tied to one item (entity `order:<id>`).
    SalesOrderRejected,
    /// WooCommerce refused a stock write for one SKU (entity `sku:<SKU>`).
    StockItemRejected,
    /// NetSuite answered a quantity wns cannot read for one SKU (entity `sku:<SKU>`).
    StockUnreadable,
    /// No stock cycle succeeded for longer than the configured limit (entity `stock`).
    StockStale,
    /// WooCommerce's stock differs from wns's figure (entity `sku:<SKU>`).
    StockDrift,
    /// The daily report could not be posted to `report.webhook_url` (entity `report`).
    ReportUndelivered,
}

impl ExceptionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionKind::WebhookMalformed => "webhook_malformed",
            ExceptionKind::WebhookDisabled => "webhook_disabled",
            ExceptionKind::WebhookUnsigned => "webhook_unsigned",
            ExceptionKind::WebhookMiss => "webhook_miss",
            ExceptionKind::NetSuiteLogin => "netsuite_login",
            ExceptionKind::UnmappedSku => "unmapped_sku",
            ExceptionKind::MissingSku => "missing_sku",
            ExceptionKind::ItemNotSellable => "item_not_sellable",
            ExceptionKind::CustomerRejected => "customer_rejected",
            ExceptionKind::TaxDifference => "tax_difference",
            ExceptionKind::ChangedAfterFulfilment => "changed_after_fulfilment",
            ExceptionKind::SalesOrderRejected => "sales_order_rejected",
            ExceptionKind::StockItemRejected => "stock_item_rejected",
            ExceptionKind::StockUnreadable => "stock_unreadable",
            ExceptionKind::StockStale => "stock_stale",
            ExceptionKind::StockDrift => "stock_drift",
            ExceptionKind::ReportUndelivered => "report_undelivered",
        }
    }

    pub fn owner(self) -> Owner {
        match self {
            ExceptionKind::WebhookMalformed
            | ExceptionKind::WebhookDisabled
            | ExceptionKind::WebhookUnsigned
            | ExceptionKind::WebhookMiss
            | ExceptionKind::UnmappedSku
            | ExceptionKind::MissingSku
            | ExceptionKind::ItemNotSellable
            | ExceptionKind::SalesOrderRejected
            | ExceptionKind::StockItemRejected
            | ExceptionKind::StockDrift => Owner::Ecommerce,
            ExceptionKind::NetSuiteLogin
            | ExceptionKind::ChangedAfterFulfilment
            | ExceptionKind::StockStale
            | ExceptionKind::StockUnreadable
            | ExceptionKind::ReportUndelivered => Owner::Operations,
            ExceptionKind::CustomerRejected => Owner::CustomerService,
            ExceptionKind::TaxDifference => Owner::Finance,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Exception {
    pub kind: ExceptionKind,
    pub entity_key: String,
    pub message: String,
    pub fix: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenException {
    pub kind: String,
    pub entity_key: String,
    pub owner: String,
    pub message: String,
    pub fix: String,
    pub seen: i64,
    pub first_seen: i64,
    pub last_seen: i64,
}

impl Exception {
    pub fn new(
        kind: ExceptionKind,
        entity_key: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Exception { kind, entity_key: entity_key.into(), message: message.into(), fix: fix.into() }
    }

    /// Records the exception inside the caller's transaction (or on its own connection). The log is
    /// for whoever runs wns: an exception operations own (NetSuite login, stale or unreadable stock,
    /// a fulfilled order changed) warns when it opens; the shop's own (an unmapped SKU, a refused
    /// customer, a tax difference) is logged at info, since its owner works from the exceptions
    /// board and the daily report. Seen again (three orders on one unmapped SKU), it is counted and
    /// logged at debug.
    pub async fn raise_in(&self, conn: &mut AnyConnection, now: i64) -> Result<(), sqlx::Error> {
        let seen: i64 = sqlx::query_scalar(
            "insert into exceptions (kind, entity_key, owner, message, fix, first_seen, last_seen, seen) \
             values ($1, $2, $3, $4, $5, $6, $6, 1) \
             on conflict (kind, entity_key) where resolved_at is null do update set \
                message = excluded.message, fix = excluded.fix, last_seen = excluded.last_seen, \
                seen = exceptions.seen + 1 \
             returning seen",
        )
        .bind(self.kind.as_str())
        .bind(&self.entity_key)
        .bind(self.kind.owner().as_str())
        .bind(&self.message)
        .bind(&self.fix)
        .bind(now)
        .fetch_one(conn)
        .await?;
        let (kind, owner) = (self.kind.as_str(), self.kind.owner().as_str());
        if seen > 1 {
            tracing::debug!(kind, entity = %self.entity_key, owner, seen, "{}", self.message);
        } else if self.kind.owner() == Owner::Operations {
            tracing::warn!(kind, entity = %self.entity_key, owner, "{}", self.message);
        } else {
            tracing::info!(kind, entity = %self.entity_key, owner, "{}", self.message);
        }
        Ok(())
    }

    pub async fn raise(&self, store: &Store, now: i64) -> Result<(), sqlx::Error> {
        let mut conn = store.pool().acquire().await?;
        self.raise_in(&mut conn, now).await
    }
}

/// How an exception ended: what removed its cause (column `resolution`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// A person marked it fixed.
    Fixed,
    /// The SKU got its NetSuite item: a saved mapping, or an item with the SKU as its name.
    SkuMapped,
    /// The order (or one with the SKU or item) was posted to NetSuite.
    OrderPosted,
    /// The order was cancelled, trashed or deleted in WooCommerce: nothing left to post.
    OrderCancelled,
    /// The order the sweep found was processed without a post (closed, unchanged, not synced).
    OrderProcessed,
    /// NetSuite's total, read back, equals WooCommerce's.
    TotalsMatch,
    /// A NetSuite login worked again.
    LoginOk,
    /// WooCommerce delivered from the webhook again.
    WebhookDelivered,
    /// WooCommerce shows wns's figure again (a drift check or the reconciliation saw it).
    StockCorrected,
    /// wns wrote the SKU and WooCommerce confirmed it.
    StockWritten,
    /// A stock cycle succeeded again.
    CycleSucceeded,
    /// NetSuite answered a number for the SKU again.
    StockRead,
    /// The daily report reached `report.webhook_url`.
    ReportDelivered,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Fixed => "fixed",
            Resolution::SkuMapped => "sku_mapped",
            Resolution::OrderPosted => "order_posted",
            Resolution::OrderCancelled => "order_cancelled",
            Resolution::OrderProcessed => "order_processed",
            Resolution::TotalsMatch => "totals_match",
            Resolution::LoginOk => "login_ok",
            Resolution::WebhookDelivered => "webhook_delivered",
            Resolution::StockCorrected => "stock_corrected",
            Resolution::StockWritten => "stock_written",
            Resolution::CycleSucceeded => "cycle_succeeded",
            Resolution::StockRead => "stock_read",
            Resolution::ReportDelivered => "report_delivered",
        }
    }
}

/// Marks the open exception of this kind and entity resolved, recording how it ended.
pub async fn resolve(
    store: &Store,
    kind: ExceptionKind,
    entity_key: &str,
    resolution: Resolution,
    now: i64,
) -> Result<bool, sqlx::Error> {
    Ok(resolve_any(store, &[kind], &[entity_key], resolution, now).await? > 0)
}

/// Resolves the open exceptions of any of `kinds` on any of `entity_keys` (every pair: give kinds
/// and keys whose prefixes do not cross, e.g. `sku:` keys only with the SKU kinds). Returns how
/// many closed. It reads first and writes only when something is open: callers run it on every
/// order and stock write, and on SQLite an update that changes nothing still waits for the one
/// writer.
pub async fn resolve_any(
    store: &Store,
    kinds: &[ExceptionKind],
    entity_keys: &[&str],
    resolution: Resolution,
    now: i64,
) -> Result<u64, sqlx::Error> {
    if kinds.is_empty() {
        return Ok(0);
    }
    let mut total = 0;
    let params = |from: usize, n: usize| (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    // Bind parameters stay well below SQLite's and PostgreSQL's limits.
    for keys in entity_keys.chunks(500) {
        let sql = format!(
            "select id from exceptions where resolved_at is null and kind in ({}) and entity_key in ({})",
            params(1, kinds.len()),
            params(1 + kinds.len(), keys.len())
        );
        let mut q = sqlx::query_scalar::<_, i64>(&sql);
        for kind in kinds {
            q = q.bind(kind.as_str());
        }
        for key in keys {
            q = q.bind(*key);
        }
        let ids = q.fetch_all(store.pool()).await?;
        if ids.is_empty() {
            continue;
        }
        let sql = format!(
            "update exceptions set resolved_at = $1, resolution = $2 where resolved_at is null and id in ({})",
            params(3, ids.len())
        );
        let mut q = sqlx::query(&sql).bind(now).bind(resolution.as_str());
        for id in &ids {
            q = q.bind(*id);
        }
        let closed = q.execute(store.pool()).await?.rows_affected();
        tracing::info!(
            kinds = ?kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            resolution = resolution.as_str(),
            closed,
            "exceptions resolved"
        );
        total += closed;
    }
    Ok(total)
}

/// The entity keys of the open exceptions of `kind` (to resolve only what is open, without a
/// statement per candidate).
pub async fn open_keys(store: &Store, kind: ExceptionKind) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("select entity_key from exceptions where kind = $1 and resolved_at is null")
        .bind(kind.as_str())
        .fetch_all(store.pool())
        .await
}

/// How the latest resolved exception of this kind and entity ended (`None`: never resolved, or
/// resolved before resolutions were recorded).
pub async fn resolution(store: &Store, kind: ExceptionKind, entity_key: &str) -> Result<Option<String>, sqlx::Error> {
    let r: Option<Option<String>> = sqlx::query_scalar(
        "select resolution from exceptions where kind = $1 and entity_key = $2 and resolved_at is not null \
         order by resolved_at desc, id desc limit 1",
    )
    .bind(kind.as_str())
    .bind(entity_key)
    .fetch_optional(store.pool())
    .await?;
    Ok(r.flatten())
}

/// Open exceptions, newest first; `kind` narrows to one kind.
pub async fn open(store: &Store, kind: Option<ExceptionKind>) -> Result<Vec<OpenException>, sqlx::Error> {
    sqlx::query_as(
        "select kind, entity_key, owner, message, fix, seen, first_seen, last_seen from exceptions \
         where resolved_at is null and ($1 = '' or kind = $1) order by last_seen desc, id desc",
    )
    .bind(kind.map(ExceptionKind::as_str).unwrap_or(""))
    .fetch_all(store.pool())
    .await
}
