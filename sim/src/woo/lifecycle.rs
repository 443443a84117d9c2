//! What happens to an order between creation and trash, with WooCommerce's side effects: stock
//! is taken when an order reaches processing/on-hold/completed (`wc_maybe_reduce_stock_levels`)
//! and put back when it is cancelled or returns to pending, sales are counted once, every status
//! change leaves a note, and each change queues the webhook topics WooCommerce would fire.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::error::CheckoutError;
use super::json::OJson;
use super::model::{Address, Kind, Order};
use super::payments;
use super::pricing::{self, CartLine, FeeIn, ShipIn};
use super::stock_levels::{increase_stock, reduce_stock};
use super::store::Store;

/// Statuses a PUT accepts, in the order WooCommerce lists them in its error message.
pub(crate) const ORDER_STATUSES: &[&str] = &[
    "auto-draft",
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
];

pub(crate) fn status_label(status: &str) -> &str {
    match status {
        "pending" => "Pending payment",
        "processing" => "Processing",
        "on-hold" => "On hold",
        "completed" => "Completed",
        "cancelled" => "Cancelled",
        "refunded" => "Refunded",
        "failed" => "Failed",
        "checkout-draft" => "Draft",
        other => other,
    }
}

fn takes_stock(status: &str) -> bool {
    matches!(status, "processing" | "on-hold" | "completed")
}

pub(crate) struct NewOrder {
    pub customer_id: u64,
    pub billing: Address,
    pub shipping: Address,
    /// (product id, variation id or 0, quantity)
    pub lines: Vec<(u64, u64, i64)>,
    pub coupons: Vec<String>,
    pub shipping_lines: Vec<ShipIn>,
    pub fees: Vec<FeeIn>,
    pub payment_method: String,
    pub payment_method_title: String,
    pub transaction_id: String,
    pub status: String,
    pub set_paid: bool,
    pub customer_note: String,
    pub created_via: String,
    pub meta: Vec<(String, OJson)>,
    /// The storefront checkout refuses lines without stock; the REST API does not.
    pub enforce_stock: bool,
}

/// Creates an order and takes it to its first status, as `POST /orders` or a checkout would.
pub(crate) fn create_order(store: &mut Store, new: NewOrder) -> Result<u64, CheckoutError> {
    if new.customer_id != 0 && !store.customers.contains_key(&new.customer_id) {
        return Err(CheckoutError::UnknownCustomer(new.customer_id));
    }
    if !new.status.is_empty() && !ORDER_STATUSES.contains(&new.status.as_str()) {
        return Err(CheckoutError::InvalidStatus(new.status.clone()));
    }
    let cart = resolve_cart(store, &new.lines, new.enforce_stock)?;
    let mut billing = new.billing;
    if let Some(c) = store.customers.get(&new.customer_id) {
        // [INFERRED] The storefront fills a registered customer's blank billing fields from the profile.
        if billing.first_name.is_empty() && billing.last_name.is_empty() {
            billing.first_name = c.first_name.clone();
            billing.last_name = c.last_name.clone();
        }
        if billing.email.is_empty() {
            billing.email = c.email.clone();
        }
    }
    let coupons = new
        .coupons
        .iter()
        .map(|code| {
            store.coupons.get(&code.to_lowercase()).cloned().ok_or_else(|| CheckoutError::UnknownCoupon(code.clone()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let tax_address = if new.shipping.country.is_empty() { &billing } else { &new.shipping };
    let (country, state) = (tax_address.country.clone(), tax_address.state.clone());
    let priced = pricing::price(store, &cart, &coupons, &new.shipping_lines, &new.fees, (&country, &state));
    // [INFERRED] Usage is counted when the order is placed (WooCommerce counts it on the first
    // pending/processing/on-hold status; the snapshot in `coupon_data` shows the count before).
    for c in &coupons {
        if let Some(stored) = store.coupons.get_mut(&c.code) {
            stored.usage_count += 1;
        }
    }
    let id = store.post_id();
    let now = store.now();
    let mut order = Order {
        id,
        status: "pending".into(),
        currency: store.currency.clone(),
        date_created: now,
        date_modified: now,
        date_paid: None,
        date_completed: None,
        customer_id: new.customer_id,
        order_key: format!("wc_order_{}", store.random_alnum(13)),
        billing,
        shipping: Address { email: String::new(), ..new.shipping },
        payment_method: new.payment_method,
        payment_method_title: new.payment_method_title,
        transaction_id: new.transaction_id,
        customer_ip_address: String::new(),
        customer_user_agent: String::new(),
        created_via: new.created_via,
        customer_note: new.customer_note,
        cart_hash: String::new(),
        meta: Vec::new(),
        lines: priced.lines,
        shipping_lines: priced.shipping_lines,
        fee_lines: priced.fee_lines,
        tax_lines: priced.tax_lines,
        coupon_lines: priced.coupon_lines,
        totals: priced.totals,
        refund_ids: Vec::new(),
        stock_reduced: false,
        sales_recorded: false,
    };
    let mut meta = Vec::new();
    for (key, value) in new.meta {
        store.upsert_meta(&mut meta, None, &key, value);
    }
    order.meta = meta;
    store.orders.insert(id, order);
    store.hook("order.created", id);
    // [INFERRED] An order created straight into `pending` fires only `order.created`; the
    // recordings (all created paid or on-hold) show `order.updated` from the status save.
    if new.set_paid {
        payment_complete(store, id);
    } else if !new.status.is_empty() && new.status != "pending" {
        set_status(store, id, &new.status);
    }
    Ok(id)
}

pub(crate) fn resolve_cart(
    store: &Store,
    lines: &[(u64, u64, i64)],
    enforce_stock: bool,
) -> Result<Vec<CartLine>, CheckoutError> {
    if lines.is_empty() {
        return Err(CheckoutError::EmptyCart);
    }
    let mut wanted: BTreeMap<u64, i64> = BTreeMap::new();
    let mut cart = Vec::with_capacity(lines.len());
    for &(product_id, variation_id, quantity) in lines {
        if quantity < 1 {
            return Err(CheckoutError::InvalidQuantity);
        }
        let mut product = store.products.get(&product_id).ok_or(CheckoutError::UnknownProduct(product_id))?;
        let mut variation_id = variation_id;
        let mut product_id = product_id;
        if product.kind == Kind::Variation && variation_id == 0 {
            variation_id = product.id;
            product_id = product.parent_id;
            product = store.products.get(&product_id).ok_or(CheckoutError::UnknownProduct(product_id))?;
        }
        let item = if variation_id != 0 {
            store
                .products
                .get(&variation_id)
                .filter(|v| v.kind == Kind::Variation && v.parent_id == product_id)
                .ok_or(CheckoutError::UnknownVariation { product_id, variation_id })?
        } else {
            product
        };
        let unit_price = match (item.kind, item.price()) {
            (Kind::Variable, _) | (_, None) => return Err(CheckoutError::NotPurchasable(item.id)),
            (_, Some(p)) => p,
        };
        if enforce_stock && (item.status != "publish" || (!item.manage_stock && item.stock_status == "outofstock")) {
            return Err(CheckoutError::NotPurchasable(item.id));
        }
        *wanted.entry(item.id).or_default() += quantity;
        let parent_name = (item.kind == Kind::Variation).then(|| product.name.clone());
        cart.push(CartLine {
            product_id,
            variation_id,
            quantity,
            unit_price,
            name: item.name.clone(),
            sku: if item.sku.is_empty() { product.sku.clone() } else { item.sku.clone() },
            parent_name,
            attrs: item.variation_attrs.clone(),
        });
    }
    if enforce_stock {
        for (id, requested) in wanted {
            let p = &store.products[&id];
            if !p.has_enough_stock(requested) {
                let available = p.stock_quantity.unwrap_or(0);
                return Err(CheckoutError::InsufficientStock { product_id: id, available, requested });
            }
        }
    }
    Ok(cart)
}

/// `WC_Order::payment_complete`: paid now, processing (every product here needs shipping).
pub(crate) fn payment_complete(store: &mut Store, id: u64) {
    let now = store.now();
    if let Some(o) = store.orders.get_mut(&id)
        && o.date_paid.is_none()
    {
        o.date_paid = Some(now);
    }
    set_status(store, id, "processing");
    payments::on_paid(store, id);
}

/// `WC_Order::set_status` + `status_transition`: side effects first, then the note.
pub(crate) fn set_status(store: &mut Store, id: u64, to: &str) {
    let now = store.now();
    let Some(o) = store.orders.get_mut(&id) else { return };
    let from = std::mem::replace(&mut o.status, to.to_owned());
    o.date_modified = now;
    if from != to && matches!(to, "processing" | "completed") && o.date_paid.is_none() {
        o.date_paid = Some(now);
    }
    if from != to && to == "completed" {
        o.date_completed = Some(now);
    }
    // The save fires `order.updated` before the transition's stock hooks fire `product.updated`.
    store.hook("order.updated", id);
    if from == to {
        return;
    }
    if takes_stock(to) {
        record_sales(store, id);
        reduce_stock(store, id);
    } else if matches!(to, "cancelled" | "pending") {
        increase_stock(store, id);
    }
    let note = format!("Order status changed from {} to {}.", status_label(&from), status_label(to));
    store.add_note(id, note, false);
    if matches!(to, "processing" | "completed") {
        payments::on_paid(store, id);
    }
}

fn record_sales(store: &mut Store, id: u64) {
    let o = store.orders.get_mut(&id).expect("order exists");
    if o.sales_recorded {
        return;
    }
    o.sales_recorded = true;
    let lines: Vec<(u64, i64)> = o.lines.iter().map(|l| (l.product_id, l.quantity)).collect();
    for (product_id, qty) in lines {
        if let Some(p) = store.products.get_mut(&product_id) {
            p.total_sales += qty.max(0) as u64;
        }
    }
}

/// Moves an order to the trash the way `wp_trash_post` does, keeping what untrash needs (the
/// meta keys are recorded; the slug's exact form is [INFERRED]).
pub(crate) fn trash(store: &mut Store, id: u64) {
    let now = store.now();
    let note_ids: Vec<u64> = store.notes.values().filter(|n| n.order_id == id).map(|n| n.id).collect();
    let Some(o) = store.orders.get(&id) else { return };
    let prev = format!("wc-{}", o.status);
    let slug =
        format!("order-{}", o.date_created.with_timezone(&store.offset).format("%b-%d-%Y-%I%M-%P")).to_lowercase();
    let mut meta = o.meta.clone();
    store.upsert_meta(&mut meta, None, "_wp_trash_meta_status", OJson::Str(prev));
    store.upsert_meta(&mut meta, None, "_wp_trash_meta_time", OJson::Str(now.timestamp().to_string()));
    store.upsert_meta(&mut meta, None, "_wp_desired_post_slug", OJson::Str(slug));
    if !note_ids.is_empty() {
        let statuses = OJson::obj(note_ids.iter().map(|n| (n.to_string(), OJson::str("1"))));
        store.upsert_meta(&mut meta, None, "_wp_trash_meta_comments_status", statuses);
    }
    let o = store.orders.get_mut(&id).expect("order exists");
    o.meta = meta;
    o.status = "trash".into();
    o.date_modified = now;
    store.hook("order.deleted", id);
}

/// `wp_untrash_post`. [INFERRED] The order gets its pre-trash status back (WooCommerce filters
/// `wp_untrash_post_status` for orders) and `order.restored` carries the full order.
pub(crate) fn untrash(store: &mut Store, id: u64) -> bool {
    let now = store.now();
    let Some(o) = store.orders.get_mut(&id) else { return false };
    if o.status != "trash" {
        return false;
    }
    let prev = o.meta_str("_wp_trash_meta_status").unwrap_or("wc-pending").trim_start_matches("wc-").to_owned();
    o.meta.retain(|m| !m.key.starts_with("_wp_trash_meta_") && m.key != "_wp_desired_post_slug");
    o.status = prev;
    o.date_modified = now;
    store.hook("order.restored", id);
    true
}

/// Money still refundable on an order.
pub(crate) fn remaining_refundable(store: &Store, id: u64) -> Decimal {
    let o = &store.orders[&id];
    let refunded: Decimal = o.refund_ids.iter().filter_map(|r| store.refunds.get(r)).map(|r| r.amount).sum();
    o.totals.total - refunded
}
