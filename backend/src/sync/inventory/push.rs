//! Writing WooCommerce: deltas through the stock-adjust route or absolute batch writes, a write
//! pending until WooCommerce confirms it, refusals as exceptions per SKU.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;
use sqlx::Row;

use crate::{
    monitor::exceptions::{Exception, ExceptionKind, Resolution},
    woo::catalog::{MAX_BATCH, StockDelta},
};

use super::*;

impl StockSync {
    /// Writes what changed, lowest stock first, 100 per request.
    pub(super) async fn push(
        &self,
        mut figures: Vec<Figures>,
        as_of: i64,
        report: &mut CycleReport,
    ) -> Result<(), StockError> {
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
        let (mut deltas, mut absolute, mut unchanged, mut first) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for f in figures {
            let (basis, pushed, _) = known[&f.sku];
            match (write, basis) {
                // Never written: a delta from a figure WooCommerce held still (see `push_first`).
                (WriteMode::Adjust, None) => first.push(f),
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
        let to_write: Vec<&str> = deltas.iter().chain(&absolute).chain(&first).map(|f| f.sku.as_str()).collect();
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
        if !first.is_empty() {
            absolute.extend(self.push_first(first, as_of, reserve, report).await?);
        }
        if !absolute.is_empty() {
            self.push_absolute(absolute, reserve, report).await?;
        }
        Ok(())
    }

    /// The first write of SKUs, with wns's plugin: WooCommerce's own figure is not known, and an
    /// absolute write would overwrite every checkout that lands between wns computing the figure
    /// and WooCommerce storing it (those units would be offered twice). So: read WooCommerce's
    /// stock (1), enter every order WooCommerce holds in the units ledger, then per 100 SKUs
    /// compute the figures, read the stock again (2), and for each SKU that did not move between
    /// (1) and (2) write
    /// `figure − (2)` as a delta. No checkout landed between the reads, so the ledger holds
    /// exactly the orders WooCommerce's figure already reflects; a checkout after (2) lowers the
    /// figure and the delta keeps it. A SKU that moved is left pending for the next cycle.
    /// Returns the SKUs that need an absolute write instead: no product with the SKU (the batch
    /// path reports it), or a product that does not manage stock (no checkout takes stock from
    /// it, so there is no race; the absolute write turns stock management on).
    async fn push_first(
        &self,
        first: Vec<Figures>,
        as_of: i64,
        reserve: bool,
        report: &mut CycleReport,
    ) -> Result<Vec<Figures>, StockError> {
        let mut before = BTreeMap::new();
        for chunk in first.chunks(MAX_BATCH) {
            let skus: Vec<&str> = chunk.iter().map(|f| f.sku.as_str()).collect();
            before.extend(self.woo_stock(&skus, report).await?);
        }
        let (anchored, absolute): (Vec<Figures>, Vec<Figures>) =
            first.into_iter().partition(|f| before.contains_key(&f.sku));
        if anchored.is_empty() {
            return Ok(absolute);
        }
        report.woo_requests += 1;
        self.catch_up_ledger().await?;
        for chunk in anchored.chunks(MAX_BATCH) {
            let skus: Vec<&str> = chunk.iter().map(|f| f.sku.as_str()).collect();
            let items: BTreeSet<String> = chunk.iter().map(|f| f.netsuite_item_id.clone()).collect();
            let fresh = self.figures(&items, as_of).await?;
            let after = self.woo_stock(&skus, report).await?;
            let now = self.queue.now();
            let mut writes = Vec::new();
            let mut tx = self.store().pool().begin().await?;
            for f in fresh.iter().filter(|f| skus.contains(&f.sku.as_str())) {
                match (before.get(&f.sku), after.get(&f.sku)) {
                    (Some(b), Some(a)) if a == b => {
                        record(&mut tx, f, as_of, f.target(reserve), now).await?;
                        writes.push((f, *a));
                    }
                    // Moved between the reads (a checkout): next cycle, still pending.
                    _ => {
                        tracing::debug!(sku = %f.sku, "stock: WooCommerce's figure moved while wns read it; first write next cycle")
                    }
                }
            }
            tx.commit().await?;
            if writes.is_empty() {
                continue;
            }
            let items: Vec<StockDelta> = writes
                .iter()
                .map(|(f, shown)| StockDelta {
                    sku: f.sku.clone(),
                    delta: f.target(reserve) - shown,
                    // A lost answer is not replayed: the next cycle reads the figure again.
                    idempotency_key: format!("wns:first:{}:{now}:{shown}:{}", f.sku, f.target(reserve)),
                })
                .collect();
            report.woo_requests += 1;
            let answers = self.woo.adjust_stock(&items).await?;
            for ((f, _), a) in writes.iter().zip(answers) {
                match a.result {
                    Ok(confirmed) => {
                        self.pushed(f, f.target(reserve), Some(confirmed)).await?;
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
        Ok(absolute)
    }

    /// WooCommerce's stock of the products and variations with `skus` (≤ 100) that manage it.
    async fn woo_stock(&self, skus: &[&str], report: &mut CycleReport) -> Result<BTreeMap<String, i64>, StockError> {
        report.woo_requests += 1;
        Ok(self
            .woo
            .products_by_skus(skus)
            .await?
            .into_iter()
            .filter(|p| p.manage_stock.is_managed())
            .filter_map(|p| Some((p.sku, p.stock_quantity?)))
            .collect())
    }

    /// Enters every order modified since the sweep's watermark (or its first look-back) that the
    /// ledger lacks; returns how many.
    pub(super) async fn catch_up_ledger(&self) -> Result<usize, StockError> {
        let opts = crate::woo::sweep::SweepOptions::default();
        let after = crate::woo::sweep::catch_up_start(&self.queue, &opts).await?;
        crate::woo::sweep::catch_up_units(&self.woo, &self.queue, after).await.map_err(|e| match e {
            crate::woo::sweep::SweepError::Woo(e) => StockError::Woo(e),
            crate::woo::sweep::SweepError::Store(e) => StockError::Store(e),
        })
    }

    /// Absolute writes through WooCommerce's batch endpoints: simple products together, each
    /// variable product's variations together.
    pub(super) async fn push_absolute(
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
    pub(super) async fn set_pending(&self, skus: &[&str], since: Option<i64>) -> Result<(), sqlx::Error> {
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

    pub(super) async fn pushed(&self, f: &Figures, target: i64, confirmed: Option<i64>) -> Result<(), sqlx::Error> {
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
        // Written and confirmed: neither refused nor behind any more, and no longer drifting
        // when WooCommerce answered wns's figure (a delta write on a drifted figure keeps the
        // difference; a later drift check or the reconciliation sees it go).
        let mut kinds = vec![ExceptionKind::StockItemRejected, ExceptionKind::StockStale];
        if confirmed == Some(target) {
            kinds.push(ExceptionKind::StockDrift);
        }
        crate::monitor::exceptions::resolve_any(
            self.store(),
            &kinds,
            &[&format!("sku:{}", f.sku)],
            Resolution::StockWritten,
            now,
        )
        .await?;
        Ok(())
    }

    pub(super) async fn unreadable(&self, sku: &str, location: &str, text: &str) -> Result<(), sqlx::Error> {
        Exception::new(
            ExceptionKind::StockUnreadable,
            format!("sku:{sku}"),
            format!("NetSuite gave SKU {sku} at location {location} an available quantity wns cannot read ({text:?}); WooCommerce keeps the last figure"),
            "Look at the item's inventory at that location in NetSuite (a custom field or a script may be writing text into it); the next read that NetSuite answers with a number writes the SKU.",
        )
        .raise(self.store(), self.queue.now())
        .await
    }

    pub(super) async fn rejected(&self, sku: &str, code: &str, message: &str) -> Result<(), sqlx::Error> {
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
    pub(super) async fn refused(&self, before: i64) -> Result<Vec<Refused>, sqlx::Error> {
        sqlx::query_as(
            "select s.netsuite_item_id, s.sku, e.first_seen as since, s.target, s.pushed from exceptions e \
             join stock_items s on e.entity_key = 'sku:' || s.sku \
             where e.kind = $1 and e.resolved_at is null and e.first_seen < $2",
        )
        .bind(ExceptionKind::StockItemRejected.as_str())
        .bind(before)
        .fetch_all(self.store().pool())
        .await
    }
}

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
