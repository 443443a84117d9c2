//! Exceptions: every failure a person must act on becomes one typed row with an owner (finance,
//! operations, ecommerce, customer service), what happened in words, and the fix. Raising the
//! same exception again (same kind and entity) counts it instead of adding a row, so a problem
//! that repeats a thousand times is one line with a count, not a thousand lines nobody reads.

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
            | ExceptionKind::StockUnreadable => Owner::Operations,
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

    /// Records the exception inside the caller's transaction (or on its own connection).
    pub async fn raise_in(&self, conn: &mut AnyConnection, now: i64) -> Result<(), sqlx::Error> {
        tracing::warn!(kind = self.kind.as_str(), entity = %self.entity_key, owner = self.kind.owner().as_str(), "{}", self.message);
        sqlx::query(
            "insert into exceptions (kind, entity_key, owner, message, fix, first_seen, last_seen, seen) \
             values ($1, $2, $3, $4, $5, $6, $6, 1) \
             on conflict (kind, entity_key) where resolved_at is null do update set \
                message = excluded.message, fix = excluded.fix, last_seen = excluded.last_seen, \
                seen = exceptions.seen + 1",
        )
        .bind(self.kind.as_str())
        .bind(&self.entity_key)
        .bind(self.kind.owner().as_str())
        .bind(&self.message)
        .bind(&self.fix)
        .bind(now)
        .execute(conn)
        .await?;
        Ok(())
    }

    pub async fn raise(&self, store: &Store, now: i64) -> Result<(), sqlx::Error> {
        let mut conn = store.pool().acquire().await?;
        self.raise_in(&mut conn, now).await
    }
}

/// Marks the open exception of this kind and entity resolved (the cause was fixed).
pub async fn resolve(store: &Store, kind: ExceptionKind, entity_key: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update exceptions set resolved_at = $1 where kind = $2 and entity_key = $3 and resolved_at is null",
    )
    .bind(now)
    .bind(kind.as_str())
    .bind(entity_key)
    .execute(store.pool())
    .await?;
    Ok(done.rows_affected() > 0)
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
