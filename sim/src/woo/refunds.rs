//! Refunds (`wc_create_refund` and `/orders/<id>/refunds`). A refund is its own object with
//! negative lines pointing back at the order's items (`_refunded_item_id`); the order's total never
//! changes, a refund of everything that is left moves the order to `refunded`, and `api_restock`
//! puts stock back line by line. Some failures answer HTTP 500 with a bare number as `data`,
//! exactly as WooCommerce 7.9 does.

use rust_decimal::Decimal;

use super::WooSim;
use super::error::WooError;
use super::http::{Reply, Req, bool_param, paging};
use super::json::OJson;
use super::lifecycle;
use super::model::{FeeItem, LineItem, Refund, ShippingItem, TaxItem, TaxShare};
use super::money::round2;
use super::payments;
use super::pricing;
use super::stock_levels;
use super::store::Store;
use super::view_order::refund_json;

/// One order item to refund: quantity, money without tax, and tax per rate id.
#[derive(Debug, Clone, Default)]
pub(crate) struct ItemRefund {
    pub item_id: u64,
    pub qty: i64,
    pub total: Decimal,
    pub tax: Vec<(u64, Decimal)>,
}

#[derive(Debug, Clone)]
pub(crate) struct RefundRequest {
    /// `None`: the sum of the lines' totals and taxes.
    pub amount: Option<Decimal>,
    pub reason: String,
    pub items: Vec<ItemRefund>,
    pub api_refund: bool,
    pub api_restock: bool,
}

/// A 500 whose `data` is a bare number, as these refund errors are raised in WooCommerce.
fn bare(code: &str, message: &str, data: i64) -> WooError {
    WooError::with_data(500, code, message, OJson::int(data))
}

fn taxes_of(r: &ItemRefund, with_subtotal: bool) -> Vec<TaxShare> {
    r.tax
        .iter()
        .filter(|(_, t)| !t.is_zero())
        .map(|(id, t)| TaxShare { rate_id: *id, total: -*t, subtotal: with_subtotal.then_some(-*t) })
        .collect()
}

fn refunded_meta(store: &mut Store, item_id: u64) -> Vec<super::model::ItemMeta> {
    vec![store.item_meta("_refunded_item_id", OJson::Str(item_id.to_string()), "_refunded_item_id")]
}

/// `wc_create_refund`: validates, builds the refund, refunds the payment, restocks, and moves
/// the order to `refunded` when nothing is left to refund.
pub(crate) fn create_refund(store: &mut Store, order_id: u64, req: RefundRequest) -> Result<u64, WooError> {
    // [INFERRED] These three errors are raised with a bare-number `data` like the recorded
    // `"amount": null` one, so they answer 500 too.
    if !store.orders.contains_key(&order_id) {
        return Err(bare("woocommerce_rest_invalid_order_id", "Invalid order ID.", 404));
    }
    let amount = req
        .amount
        .unwrap_or_else(|| req.items.iter().map(|i| i.total + i.tax.iter().map(|t| t.1).sum::<Decimal>()).sum());
    let remaining = lifecycle::remaining_refundable(store, order_id);
    if amount <= Decimal::ZERO {
        return Err(bare("woocommerce_rest_invalid_order_refund", "Refund amount must be greater than zero.", 400));
    }
    if amount > remaining {
        return Err(bare("woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.", 500));
    }
    // [INFERRED] `wc_refund_payment`'s messages; offline gateways (BACS, cheque, COD) cannot refund.
    if req.api_refund {
        payments::check_gateway_refund(store, order_id)
            .map_err(|m| bare("woocommerce_rest_cannot_create_order_refund", m, 500))?;
    }
    let order = store.orders[&order_id].clone();
    let (mut lines, mut shipping, mut fees, mut restock) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for r in req.items.iter().filter(|r| r.qty != 0 || !r.total.is_zero() || !r.tax.is_empty()) {
        if let Some((index, l)) = order.lines.iter().enumerate().find(|(_, l)| l.id == r.item_id) {
            let taxes = taxes_of(r, true);
            let tax_sum: Decimal = taxes.iter().map(|t| round2(t.total)).sum();
            let id = store.item_id();
            lines.push(LineItem {
                id,
                quantity: -r.qty,
                subtotal: -r.total,
                subtotal_tax: tax_sum,
                total: -r.total,
                total_tax: tax_sum,
                taxes,
                meta: refunded_meta(store, l.id),
                price: if r.qty == 0 { r.total } else { r.total / Decimal::from(r.qty) },
                ..l.clone()
            });
            restock.push((index, r.qty));
        } else if let Some(s) = order.shipping_lines.iter().find(|s| s.id == r.item_id) {
            let taxes = taxes_of(r, false);
            let total_tax = taxes.iter().map(|t| round2(t.total)).sum();
            let id = store.item_id();
            shipping.push(ShippingItem {
                id,
                total: -r.total,
                total_tax,
                taxes,
                meta: refunded_meta(store, s.id),
                ..s.clone()
            });
        } else if let Some(f) = order.fee_lines.iter().find(|f| f.id == r.item_id) {
            let taxes = taxes_of(r, false);
            let total_tax = taxes.iter().map(|t| round2(t.total)).sum();
            let id = store.item_id();
            fees.push(FeeItem { id, total: -r.total, total_tax, taxes, meta: refunded_meta(store, f.id), ..f.clone() });
        }
    }
    let tax_lines = refund_tax_lines(store, &order.tax_lines, &lines, &shipping, &fees);
    let id = store.post_id();
    let date_created = store.now();
    let refund = Refund {
        id,
        order_id,
        date_created,
        amount: round2(amount),
        reason: req.reason,
        refunded_payment: req.api_refund,
        lines,
        shipping_lines: shipping,
        fee_lines: fees,
        tax_lines,
    };
    store.refunds.insert(id, refund);
    if req.api_refund {
        payments::on_refund(store, order_id, amount);
    }
    if req.api_restock {
        for (index, qty) in restock {
            stock_levels::restock_refunded(store, order_id, index, qty);
        }
    }
    let o = store.orders.get_mut(&order_id).expect("order exists");
    o.refund_ids.push(id);
    o.date_modified = date_created;
    if remaining - amount > Decimal::ZERO {
        store.hook("order.updated", order_id);
    } else {
        lifecycle::set_status(store, order_id, "refunded");
    }
    Ok(id)
}

fn refund_tax_lines(
    store: &mut Store,
    order_taxes: &[TaxItem],
    lines: &[LineItem],
    shipping: &[ShippingItem],
    fees: &[FeeItem],
) -> Vec<TaxItem> {
    let rates: Vec<_> =
        order_taxes.iter().filter_map(|t| store.tax_rates.iter().find(|r| r.id == t.rate_id).cloned()).collect();
    pricing::tax_items(store, &rates, lines, shipping, fees)
}

fn parse_items(body: &OJson) -> Vec<ItemRefund> {
    let Some(items) = body.get("line_items").and_then(OJson::as_array) else { return Vec::new() };
    items
        .iter()
        .filter_map(|l| {
            Some(ItemRefund {
                item_id: l.get("id")?.as_u64()?,
                qty: l.get("quantity").and_then(OJson::as_i64).unwrap_or(0),
                total: l.get("refund_total").and_then(OJson::as_decimal).unwrap_or_default(),
                tax: l
                    .get("refund_tax")
                    .and_then(OJson::as_array)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|t| Some((t.get("id")?.as_u64()?, t.get("refund_total")?.as_decimal()?)))
                    .collect(),
            })
        })
        .collect()
}

pub(crate) fn create(sim: &WooSim, req: &Req, order_id: u64) -> Result<Reply, WooError> {
    let api_refund = bool_param(req, "api_refund")?.unwrap_or(true);
    let api_restock = bool_param(req, "api_restock")?.unwrap_or(true);
    req.can_create()?;
    let body = req.body();
    let amount = match body.get("amount") {
        None => None,
        Some(v) => match v.as_decimal() {
            Some(d) => Some(d),
            None => {
                return Err(bare(
                    "woocommerce_rest_invalid_order_refund",
                    "Refund amount must be greater than zero.",
                    400,
                ));
            }
        },
    };
    let request = RefundRequest {
        amount,
        reason: body.get("reason").and_then(OJson::to_php_string).unwrap_or_default(),
        items: parse_items(&body),
        api_refund,
        api_restock,
    };
    let id = sim.with_store(|store| create_refund(store, order_id, request))?;
    let store = sim.store();
    let json = refund_json(&store, &store.refunds[&id], &req.base);
    // WooCommerce 7.9 puts the route pattern, not the order id, in this header.
    Ok(Reply::created(&json, req.url(&format!("/wc/v3/orders/(?P<order_id>[\\d]+)/refunds/{id}"))))
}

fn order_missing() -> WooError {
    WooError::new(404, "woocommerce_rest_invalid_order_id", "Invalid order ID.")
}

pub(crate) fn list(sim: &WooSim, req: &Req, order_id: u64) -> Result<Reply, WooError> {
    let p = paging(req, 10)?;
    req.can_list()?;
    let store = sim.store();
    if !store.orders.contains_key(&order_id) {
        return Err(order_missing());
    }
    let mut refunds: Vec<&Refund> = store.refunds.values().filter(|r| r.order_id == order_id).collect();
    refunds.sort_by(|a, b| b.date_created.cmp(&a.date_created).then(b.id.cmp(&a.id)));
    let total = refunds.len();
    let page: Vec<_> = p.window(refunds).into_iter().map(|r| refund_json(&store, r, &req.base)).collect();
    Ok(Reply::ok(&page).paged(req, &format!("/wc/v3/orders/{order_id}/refunds"), total, &p, false))
}

pub(crate) fn get(sim: &WooSim, req: &Req, order_id: u64, refund_id: u64) -> Result<Reply, WooError> {
    req.can_view()?;
    let store = sim.store();
    let r = store
        .refunds
        .get(&refund_id)
        .filter(|r| r.order_id == order_id)
        .ok_or_else(|| WooError::new(404, "woocommerce_rest_shop_order_refund_invalid_id", "Invalid ID."))?;
    Ok(Reply::ok(&refund_json(&store, r, &req.base)))
}
