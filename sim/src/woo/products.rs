//! `/wc/v3/products` and `/products/<id>/variations`. Writes go through one `apply` like
//! WooCommerce's `prepare_object_for_database`: SKUs must be unique across products *and*
//! variations, `stock_quantity` is absolute and only taken when `manage_stock` is on, and the stock
//! status follows the quantity. Every save fires `product.updated` (variations included).

use std::cmp::Reverse;

use rust_decimal::Decimal;

use super::WooSim;
use super::error::WooError;
use super::http::{Reply, Req, bool_param, date_param, enum_param, id_list_param, list_param, paging};
use super::json::OJson;
use super::model::{Attribute, Kind, Product};
use super::store::{Store, sanitize_title, store_title};
use super::view_product::{Ctx, product_json};

pub(crate) fn invalid_id(status: u16) -> WooError {
    WooError::new(status, "woocommerce_rest_product_invalid_id", "Invalid ID.")
}

pub(crate) fn invalid_variation(status: u16) -> WooError {
    WooError::new(status, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")
}

fn decimal(v: &OJson) -> Option<Decimal> {
    v.to_php_string().filter(|s| !s.trim().is_empty()).and_then(|s| s.trim().parse().ok())
}

pub(crate) fn blank(id: u64, kind: Kind, now: chrono::DateTime<chrono::Utc>) -> Product {
    Product {
        id,
        kind,
        parent_id: 0,
        name: String::new(),
        slug: String::new(),
        sku: String::new(),
        status: "publish".into(),
        regular_price: None,
        sale_price: None,
        manage_stock: false,
        stock_quantity: None,
        backorders: "no".into(),
        stock_status: "instock".into(),
        total_sales: 0,
        description: String::new(),
        meta: Vec::new(),
        date_created: now,
        date_modified: now,
        attributes: Vec::new(),
        variation_attrs: Vec::new(),
        children: Vec::new(),
    }
}

/// `WC_Product::set_sku`'s uniqueness check, across products and variations.
pub(crate) fn check_sku(store: &Store, id: u64, sku: &str) -> Result<(), WooError> {
    match store.sku_index.get(sku) {
        Some(&other) if other != id && !sku.is_empty() => {
            let data = OJson::obj([
                ("status", OJson::int(400)),
                ("resource_id", OJson::int(other as i64)),
                ("unique_sku", OJson::Str(store.unique_sku(sku))),
            ]);
            Err(WooError::with_data(400, "product_invalid_sku", "Invalid or duplicated SKU.", data))
        }
        _ => Ok(()),
    }
}

/// Applies the writable fields of `body` to `p` (not yet stored) and re-indexes its SKU.
pub(crate) fn apply(store: &mut Store, p: &mut Product, body: &OJson) -> Result<(), WooError> {
    let get = |k: &str| body.get(k);
    if let Some(sku) = get("sku").and_then(OJson::to_php_string) {
        let sku = sku.trim().to_owned();
        check_sku(store, p.id, &sku)?;
        let old = std::mem::replace(&mut p.sku, sku.clone());
        store.set_sku(p.id, &old, &sku);
    }
    if let Some(name) = get("name").and_then(OJson::to_php_string) {
        p.name = store_title(&name);
    }
    if let Some(s) = get("status").and_then(OJson::to_php_string) {
        p.status = s;
    }
    if let Some(s) = get("description").and_then(OJson::to_php_string) {
        p.description = s;
    }
    if let Some(v) = get("regular_price") {
        p.regular_price = decimal(v);
    }
    if let Some(v) = get("sale_price") {
        p.sale_price = decimal(v);
    }
    if let Some(b) =
        get("backorders").and_then(OJson::to_php_string).filter(|b| ["no", "notify", "yes"].contains(&b.as_str()))
    {
        p.backorders = b;
    }
    if let Some(m) = get("manage_stock").and_then(OJson::as_bool) {
        p.manage_stock = m;
    }
    if p.manage_stock {
        if let Some(q) = get("stock_quantity").and_then(OJson::as_i64) {
            p.stock_quantity = Some(q);
        }
        p.stock_quantity.get_or_insert(0);
        p.sync_stock_status();
    } else {
        p.stock_quantity = None;
        if let Some(s) = get("stock_status").and_then(OJson::to_php_string) {
            p.stock_status = s;
        }
    }
    if let Some(metas) = get("meta_data").and_then(OJson::as_array) {
        let mut meta = std::mem::take(&mut p.meta);
        for m in metas {
            if let (Some(key), Some(value)) = (m.get("key").and_then(OJson::to_php_string), m.get("value")) {
                store.upsert_meta(&mut meta, m.get("id").and_then(OJson::as_u64), &key, value.clone());
            }
        }
        p.meta = meta;
    }
    p.date_modified = store.now();
    Ok(())
}

pub(crate) fn create_product(store: &mut Store, body: &OJson) -> Result<u64, WooError> {
    let kind = match body.get("type").and_then(OJson::as_str) {
        Some("variable") => Kind::Variable,
        _ => Kind::Simple,
    };
    let now = store.now();
    let mut p = blank(0, kind, now);
    if let Some(sku) = body.get("sku").and_then(OJson::to_php_string) {
        check_sku(store, 0, sku.trim())?;
    }
    p.id = store.post_id();
    if let Err(e) = apply(store, &mut p, body) {
        store.set_sku(p.id, &p.sku, "");
        return Err(e);
    }
    p.slug = store.unique_slug(&sanitize_title(&p.name), p.id);
    store.slug_index.insert(p.slug.clone(), p.id);
    if kind == Kind::Variable {
        p.attributes = body
            .get("attributes")
            .and_then(OJson::as_array)
            .unwrap_or_default()
            .iter()
            .filter_map(|a| {
                let options = a.get("options")?.as_array()?.iter().filter_map(OJson::to_php_string).collect();
                Some(Attribute { name: a.get("name")?.to_php_string()?, options })
            })
            .collect();
        p.manage_stock = false;
        p.stock_quantity = None;
    }
    let id = p.id;
    store.products.insert(id, p);
    store.hook("product.created", id);
    Ok(id)
}

pub(crate) fn update_product(store: &mut Store, id: u64, body: &OJson) -> Result<(), WooError> {
    let mut p = store.products.get(&id).cloned().ok_or_else(|| invalid_id(400))?;
    apply(store, &mut p, body)?;
    store.products.insert(id, p);
    store.hook("product.updated", id);
    Ok(())
}

/// Deletes permanently (`force`) or trashes; variations go with their parent. A forced delete
/// fires no webhook (7.9's `product.deleted` listens to `wp_trash_post` only).
pub(crate) fn delete_product(store: &mut Store, id: u64, force: bool) {
    let Some(p) = store.products.get(&id).cloned() else { return };
    if !force {
        let now = store.now();
        let stored = store.products.get_mut(&id).expect("exists");
        stored.status = "trash".into();
        stored.date_modified = now;
        store.hook("product.deleted", id);
        return;
    }
    for child in p.children.iter().copied().chain([id]) {
        if let Some(gone) = store.products.remove(&child) {
            store.set_sku(child, &gone.sku, "");
            if store.slug_index.get(&gone.slug) == Some(&child) {
                store.slug_index.remove(&gone.slug);
            }
        }
    }
    if let Some(parent) = store.products.get_mut(&p.parent_id) {
        parent.children.retain(|c| *c != id);
    }
}

pub(crate) fn list(sim: &WooSim, req: &Req) -> Result<Reply, WooError> {
    let p = paging(req, 10)?;
    let gmt = bool_param(req, "dates_are_gmt")?.unwrap_or(false);
    let status = enum_param(req, "status", &["any", "future", "trash", "draft", "pending", "private", "publish"])?;
    let kind = enum_param(req, "type", &["simple", "grouped", "external", "variable"])?;
    let stock_status = enum_param(req, "stock_status", &["instock", "outofstock", "onbackorder"])?;
    let asc = enum_param(req, "order", &["asc", "desc"])?.is_some_and(|o| o == "asc");
    let by_modified = enum_param(req, "orderby", &["date", "id", "include", "title", "slug", "modified", "price"])?
        .is_some_and(|o| o == "modified");
    let offset = sim.store().offset;
    let modified_after = date_param(req, "modified_after", gmt, offset)?;
    let modified_before = date_param(req, "modified_before", gmt, offset)?;
    let skus = list_param(req, "sku");
    let include = id_list_param(req, "include").filter(|i| !i.is_empty());
    let parents = id_list_param(req, "parent").filter(|i| !i.is_empty());
    let search = req.str_param("search").map(|s| s.to_lowercase());
    req.can_list()?;
    let store = sim.store();
    let mut found: Vec<&Product> = store
        .products
        .values()
        .filter(|x| match &skus {
            Some(skus) => skus.contains(&x.sku),
            None => x.kind != Kind::Variation,
        })
        .filter(|x| match status.as_deref() {
            None | Some("any") => x.status != "trash",
            Some(s) => x.status == s,
        })
        .filter(|x| kind.as_deref().is_none_or(|k| view_kind(x) == k))
        .filter(|x| stock_status.as_deref().is_none_or(|s| x.stock_status == s))
        .filter(|x| include.as_ref().is_none_or(|ids| ids.contains(&x.id)))
        .filter(|x| parents.as_ref().is_none_or(|ids| ids.contains(&x.parent_id)))
        .filter(|x| search.as_ref().is_none_or(|s| x.name.to_lowercase().contains(s)))
        .filter(|x| {
            modified_after.is_none_or(|t| x.date_modified > t) && modified_before.is_none_or(|t| x.date_modified < t)
        })
        .collect();
    found.sort_by_key(|x| (Reverse(if by_modified { x.date_modified } else { x.date_created }), Reverse(x.id)));
    if asc {
        found.reverse();
    }
    let total = found.len();
    let page: Vec<_> = p.window(found).into_iter().map(|x| product_json(&store, x, &req.base, Ctx::Read)).collect();
    Ok(Reply::shaped(req, 200, &page).paged(req, "/wc/v3/products", total, &p, false))
}

fn view_kind(p: &Product) -> &'static str {
    match p.kind {
        Kind::Simple => "simple",
        Kind::Variable => "variable",
        Kind::Variation => "variation",
    }
}

pub(crate) fn get(sim: &WooSim, req: &Req, id: u64) -> Result<Reply, WooError> {
    req.can_view()?;
    let store = sim.store();
    let p = store.products.get(&id).ok_or_else(|| invalid_id(404))?;
    Ok(Reply::shaped(req, 200, &product_json(&store, p, &req.base, Ctx::Read)))
}

pub(crate) fn create(sim: &WooSim, req: &Req) -> Result<Reply, WooError> {
    req.can_create()?;
    let body = req.body();
    let id = sim.with_store(|store| create_product(store, &body))?;
    let store = sim.store();
    let json = product_json(&store, &store.products[&id], &req.base, Ctx::Write);
    Ok(Reply::created(&json, req.url(&format!("/wc/v3/products/{id}"))))
}

pub(crate) fn update(sim: &WooSim, req: &Req, id: u64) -> Result<Reply, WooError> {
    req.can_edit()?;
    let body = req.body();
    sim.with_store(|store| update_product(store, id, &body))?;
    let store = sim.store();
    Ok(Reply::ok(&product_json(&store, &store.products[&id], &req.base, Ctx::Write)))
}

pub(crate) fn delete(sim: &WooSim, req: &Req, id: u64) -> Result<Reply, WooError> {
    let force = req.force()?;
    req.can_delete()?;
    sim.with_store(|store| {
        let p = store.products.get(&id).ok_or_else(|| invalid_id(404))?;
        if !force && p.status == "trash" {
            return Err(WooError::new(
                410,
                "woocommerce_rest_already_trashed",
                "The product has already been deleted.",
            ));
        }
        let before = Reply::ok(&product_json(store, p, &req.base, Ctx::Write));
        delete_product(store, id, force);
        Ok(before)
    })
}
