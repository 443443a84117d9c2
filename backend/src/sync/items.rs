//! The local item index: NetSuite's items (internal id, item name, display name, UPC, inactive)
//! in `netsuite_items`, refreshed every `every` by one SuiteQL query over the items modified since
//! NetSuite's own newest `lastmodifieddate` seen (minus an overlap), through the governor on the
//! stock-reads lane; the first refresh reads them all. People search it while they type
//! ([`search`]), so typing never spends NetSuite's concurrency.
//!
//! An item that appears (or is renamed) with the name of a SKU orders are blocked on releases
//! them by itself: the SKU is mapped to it and the orders requeued, as a person saving the mapping
//! would. Before this, creating the missing item in NetSuite left the orders blocked until the
//! WooCommerce order was edited.

use std::time::Duration;

pub use wns_api_types::ItemHit;

use crate::{
    netsuite::{
        Lane, NetSuiteClient, NsError,
        suiteql::{TIME_FORMAT, WindowedQuery, literal, time_minus},
    },
    queue::{JobKind, Queue},
    store::{Backend, Store, watermarks},
};

const WATERMARK: &str = "items.netsuite_modified";
/// Re-read this far back each time: a transaction committing late, one-second timestamps.
const OVERLAP_SECS: u64 = 120;

#[derive(Debug, thiserror::Error)]
pub enum ItemsError {
    #[error(transparent)]
    NetSuite(#[from] NsError),
    #[error("item index: {0}")]
    Store(#[from] sqlx::Error),
}

/// What one refresh did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Refreshed {
    pub items_read: usize,
    /// SKUs that orders were blocked on and that now have an item.
    pub skus_found: Vec<String>,
    pub orders_released: u64,
}

#[derive(Clone)]
pub struct ItemIndex {
    ns: NetSuiteClient,
    queue: Queue,
}

impl ItemIndex {
    pub fn new(ns: NetSuiteClient, queue: Queue) -> ItemIndex {
        ItemIndex { ns, queue }
    }

    fn store(&self) -> &Store {
        self.queue.store()
    }

    /// Reads what changed in NetSuite since the last refresh, then releases the orders waiting for
    /// a SKU that now has an item.
    pub async fn refresh(&self) -> Result<Refreshed, ItemsError> {
        let since = watermarks::netsuite_time(self.store(), WATERMARK).await?;
        let mut q = WindowedQuery::new(
            format!(
                "SELECT id, itemid, displayname, upccode, isinactive, TO_CHAR(lastmodifieddate, '{TIME_FORMAT}') AS modified FROM item"
            ),
            "id",
        );
        if let Some(since) = &since {
            let from = time_minus(since, OVERLAP_SECS);
            q = q.and(format!("lastmodifieddate >= TO_TIMESTAMP({}, '{TIME_FORMAT}')", literal(&from)));
        }
        let rows = self.ns.suiteql_all(Lane::StockReads, &q).await?;
        let now = self.queue.now();
        let mut newest = since;
        let mut tx = self.store().pool().begin().await?;
        for row in &rows {
            let (Some(id), Some(itemid)) = (row.get("id"), row.get("itemid")) else { continue };
            let name = row.get("displayname").unwrap_or_default();
            let upc = row.get("upccode").unwrap_or_default();
            let inactive = matches!(row.get("isinactive"), Some("T" | "true"));
            let modified = row.get("modified").unwrap_or_default().to_string();
            if newest.as_deref().is_none_or(|n| modified.as_str() > n) {
                newest = Some(modified.clone());
            }
            sqlx::query(
                "insert into netsuite_items (netsuite_item_id, itemid, displayname, upc, inactive, search, modified, read_at, itemid_key) \
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9) on conflict (netsuite_item_id) do update set \
                 itemid = excluded.itemid, displayname = excluded.displayname, upc = excluded.upc, \
                 inactive = excluded.inactive, search = excluded.search, modified = excluded.modified, read_at = excluded.read_at, \
                 itemid_key = excluded.itemid_key",
            )
            .bind(id)
            .bind(itemid)
            .bind(name)
            .bind(upc)
            .bind(inactive as i32)
            .bind(format!("{}\n{}\n{}", itemid.to_lowercase(), name.to_lowercase(), upc.to_lowercase()))
            .bind(&modified)
            .bind(now)
            .bind(itemid.to_lowercase())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        if let Some(n) = newest {
            watermarks::set_netsuite_time(self.store(), WATERMARK, &n, now).await?;
        }
        let mut report = Refreshed { items_read: rows.len(), ..Refreshed::default() };
        self.release_found(&mut report).await?;
        Ok(report)
    }

    /// SKUs orders wait for that an active item is now named after: mapped and released.
    async fn release_found(&self, report: &mut Refreshed) -> Result<(), sqlx::Error> {
        let found: Vec<(String, String)> = sqlx::query_as(
            "select distinct substr(j.blocked_cause, 5), i.netsuite_item_id from jobs j \
             join netsuite_items i on i.itemid = substr(j.blocked_cause, 5) and i.inactive = 0 \
             where j.kind = $1 and j.state = 'blocked' and j.blocked_cause like 'sku:%' \
             and not exists (select 1 from sku_map m where m.sku = substr(j.blocked_cause, 5))",
        )
        .bind(JobKind::WooOrder.as_str())
        .fetch_all(self.store().pool())
        .await?;
        for (sku, item) in found {
            let released = super::sales_order::save_mapping(&self.queue, &sku, &item, "netsuite").await?;
            tracing::info!(sku = %sku, item = %item, orders = released, "a NetSuite item now answers to a SKU orders waited for; released them");
            report.orders_released += released;
            report.skus_found.push(sku);
        }
        Ok(())
    }

    /// Refreshes every `every` until `shutdown`; a failed refresh is logged and tried at the next.
    pub async fn run(
        self,
        every: Duration,
        shutdown: tokio_util::sync::CancellationToken,
        heartbeat: crate::supervise::Heartbeat,
    ) {
        loop {
            match self.refresh().await {
                Ok(r) => {
                    heartbeat.ok();
                    tracing::debug!(items = r.items_read, released = r.orders_released, "item index refreshed");
                }
                Err(e) => tracing::warn!(error = %e, "refreshing the NetSuite item index failed"),
            }
            tokio::select! { _ = shutdown.cancelled() => return, _ = tokio::time::sleep(every) => {} }
        }
    }
}

/// Below this many items containing a fragment, SQLite finds them through the trigram index and
/// sorts them; above it, walking the names in order reaches a page of matches sooner.
const RARE: i64 = 200;

/// Whether fewer than [`RARE`] items contain `plain` (the FTS5 trigram index counts, up to RARE).
async fn rare(store: &Store, plain: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "select count(*) from (select rowid from netsuite_items_grams where search like $1 limit $2)",
    )
    .bind(format!("%{plain}%"))
    .bind(RARE)
    .fetch_one(store.pool())
    .await?;
    Ok(n < RARE)
}

/// Active items whose name, display name or UPC contains `text` (any case): first an item whose
/// name or UPC is `text`, then names that start with it, then the rest by name, at most `limit`.
///
/// Three small queries instead of one that ranks every match: the first two are index lookups
/// (`itemid_key`, `upc`) run side by side, and the third — needed only when the names that start
/// with the text do not fill the page — walks the items in name order and stops at `limit` matches,
/// so a common fragment ("mug", 23,000 of 100,000 items) costs about a hundred rows, not a sort of
/// all of them. A fragment few items contain is found through the trigram index (FTS5 on SQLite,
/// pg_trgm on PostgreSQL) instead.
pub async fn search(store: &Store, text: &str, limit: i64) -> Result<Vec<ItemHit>, sqlx::Error> {
    type Row = (String, String, String, String);
    let needle = text.trim().to_lowercase();
    // LIKE's wildcards in what a person typed match themselves only by luck: drop them.
    let plain = needle.replace(['%', '_'], "");
    let exact = sqlx::query_as::<_, Row>(
        "select netsuite_item_id, itemid, displayname, upc from netsuite_items \
         where inactive = 0 and (itemid_key = $1 or upc = $2) order by itemid limit $3",
    )
    .bind(&needle)
    .bind(text.trim())
    .bind(limit);
    let prefix = sqlx::query_as::<_, Row>(
        "select netsuite_item_id, itemid, displayname, upc from netsuite_items \
         where inactive = 0 and itemid_key like $1 order by itemid_key limit $2",
    )
    .bind(format!("{plain}%"))
    .bind(limit);
    let contains = sqlx::query_as::<_, Row>(
        "select netsuite_item_id, itemid, displayname, upc from netsuite_items \
         where inactive = 0 and search like $1 order by itemid limit $2",
    )
    .bind(format!("%{plain}%"))
    .bind(limit);
    let (exact, prefix) = futures::try_join!(exact.fetch_all(store.pool()), prefix.fetch_all(store.pool()))?;
    // A name's start that fills the page (what someone typing an item number gets) needs no walk.
    let contains = if prefix.len() as i64 >= limit {
        Vec::new()
    } else if store.backend() == Backend::Sqlite && plain.chars().count() >= 3 && rare(store, &plain).await? {
        // Few items contain it: find them by trigram instead of walking every name.
        sqlx::query_as::<_, Row>(
            "select netsuite_item_id, itemid, displayname, upc from netsuite_items where rowid in \
             (select rowid from netsuite_items_grams where search like $1) and inactive = 0 order by itemid limit $2",
        )
        .bind(format!("%{plain}%"))
        .bind(limit)
        .fetch_all(store.pool())
        .await?
    } else {
        // PostgreSQL's planner chooses between pg_trgm's index and the walk by itself.
        contains.fetch_all(store.pool()).await?
    };
    let mut seen = std::collections::HashSet::new();
    Ok(exact
        .into_iter()
        .chain(prefix)
        .chain(contains)
        .filter(|r| seen.insert(r.0.clone()))
        .take(limit as usize)
        .map(|(netsuite_item_id, itemid, displayname, upc)| ItemHit { netsuite_item_id, itemid, displayname, upc })
        .collect())
}
