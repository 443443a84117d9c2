//! Stock levels driven by orders, as WooCommerce moves them: taken once per order line
//! (`_reduced_stock` remembers how much), given back on cancel from that memory, and put back
//! line by line by restocking refunds. Every change fires `product.updated` for the product or
//! variation that holds the stock and leaves an order note in WooCommerce's words.

use super::json::OJson;
use super::store::Store;

fn holder(variation_id: u64, product_id: u64) -> u64 {
    if variation_id != 0 { variation_id } else { product_id }
}

/// `Name (SKU)`, or `Name (#id)` without a SKU (`WC_Product::get_formatted_name`).
fn formatted_name(store: &Store, id: u64) -> String {
    let p = &store.products[&id];
    let ident = if p.sku.is_empty() { format!("#{}", p.id) } else { p.sku.clone() };
    format!("{} ({ident})", p.name)
}

/// Moves a product's stock by `delta`; returns (old, new). The caller checks `manage_stock`.
pub(crate) fn move_stock(store: &mut Store, id: u64, delta: i64) -> (i64, i64) {
    let now = store.now();
    let p = store.products.get_mut(&id).expect("product exists");
    let old = p.stock_quantity.unwrap_or(0);
    p.stock_quantity = Some(old + delta);
    p.sync_stock_status();
    p.date_modified = now;
    store.hook("product.updated", id);
    (old, old + delta)
}

fn managed(store: &Store, id: u64) -> bool {
    store.products.get(&id).is_some_and(|p| p.manage_stock)
}

/// `wc_reduce_stock_levels`.
pub(crate) fn reduce_stock(store: &mut Store, id: u64) {
    let o = &store.orders[&id];
    if o.stock_reduced {
        return;
    }
    let lines: Vec<(usize, u64, i64, bool)> = o
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| (i, holder(l.variation_id, l.product_id), l.quantity, l.meta_value("_reduced_stock").is_some()))
        .collect();
    let mut changes = Vec::new();
    for (i, pid, qty, already) in lines {
        if already || !managed(store, pid) {
            continue;
        }
        let name = formatted_name(store, pid);
        let (old, new) = move_stock(store, pid, -qty);
        let meta = store.item_meta("_reduced_stock", OJson::Str(qty.to_string()), "_reduced_stock");
        store.orders.get_mut(&id).expect("order exists").lines[i].meta.push(meta);
        changes.push(format!("{name} {old}&rarr;{new}"));
    }
    store.orders.get_mut(&id).expect("order exists").stock_reduced = true;
    if !changes.is_empty() {
        store.add_note(id, format!("Stock levels reduced: {}", changes.join(", ")), false);
    }
}

/// `wc_increase_stock_levels`: gives back what `_reduced_stock` says was taken.
pub(crate) fn increase_stock(store: &mut Store, id: u64) {
    let o = &store.orders[&id];
    if !o.stock_reduced {
        return;
    }
    let lines: Vec<(usize, u64, i64)> = o
        .lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let reduced = l.meta_value("_reduced_stock").and_then(OJson::as_i64).filter(|q| *q != 0)?;
            Some((i, holder(l.variation_id, l.product_id), reduced))
        })
        .collect();
    let mut changes = Vec::new();
    for (i, pid, qty) in lines {
        if !managed(store, pid) {
            continue;
        }
        let name = formatted_name(store, pid);
        let (old, new) = move_stock(store, pid, qty);
        store.orders.get_mut(&id).expect("order exists").lines[i].meta.retain(|m| m.key != "_reduced_stock");
        changes.push(format!("{name} {old}&rarr;{new}"));
    }
    store.orders.get_mut(&id).expect("order exists").stock_reduced = false;
    if !changes.is_empty() {
        store.add_note(id, format!("Stock levels increased: {}", changes.join(", ")), false);
    }
}

/// `wc_restock_refunded_items` for one order line.
pub(crate) fn restock_refunded(store: &mut Store, order_id: u64, line: usize, qty: i64) {
    let l = &store.orders[&order_id].lines[line];
    let pid = holder(l.variation_id, l.product_id);
    let reduced = l.meta_value("_reduced_stock").and_then(OJson::as_i64).unwrap_or(0);
    let restocked = l.meta_value("_restock_refunded_items").and_then(OJson::as_i64).unwrap_or(0);
    if reduced == 0 || qty == 0 || !managed(store, pid) {
        return;
    }
    let (old, new) = move_stock(store, pid, qty);
    set_item_meta(store, order_id, line, "_reduced_stock", (reduced - qty).to_string());
    set_item_meta(store, order_id, line, "_restock_refunded_items", (restocked + qty).to_string());
    store.add_note(order_id, format!("Item #{pid} stock increased from {old} to {new}."), false);
}

fn set_item_meta(store: &mut Store, order_id: u64, line: usize, key: &str, value: String) {
    let exists = store.orders[&order_id].lines[line].meta.iter().any(|m| m.key == key);
    if exists {
        let l = &mut store.orders.get_mut(&order_id).expect("order exists").lines[line];
        if let Some(m) = l.meta.iter_mut().find(|m| m.key == key) {
            m.value = OJson::Str(value);
        }
    } else {
        let meta = store.item_meta(key, OJson::Str(value), key);
        store.orders.get_mut(&order_id).expect("order exists").lines[line].meta.push(meta);
    }
}
