//! Reading NetSuite: `inventoryitemlocations` per web-store location since the watermark, the
//! figures per SKU (available, in flight, reflected, buffer), and WooCommerce's catalogue.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::Row;

use crate::monitor::exceptions::{self, ExceptionKind, Resolution};
use crate::netsuite::{
    Lane,
    suiteql::{TIME_FORMAT, WindowedQuery, literal, time_minus},
};
use crate::store::watermarks;

use super::*;

impl StockSync {
    /// Reads each web-store location's rows modified since `since` (minus the overlap; all rows
    /// when `None`) into `stock_locations`. Returns the NetSuite items whose figure moved (every
    /// item read on a full pass) and the newest `lastmodifieddate` seen.
    pub(super) async fn read_netsuite(
        &self,
        since: Option<String>,
        full: bool,
        started: i64,
        report: &mut CycleReport,
    ) -> Result<(BTreeSet<String>, Option<String>), StockError> {
        let mut changed: BTreeSet<String> = BTreeSet::new();
        let mut newest = since.clone();
        // SKUs answered with a number, and not, at some location (for `stock_unreadable`).
        let (mut readable, mut unreadable_skus): (BTreeSet<String>, BTreeSet<String>) = Default::default();
        for location in &self.settings.locations {
            let mut q = WindowedQuery::new(
                format!(
                    "SELECT iil.item, i.itemid, iil.quantityavailable, TO_CHAR(iil.lastmodifieddate, '{TIME_FORMAT}') AS modified \
                     FROM inventoryitemlocations iil JOIN item i ON i.id = iil.item"
                ),
                "iil.item",
            )
            .and(format!("iil.location = {}", literal(location)));
            if let Some(since) = &since {
                let from = time_minus(since, self.settings.overlap_secs);
                q = q.and(format!("iil.lastmodifieddate >= TO_TIMESTAMP({}, '{TIME_FORMAT}')", literal(&from)));
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
                        unreadable_skus.insert(itemid.to_string());
                        unreadable.push((itemid.to_string(), location.clone(), text));
                        continue;
                    }
                };
                if full {
                    readable.insert(itemid.to_string());
                }
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
        if full {
            // A full pass reads every row of every web-store location: a SKU answered with a
            // number everywhere is readable again. (A delta read sees only the rows that moved,
            // and cannot tell whether the row that was unreadable is among them.)
            let open = exceptions::open_keys(self.store(), ExceptionKind::StockUnreadable).await?;
            let read: Vec<&str> = open
                .iter()
                .filter(|k| {
                    k.strip_prefix("sku:").is_some_and(|s| readable.contains(s) && !unreadable_skus.contains(s))
                })
                .map(String::as_str)
                .collect();
            exceptions::resolve_any(
                self.store(),
                &[ExceptionKind::StockUnreadable],
                &read,
                Resolution::StockRead,
                self.queue.now(),
            )
            .await?;
        }
        Ok((changed, newest))
    }

    /// NetSuite items to compute again although their rows did not move: see the comments.
    pub(super) async fn to_compute_again(&self, started: i64) -> Result<Vec<String>, sqlx::Error> {
        // Web orders posted or closed since the last read change what counts as reflected (or in
        // flight) even when the rows NetSuite moved for them were read a cycle earlier: a read
        // that started between NetSuite saving the order and wns noting it saw the new figure
        // with the order still in flight. Their SKUs are computed again.
        let mut again = Vec::new();
        let previous = watermarks::get(self.store(), LAST_CYCLE).await?;
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
                again.push(r.try_get(0)?);
            }
        }
        // SKUs WooCommerce refused are written again every cycle, not only when NetSuite moves
        // them again: the fix is usually made in WooCommerce (a product created, stock managed).
        for r in self.refused(i64::MAX).await? {
            again.push(r.netsuite_item_id);
        }
        // A write WooCommerce never confirmed (the request failed as a whole) is tried again:
        // NetSuite's figure was stored, so its row no longer looks changed.
        let pending: Vec<String> =
            sqlx::query_scalar("select netsuite_item_id from stock_items where write_pending_since is not null")
                .fetch_all(self.store().pool())
                .await?;
        again.extend(pending);
        Ok(again)
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
    pub(super) async fn categories(&self, skus: &[&str]) -> Result<BTreeMap<String, String>, sqlx::Error> {
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
    pub(super) async fn list_catalogue(&self) -> Result<usize, StockError> {
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

    /// (in flight, reflected) web units per SKU of `skus` for a NetSuite read that started at
    /// `as_of`; SKUs without web orders are absent.
    pub(super) async fn units(&self, skus: &[&str], as_of: i64) -> Result<BTreeMap<String, (i64, i64)>, sqlx::Error> {
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
    pub(super) async fn watermark(&self) -> Result<Option<String>, sqlx::Error> {
        watermarks::netsuite_time(self.store(), WATERMARK).await
    }

    pub(super) async fn set_watermark(&self, modified: &str) -> Result<(), sqlx::Error> {
        watermarks::set_netsuite_time(self.store(), WATERMARK, modified, self.queue.now()).await
    }
}

/// NetSuite's `quantityavailable`: absent (SuiteQL leaves out empty columns) is 0, a number is
/// taken whole units down (a fraction cannot be sold in WooCommerce), anything else is refused
/// with its text.
fn parse_quantity(v: Option<&str>) -> Result<i64, String> {
    let Some(text) = v.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(0) };
    let d: rust_decimal::Decimal = text.parse().map_err(|_| text.to_string())?;
    i64::try_from(d.floor()).map_err(|_| text.to_string())
}

/// `2026-11-27 06:13:39` → 20261127061339.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overlap_goes_back_in_netsuites_own_time() {
        assert_eq!(time_minus("2026-11-27 00:01:00", 120), "2026-11-26 23:59:00");
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
}
