//! Products for people (`view`): the stock status of many products or SKUs in one request (one
//! per products-list screen) — mapping, NetSuite's figure per web-store location, what wns
//! computed, what WooCommerce showed, when each was read and written, freshness against the
//! stock limits, and drift. Read from what the stock flow keeps (`stock_items`,
//! `stock_locations`, `wc_catalogue`, `sku_map`, open `stock_drift` exceptions); no request goes
//! to NetSuite or WooCommerce.

use std::collections::{BTreeSet, HashMap};

use axum::{Json, extract::State, extract::rejection::JsonRejection};
use utoipa_axum::{router::OpenApiRouter, routes};
use wns_api_types::{ErrorBody, Freshness, LocationStock, MappingState, ProductStatus, ProductStatusRequest};

use super::{
    ApiError, AppState,
    auth::{Caller, Cap},
};
use crate::store::{Store, placeholders};

/// Product ids, and SKUs, one status request may carry (each: a screen is one or the other).
pub const MAX_ITEMS: usize = 500;

/// The stock schedule's limits, for freshness: fresh within two cycles, stale past
/// `stock.stale_after_secs`.
#[derive(Debug, Clone, Copy)]
pub struct StockLimits {
    pub every_secs: u64,
    pub stale_after_secs: u64,
}

impl Default for StockLimits {
    fn default() -> StockLimits {
        StockLimits { every_secs: 60, stale_after_secs: 900 }
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status))
}

/// The stock status of up to 500 WooCommerce products (or variations) and SKUs, one per id and
/// then one per SKU, in the order asked.
#[utoipa::path(post, path = "/api/v1/products/status", tag = "products", request_body = ProductStatusRequest,
    responses((status = 200, body = Vec<ProductStatus>), (status = 400, body = ErrorBody)))]
async fn status(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Result<Json<Vec<ProductStatus>>, ApiError> {
    caller.require(Cap::View)?;
    let req: ProductStatusRequest = super::error::object_body(body, r#"{"ids": [product ids], "skus": [SKUs]}"#)?;
    if req.ids.len() > MAX_ITEMS || req.skus.len() > MAX_ITEMS {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_ITEMS} product ids and {MAX_ITEMS} SKUs per request (one screen); this one has {} and {}: split it",
            req.ids.len(),
            req.skus.len()
        )));
    }
    super::error::check_wc_ids(&req.ids)?;
    let limits = state.stock_limits;
    Ok(Json(statuses(state.queue.store(), &req, state.queue.now(), limits).await?))
}

#[derive(sqlx::FromRow)]
struct Catalogue {
    sku: String,
    wc_id: i64,
    stock: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Item {
    sku: String,
    netsuite_item_id: String,
    ns_available: i64,
    ns_as_of: i64,
    target: i64,
    pushed_at: Option<i64>,
    confirmed: Option<i64>,
}

/// The status of each requested product id, then each requested SKU, in the order asked.
pub async fn statuses(
    store: &Store,
    req: &ProductStatusRequest,
    now: i64,
    limits: StockLimits,
) -> Result<Vec<ProductStatus>, sqlx::Error> {
    // Product ids → SKUs, from the catalogue the nightly pass lists.
    let mut by_id: HashMap<u64, Catalogue> = HashMap::new();
    if !req.ids.is_empty() {
        let sql =
            format!("select sku, wc_id, stock from wc_catalogue where wc_id in ({})", placeholders(1, req.ids.len()));
        let mut q = sqlx::query_as::<_, Catalogue>(&sql);
        for id in &req.ids {
            q = q.bind(*id as i64);
        }
        by_id = q.fetch_all(store.pool()).await?.into_iter().map(|c| (c.wc_id as u64, c)).collect();
    }
    let skus: BTreeSet<String> =
        req.skus.iter().cloned().chain(by_id.values().map(|c| c.sku.clone())).filter(|s| !s.is_empty()).collect();
    let facts = Facts::read(store, &skus).await?;
    let mut out = Vec::with_capacity(req.ids.len() + req.skus.len());
    for id in &req.ids {
        out.push(match by_id.get(id) {
            Some(c) => facts.status(Some(*id), Some(&c.sku), c.stock, now, limits),
            None => facts.status(Some(*id), None, None, now, limits),
        });
    }
    for sku in &req.skus {
        if sku.trim().is_empty() {
            // The screen shows a product without a SKU: it cannot have a NetSuite item.
            out.push(ProductStatus { mapping: MappingState::NoSku, ..facts.status(None, None, None, now, limits) });
            continue;
        }
        let shown = facts.catalogue_stock.get(sku).copied().flatten();
        out.push(facts.status(facts.catalogue_id.get(sku).copied(), Some(sku), shown, now, limits));
    }
    Ok(out)
}

/// What wns knows of a set of SKUs, read in a few queries.
#[derive(Default)]
struct Facts {
    mapped: HashMap<String, String>,
    items: HashMap<String, Item>,
    locations: HashMap<String, Vec<LocationStock>>,
    drift: HashMap<String, String>,
    catalogue_id: HashMap<String, u64>,
    catalogue_stock: HashMap<String, Option<i64>>,
}

impl Facts {
    async fn read(store: &Store, skus: &BTreeSet<String>) -> Result<Facts, sqlx::Error> {
        let mut f = Facts::default();
        if skus.is_empty() {
            return Ok(f);
        }
        let list = placeholders(1, skus.len());
        let sql = format!("select sku, netsuite_item_id from sku_map where sku in ({list})");
        let mut mapped = sqlx::query_as::<_, (String, String)>(&sql);
        for s in skus {
            mapped = mapped.bind(s);
        }
        let sql = format!(
            "select sku, netsuite_item_id, ns_available, ns_as_of, target, pushed_at, confirmed from stock_items where sku in ({list})"
        );
        let mut items = sqlx::query_as::<_, Item>(&sql);
        for s in skus {
            items = items.bind(s);
        }
        let sql = format!(
            "select entity_key, message from exceptions where kind = 'stock_drift' and resolved_at is null and entity_key in ({list})"
        );
        let mut drift = sqlx::query_as::<_, (String, String)>(&sql);
        for s in skus {
            drift = drift.bind(format!("sku:{s}"));
        }
        let sql = format!("select sku, wc_id, stock from wc_catalogue where sku in ({list})");
        let mut catalogue = sqlx::query_as::<_, (String, i64, Option<i64>)>(&sql);
        for s in skus {
            catalogue = catalogue.bind(s);
        }
        // Four independent reads on as many connections at once (SQLite's WAL lets readers run
        // side by side); the locations need the first two.
        let pool = store.pool();
        let (mapped, items, drift, catalogue) = futures::try_join!(
            mapped.fetch_all(pool),
            items.fetch_all(pool),
            drift.fetch_all(pool),
            catalogue.fetch_all(pool)
        )?;
        f.mapped = mapped.into_iter().collect();
        f.items = items.into_iter().map(|i| (i.sku.clone(), i)).collect();
        f.drift = drift.into_iter().map(|(e, m)| (e.trim_start_matches("sku:").to_string(), m)).collect();
        for (sku, id, stock) in catalogue {
            f.catalogue_id.insert(sku.clone(), id as u64);
            f.catalogue_stock.insert(sku, stock);
        }
        let items: BTreeSet<String> =
            f.items.values().map(|i| i.netsuite_item_id.clone()).chain(f.mapped.values().cloned()).collect();
        if !items.is_empty() {
            let sql = format!(
                "select netsuite_item_id, location, available from stock_locations where netsuite_item_id in ({}) order by location",
                placeholders(1, items.len())
            );
            let mut q = sqlx::query_as::<_, (String, String, i64)>(&sql);
            for i in &items {
                q = q.bind(i);
            }
            for (item, location, available) in q.fetch_all(store.pool()).await? {
                f.locations.entry(item).or_default().push(LocationStock { location, available });
            }
        }
        Ok(f)
    }

    fn status(
        &self,
        id: Option<u64>,
        sku: Option<&str>,
        shown: Option<i64>,
        now: i64,
        limits: StockLimits,
    ) -> ProductStatus {
        let sku = sku.filter(|s| !s.is_empty());
        let item = sku.and_then(|s| self.items.get(s));
        let item_id =
            sku.and_then(|s| self.mapped.get(s).cloned()).or_else(|| item.map(|i| i.netsuite_item_id.clone()));
        let mapping = match (sku, &item_id) {
            (Some(_), Some(_)) => MappingState::Mapped,
            (Some(_), None) => MappingState::Unmapped,
            (None, _) => MappingState::Unknown,
        };
        let locations = item_id.as_ref().and_then(|i| self.locations.get(i)).cloned().unwrap_or_default();
        let age = item.map(|i| (now - i.ns_as_of).max(0) / 1000);
        let freshness = match age {
            None => Freshness::Never,
            Some(a) if a <= 2 * limits.every_secs as i64 => Freshness::Fresh,
            Some(a) if a <= limits.stale_after_secs as i64 => Freshness::Late,
            Some(_) => Freshness::Stale,
        };
        ProductStatus {
            product_id: id,
            sku: sku.map(str::to_string),
            mapping,
            netsuite_item_id: item_id,
            netsuite_total: item.map(|i| i.ns_available),
            locations,
            wns_figure: item.map(|i| i.target),
            woocommerce_stock: item.and_then(|i| i.confirmed).or(shown),
            read_at: item.map(|i| i.ns_as_of),
            written_at: item.and_then(|i| i.pushed_at),
            freshness,
            age_secs: age,
            drift: sku.and_then(|s| self.drift.get(s).cloned()),
        }
    }
}
