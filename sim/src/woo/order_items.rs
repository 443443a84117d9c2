//! `line_items` of `PUT /wc/v3/orders/<id>`, as WooCommerce 7.9 applies them
//! (`WC_REST_Orders_Controller::prepare_object_for_database` → `set_item` → `prepare_line_items`,
//! then `calculate_totals(true)` in `save_object`). Read from WooCommerce's public source of these
//! methods (a 9.x copy, whose only difference that matters here is the stock adjustment below):
//!
//! * `{"id": 5, "quantity": 3}` sets the quantity **and nothing else**: `prepare_line_items` only
//!   prices a line it creates, and `calculate_totals` sums the items' own `subtotal`/`total`, so the
//!   line keeps its money and only `price` (rendered as total ÷ quantity) moves. A client that wants
//!   the money to follow sends `subtotal` and `total` (strings) with the quantity, as WooCommerce's
//!   own mobile apps do (woocommerce-ios#6138); taxes and order totals are then recomputed from them.
//!   `name` may be set the same way.
//! * `{"id": 5, "quantity": 0}` — or `null` for `product_id` or `name` (`item_is_null`) — removes
//!   the line (`$order->remove_item( $item['id'] )`); an id that is not an item of the order is
//!   ignored there, as `remove_item` returns false without a word.
//! * No `id` (or 0): a new line for `sku`, else `product_id`, else `variation_id`, priced at the
//!   product's price × quantity (`wc_get_price_excluding_tax`; quantity defaults to 1), so it gets
//!   no coupon discount. No product reference at all: 400 `woocommerce_rest_required_product_reference`.
//! * Any other `id`: 400 `woocommerce_rest_invalid_item_id`, "Order item ID provided is not
//!   associated with order." (`set_item`). [INFERRED] from the code, not recorded: lines updated
//!   *before* the bad one were already saved (`set_item` calls `$item->save()` per item) and stay
//!   changed but untaxed again, while removals and additions wait for the order's save
//!   (`remove_item`/`add_item` only queue) and are lost with the order's other changes.
//!
//! Stock: before WooCommerce 9.x the REST path never calls `wc_maybe_adjust_line_item_product_stock`
//! (only the admin's `wc_save_order_items` does; woocommerce#44085, reported against 8.x, and the
//! fixes #47784 for updates, #50606 for removals, #53618 gating both and additions on
//! processing/on-hold/completed). So here edits leave stock alone and an edited line keeps its
//! `_reduced_stock`: a later cancel gives back what was taken, a removed line's stock is not given
//! back, an added line's is never taken unless the order later passes through pending again.
//! [INFERRED] that 7.9 is on the "before" side: the fixes are dated 2024, after 8.x.

use rust_decimal::Decimal;

use super::error::WooError;
use super::json::OJson;
use super::lifecycle::resolve_cart;
use super::model::{LineItem, Order};
use super::pricing;
use super::store::Store;

/// The props `maybe_set_item_props` copies when they were sent.
#[derive(Debug, Default)]
pub(crate) struct Props {
    name: Option<String>,
    quantity: Option<i64>,
    subtotal: Option<Decimal>,
    total: Option<Decimal>,
}

#[derive(Debug)]
pub(crate) enum ProductRef {
    Sku(String),
    Id(Option<u64>),
    Missing,
}

#[derive(Debug)]
pub(crate) enum LineEdit {
    Remove(Option<u64>),
    Update { id: u64, props: Props },
    Add { product: ProductRef, props: Props },
}

/// Why the edits stopped: the error, and the lines WooCommerce had already saved by then.
pub(crate) struct Stopped {
    pub error: WooError,
    pub saved: Vec<LineItem>,
}

/// PHP's `empty()` on a posted value.
fn empty(v: Option<&OJson>) -> bool {
    match v {
        None | Some(OJson::Null) | Some(OJson::Bool(false)) => true,
        Some(OJson::Num(n)) => n.as_f64() == Some(0.0),
        Some(OJson::Str(s)) => s.is_empty() || s == "0",
        Some(OJson::Arr(a)) => a.is_empty(),
        Some(OJson::Obj(o)) => o.is_empty(),
        Some(OJson::Bool(true)) => false,
    }
}

fn invalid_type(param: &str, kind: &str) -> WooError {
    // [INFERRED] `rest_validate_value_from_schema` names the nested property and, since WordPress
    // 5.7, puts it in the detail's data.
    WooError::invalid_param_data(
        "line_items",
        "rest_invalid_type",
        format!("{param} is not of type {kind}."),
        OJson::obj([("param", OJson::str(param))]),
    )
}

/// Checks the posted `line_items` against the schema's types (WordPress does this before the
/// controller runs, so nothing is applied) and reads them. `None` when `line_items` was not sent.
pub(crate) fn parse(body: &OJson) -> Result<Option<Vec<LineEdit>>, WooError> {
    let items = match body.get("line_items") {
        None | Some(OJson::Null) => return Ok(None),
        Some(OJson::Arr(items)) => items,
        Some(_) => return Err(invalid_type("line_items", "array")),
    };
    let mut edits = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let OJson::Obj(fields) = item else { return Err(invalid_type(&format!("line_items[{i}]"), "object")) };
        for (key, v) in fields {
            let kind = match key.as_str() {
                "id" | "variation_id" | "quantity" => "integer",
                "subtotal" | "total" | "sku" | "tax_class" => "string",
                _ => continue,
            };
            let ok = if kind == "integer" { v.as_i64().is_some() } else { v.as_str().is_some() };
            if !ok {
                return Err(invalid_type(&format!("line_items[{i}][{key}]"), kind));
            }
        }
        edits.push(edit(item));
    }
    Ok(Some(edits))
}

fn edit(item: &OJson) -> LineEdit {
    let id = item.get("id").and_then(OJson::as_u64).filter(|id| *id != 0);
    let quantity = item.get("quantity").and_then(OJson::as_i64);
    let nulled = ["product_id", "method_id", "method_title", "name", "code"]
        .iter()
        .any(|k| item.get(k).is_some_and(OJson::is_null));
    if nulled || quantity == Some(0) {
        return LineEdit::Remove(id);
    }
    let money = |k| item.get(k).map(|v| v.as_decimal().unwrap_or_default());
    let props = Props {
        name: item.get("name").and_then(OJson::to_php_string),
        quantity,
        subtotal: money("subtotal"),
        total: money("total"),
    };
    match id {
        Some(id) => LineEdit::Update { id, props },
        None => {
            // `get_product_id`: SKU first, then a product id without a variation id, then the variation id.
            let product = if !empty(item.get("sku")) {
                ProductRef::Sku(item.get("sku").and_then(OJson::to_php_string).unwrap_or_default())
            } else if !empty(item.get("product_id")) && empty(item.get("variation_id")) {
                ProductRef::Id(item.get("product_id").and_then(OJson::as_u64))
            } else if !empty(item.get("variation_id")) {
                ProductRef::Id(item.get("variation_id").and_then(OJson::as_u64))
            } else {
                ProductRef::Missing
            };
            LineEdit::Add { product, props }
        }
    }
}

fn set_props(l: &mut LineItem, props: &Props) {
    if let Some(name) = &props.name {
        l.name = name.clone();
    }
    if let Some(q) = props.quantity {
        l.quantity = q;
    }
    if let Some(s) = props.subtotal {
        l.subtotal = s;
    }
    if let Some(t) = props.total {
        l.total = t;
    }
}

/// Applies the edits to `o`'s lines in the order sent. Taxes and totals are left to
/// [`pricing::recalculate`], which the caller runs as `save_object` does.
pub(crate) fn apply(store: &mut Store, o: &mut Order, edits: &[LineEdit]) -> Result<(), Stopped> {
    let mut saved: Vec<LineItem> = Vec::new();
    for e in edits {
        let failed = match e {
            LineEdit::Remove(id) => {
                if let Some(id) = id {
                    o.lines.retain(|l| l.id != *id);
                }
                None
            }
            LineEdit::Update { id, props } => match o.lines.iter_mut().find(|l| l.id == *id) {
                Some(l) => {
                    set_props(l, props);
                    saved.push(l.clone());
                    None
                }
                // [INFERRED] `get_item` would also find a shipping, fee, coupon or tax item by
                // this id (and then fail on it otherwise); only the order's product lines count here.
                None => Some(WooError::new(
                    400,
                    "woocommerce_rest_invalid_item_id",
                    "Order item ID provided is not associated with order.",
                )),
            },
            LineEdit::Add { product, props } => add(store, o, product, props).err(),
        };
        if let Some(error) = failed {
            return Err(Stopped { error, saved });
        }
    }
    Ok(())
}

fn add(store: &mut Store, o: &mut Order, product: &ProductRef, props: &Props) -> Result<(), WooError> {
    let target = match product {
        ProductRef::Missing => {
            return Err(WooError::new(
                400,
                "woocommerce_rest_required_product_reference",
                "Product ID or SKU is required.",
            ));
        }
        ProductRef::Sku(sku) => store.sku_index.get(sku).copied().unwrap_or(0),
        ProductRef::Id(id) => id.unwrap_or(0),
    };
    // [INFERRED] An id or SKU that is no product (or an unpriced one) answers as `POST /orders`
    // does here; WooCommerce itself would add a line without a product, at 0.00.
    let cart = resolve_cart(store, &[(target, 0, 1)], false).map_err(|e| e.to_rest())?.remove(0);
    let quantity = props.quantity.unwrap_or(1);
    let priced = cart.unit_price * Decimal::from(quantity.max(0));
    let mut l = pricing::new_line(store, &pricing::CartLine { quantity, ..cart }, priced, priced);
    set_props(&mut l, props);
    o.lines.push(l);
    Ok(())
}
