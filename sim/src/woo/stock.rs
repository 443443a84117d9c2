//! `POST /wp-json/wns/v1/stock/adjust`: **not WooCommerce core** but wns's own WordPress plugin
//! route (a later issue ships it). WooCommerce's REST writes of `stock_quantity` are absolute, so
//! an ERP pushing "set to 17" overwrites sales made meanwhile; this route applies relative deltas
//! atomically (`wc_update_product_stock` with `increase`/`decrease`) and remembers idempotency
//! keys so a retried request is not applied twice. The plugin opts into WooCommerce's key
//! authentication (`woocommerce_rest_is_request_to_rest_api`), so the same keys work here.
//!
//! Body: `{"items":[{"sku":"WNS-MUG","delta":-3,"idempotency_key":"…"}]}`. Answer (200):
//! `{"items":[{"sku","delta","idempotency_key","stock_quantity","replayed"}]}` in request order,
//! or `{"sku","idempotency_key","error":{"code","message"}}` for an item that could not apply.
//! Stock may go below zero: the ERP is the source of truth.

use super::WooSim;
use super::error::WooError;
use super::http::{Reply, Req};
use super::json::OJson;
use super::stock_levels::move_stock;
use super::store::Store;

const LIMIT: usize = 100;

fn item_error(sku: &str, key: &str, code: &str, message: &str) -> OJson {
    OJson::obj([
        ("sku", OJson::str(sku)),
        ("idempotency_key", OJson::str(key)),
        ("error", OJson::obj([("code", OJson::str(code)), ("message", OJson::str(message))])),
    ])
}

fn adjust_one(store: &mut Store, item: &OJson) -> OJson {
    let sku = item.get("sku").and_then(OJson::to_php_string).unwrap_or_default();
    let key = item.get("idempotency_key").and_then(OJson::to_php_string).unwrap_or_default();
    let Some(delta) = item.get("delta").and_then(OJson::as_i64) else {
        return item_error(&sku, &key, "wns_invalid_delta", "delta must be an integer.");
    };
    if !key.is_empty()
        && let Some(OJson::Obj(first)) = store.stock_idempotency.get(&key)
    {
        let mut replay = first.clone();
        if let Some(slot) = replay.iter_mut().find(|(k, _)| k == "replayed") {
            slot.1 = OJson::Bool(true);
        }
        return OJson::Obj(replay);
    }
    let Some(&id) = store.sku_index.get(&sku) else {
        return item_error(&sku, &key, "wns_unknown_sku", "No product has this SKU.");
    };
    if !store.products[&id].manage_stock {
        return item_error(&sku, &key, "wns_stock_not_managed", "This product does not manage stock.");
    }
    let (_, new) = move_stock(store, id, delta);
    let answer = OJson::obj([
        ("sku", OJson::Str(sku)),
        ("product_id", OJson::int(id as i64)),
        ("delta", OJson::int(delta)),
        ("idempotency_key", OJson::str(&key)),
        ("stock_quantity", OJson::int(new)),
        ("replayed", OJson::Bool(false)),
    ]);
    if !key.is_empty() {
        store.stock_idempotency.insert(key, answer.clone());
    }
    answer
}

pub(crate) fn adjust(sim: &WooSim, req: &Req) -> Result<Reply, WooError> {
    req.require_auth("rest_forbidden", "Sorry, you are not allowed to do that.")?;
    let body = req.body();
    // PHP decodes `{}` and `[]` alike (an empty array): an empty object is an empty batch.
    let items = match body.get("items") {
        Some(OJson::Obj(o)) if o.is_empty() => &[][..],
        other => match other.and_then(OJson::as_array) {
            Some(items) => items,
            None => return Err(WooError::missing_params(&["items"])),
        },
    };
    if items.len() > LIMIT {
        let message = format!("Unable to accept more than {LIMIT} items for this request.");
        return Err(WooError::new(413, "wns_request_entity_too_large", message));
    }
    let results = sim.with_store(|store| items.iter().map(|item| adjust_one(store, item)).collect::<Vec<_>>());
    Ok(Reply::ok(&OJson::obj([("items", OJson::Arr(results))])))
}
