//! A WooCommerce order as a NetSuite sales order whose total equals WooCommerce's to the cent.
//!
//! With WooCommerce's tax posted (the default), every amount NetSuite adds up is WooCommerce's
//! own: product lines at their total after coupons with their line tax, shipping and fees as
//! lines of configured items with their tax, so Σ amount + Σ tax is WooCommerce's `total`. When
//! coupons go on a discount item instead, product lines carry their subtotal and subtotal tax, and
//! the discount line carries the difference of both — computed from the lines, not from
//! WooCommerce's rounded `discount_tax`, which can be a cent off (the recorded order 23: 0.50 vs
//! the lines' 0.49).
//!
//! SKUs resolve through `sku_map`, filled from NetSuite's items by `itemid` when they match; a SKU
//! nobody mapped blocks the order on `sku:<SKU>` (owner: ecommerce) until a mapping is saved. Its
//! `unmapped_sku` exception closes (`sku_mapped`) when the mapping is saved or NetSuite's item is
//! found, and at the latest (`order_posted`) when an order with the SKU is posted.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::Row;

use super::routing::Route;
use crate::{
    monitor::exceptions::{self, ExceptionKind},
    netsuite::{
        Lane, NetSuiteClient, NsError,
        suiteql::{WindowedQuery, in_list},
    },
    store::Store,
    woo::model::Order,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponMode {
    /// Line amounts after coupons (WooCommerce's own split of the discount).
    LineRates,
    /// Lines at full price and one line of the discount item.
    DiscountItem,
}

/// Whose tax NetSuite's sales order carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxMode {
    /// WooCommerce's tax per line is posted as the line's tax amount (the default): NetSuite's
    /// total is WooCommerce's to the cent by construction.
    Woocommerce,
    /// NetSuite's tax engine calculates; the order is posted Pending Approval, its total compared
    /// with WooCommerce's, and approved only within `tax_tolerance`.
    Netsuite,
}

/// The NetSuite side of the mapping: `[sync.orders]` in the configuration.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrderMapping {
    /// Filled from the top-level `site`; part of every external id.
    #[serde(default, skip_serializing)]
    pub site: String,
    pub subsidiary: String,
    /// Item posting shipping charges (an Other Charge item).
    pub shipping_item: String,
    /// Item posting WooCommerce fees.
    pub fee_item: String,
    #[serde(default = "line_rates")]
    pub coupon_mode: CouponMode,
    /// Needed with `coupon_mode = "discount_item"`.
    #[serde(default)]
    pub discount_item: Option<String>,
    /// WooCommerce shipping method id (`flat_rate`, `free_shipping`) → NetSuite ship method id.
    #[serde(default)]
    pub ship_methods: BTreeMap<String, String>,
    /// Custom body fields receiving the WooCommerce order id and number.
    #[serde(default = "order_id_field")]
    pub order_id_field: String,
    #[serde(default = "order_number_field")]
    pub order_number_field: String,
    #[serde(default = "woocommerce_tax")]
    pub tax_mode: TaxMode,
    /// With `tax_mode = "netsuite"`: the largest difference between NetSuite's total and
    /// WooCommerce's that is accepted (default one cent).
    #[serde(default = "cent")]
    pub tax_tolerance: Decimal,
    /// WooCommerce payment gateway id (`woocommerce_payments`, `bacs`) → NetSuite payment method id.
    #[serde(default)]
    pub payment_methods: BTreeMap<String, String>,
    /// Custom body field receiving the gateway's transaction id (the charge id for WooPayments).
    #[serde(default = "transaction_id_field")]
    pub transaction_id_field: String,
}

fn line_rates() -> CouponMode {
    CouponMode::LineRates
}
fn order_id_field() -> String {
    "custbody_wc_order_id".into()
}
fn order_number_field() -> String {
    "custbody_wc_order_number".into()
}
fn transaction_id_field() -> String {
    "custbody_wc_transaction_id".into()
}
fn woocommerce_tax() -> TaxMode {
    TaxMode::Woocommerce
}
fn cent() -> Decimal {
    Decimal::new(1, 2)
}

impl OrderMapping {
    /// The defaults for everything but the NetSuite records every shop must name.
    pub fn new(site: &str, subsidiary: &str, shipping_item: &str, fee_item: &str) -> OrderMapping {
        OrderMapping {
            site: site.into(),
            subsidiary: subsidiary.into(),
            shipping_item: shipping_item.into(),
            fee_item: fee_item.into(),
            coupon_mode: line_rates(),
            discount_item: None,
            ship_methods: BTreeMap::new(),
            order_id_field: order_id_field(),
            order_number_field: order_number_field(),
            tax_mode: woocommerce_tax(),
            tax_tolerance: cent(),
            payment_methods: BTreeMap::new(),
            transaction_id_field: transaction_id_field(),
        }
    }

    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        for (key, v) in [
            ("sync.orders.subsidiary", &self.subsidiary),
            ("sync.orders.shipping_item", &self.shipping_item),
            ("sync.orders.fee_item", &self.fee_item),
        ] {
            if v.trim().is_empty() {
                return Err((key, "must be a NetSuite internal id".into()));
            }
        }
        if self.coupon_mode == CouponMode::DiscountItem && self.discount_item.is_none() {
            return Err((
                "sync.orders.discount_item",
                "coupon_mode = \"discount_item\" needs the NetSuite Discount item's internal id".into(),
            ));
        }
        if self.tax_tolerance < Decimal::ZERO {
            return Err(("sync.orders.tax_tolerance", "must not be negative".into()));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("SKU {0} has no NetSuite item; map it in the SKU mapping screen (the order continues by itself)")]
    Unmapped(String),
    #[error("line {line} ({name}) has no SKU; give the product a SKU in WooCommerce")]
    NoSku { line: u64, name: String },
    #[error("coupon_mode is discount_item but no discount_item is configured")]
    NoDiscountItem,
    #[error(transparent)]
    NetSuite(#[from] NsError),
    #[error(transparent)]
    Store(#[from] sqlx::Error),
}

/// NetSuite item ids for `skus`: from `sku_map`, else from NetSuite's items whose `itemid` is the
/// SKU (remembered in `sku_map`). The first SKU found in neither is the error.
pub async fn resolve_skus(
    ns: &NetSuiteClient,
    store: &Store,
    skus: &[&str],
    now: i64,
) -> Result<BTreeMap<String, String>, MappingError> {
    let mut found = BTreeMap::new();
    if !skus.is_empty() {
        let params: Vec<String> = (1..=skus.len()).map(|i| format!("${i}")).collect();
        let sql = format!("select sku, netsuite_item_id from sku_map where sku in ({})", params.join(", "));
        let mut q = sqlx::query(&sql);
        for sku in skus {
            q = q.bind(*sku);
        }
        for r in q.fetch_all(store.pool()).await? {
            found.insert(r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?);
        }
    }
    let missing: Vec<&str> = skus.iter().copied().filter(|s| !found.contains_key(*s)).collect();
    if !missing.is_empty() {
        let q = WindowedQuery::new("SELECT id, itemid FROM item", "id")
            .and(format!("itemid IN {}", in_list(missing.iter().copied())))
            .and("isinactive = 'F'");
        let mut remembered = Vec::new();
        for row in ns.suiteql_all(Lane::Orders, &q).await? {
            let (Some(id), Some(itemid)) = (row.get("id"), row.get("itemid")) else { continue };
            sqlx::query(
                "insert into sku_map (sku, netsuite_item_id, source, updated_at) values ($1, $2, 'netsuite', $3) \
                 on conflict (sku) do nothing",
            )
            .bind(itemid)
            .bind(id)
            .bind(now)
            .execute(store.pool())
            .await?;
            found.insert(itemid.to_string(), id.to_string());
            remembered.push(format!("sku:{itemid}"));
        }
        // An item created in NetSuite under the SKU maps it as a saved mapping would.
        let keys: Vec<&str> = remembered.iter().map(String::as_str).collect();
        exceptions::resolve_any(store, &[ExceptionKind::UnmappedSku], &keys, exceptions::Resolution::SkuMapped, now)
            .await?;
    }
    match skus.iter().find(|s| !found.contains_key(**s)) {
        Some(sku) => Err(MappingError::Unmapped(sku.to_string())),
        None => Ok(found),
    }
}

/// A person maps `sku` to a NetSuite item (the SKU-mapping screen): the mapping is saved and every
/// order blocked on `sku:<SKU>` is requeued in the same transaction, so the fix needs no second
/// step. Returns how many orders were requeued.
pub async fn save_mapping(
    queue: &crate::queue::Queue,
    sku: &str,
    netsuite_item_id: &str,
    by: &str,
) -> Result<u64, sqlx::Error> {
    let mut tx = queue.store().pool().begin().await?;
    sqlx::query(
        "insert into sku_map (sku, netsuite_item_id, source, updated_at) values ($1, $2, $3, $4) \
         on conflict (sku) do update set netsuite_item_id = excluded.netsuite_item_id, source = excluded.source, \
         updated_at = excluded.updated_at",
    )
    .bind(sku)
    .bind(netsuite_item_id)
    .bind(by)
    .bind(queue.now())
    .execute(&mut *tx)
    .await?;
    let requeued = queue.requeue_cause_in(&mut tx, &format!("sku:{sku}")).await?;
    tx.commit().await?;
    queue.wake_all_if(requeued);
    exceptions::resolve(
        queue.store(),
        ExceptionKind::UnmappedSku,
        &format!("sku:{sku}"),
        exceptions::Resolution::SkuMapped,
        queue.now(),
    )
    .await?;
    Ok(requeued)
}

/// The sales order body (without `externalId`: the upsert URL carries it). Product lines come
/// first, in WooCommerce's order, so line `n` of the body is line item `n` of the order.
pub fn sales_order(
    order: &Order,
    customer: &str,
    items: &BTreeMap<String, String>,
    m: &OrderMapping,
    route: &Route,
) -> Result<Value, MappingError> {
    let tax = |t: Decimal| (m.tax_mode == TaxMode::Woocommerce).then_some(t);
    let mut lines = Vec::new();
    let mut discount = Decimal::ZERO;
    let mut discount_tax = Decimal::ZERO;
    for (n, li) in order.line_items.iter().enumerate() {
        if li.sku.is_empty() {
            return Err(MappingError::NoSku { line: li.id, name: li.name.clone() });
        }
        let item = items.get(&li.sku).ok_or_else(|| MappingError::Unmapped(li.sku.clone()))?;
        let (amount, line_tax) = match m.coupon_mode {
            CouponMode::LineRates => (li.total, li.total_tax),
            CouponMode::DiscountItem => {
                discount += li.subtotal - li.total;
                discount_tax += li.subtotal_tax - li.total_tax;
                (li.subtotal, li.subtotal_tax)
            }
        };
        let mut l = line(item, li.quantity, amount, tax(line_tax), &li.name);
        if let Some(loc) = route.location_of_line(n) {
            l["location"] = json!({ "id": loc });
        }
        lines.push(l);
    }
    if m.coupon_mode == CouponMode::DiscountItem && !discount.is_zero() {
        let item = m.discount_item.as_deref().ok_or(MappingError::NoDiscountItem)?;
        let codes: Vec<&str> = order.coupon_lines.iter().map(|c| c.code.as_str()).collect();
        lines.push(line(item, 1, -discount, tax(-discount_tax), &format!("Coupons: {}", codes.join(", "))));
    }
    for s in &order.shipping_lines {
        lines.push(line(&m.shipping_item, 1, s.total, tax(s.total_tax), &s.method_title));
    }
    for f in &order.fee_lines {
        lines.push(line(&m.fee_item, 1, f.total, tax(f.total_tax), &f.name));
    }
    let mut body = json!({
        "entity": { "id": customer },
        "subsidiary": { "id": m.subsidiary },
        "otherRefNum": order.number,
        "memo": format!("WooCommerce order #{} ({})", order.number, m.site),
        "item": { "items": lines },
    });
    body[m.order_id_field.as_str()] = json!(order.id.to_string());
    body[m.order_number_field.as_str()] = json!(order.number);
    if let Some(date) = order.date_created_gmt.as_deref().and_then(|d| d.get(..10)) {
        body["tranDate"] = json!(date);
    }
    if let Some(ship) = order.shipping_lines.first().and_then(|s| m.ship_methods.get(&s.method_id)) {
        body["shipMethod"] = json!({ "id": ship });
    }
    if let Some(loc) = route.order_location() {
        body["location"] = json!({ "id": loc });
    }
    if let Some(pm) = m.payment_methods.get(&order.payment_method) {
        body["paymentMethod"] = json!({ "id": pm });
    }
    if !order.transaction_id.is_empty() {
        body[m.transaction_id_field.as_str()] = json!(order.transaction_id);
    }
    if m.tax_mode == TaxMode::Netsuite {
        // Held until NetSuite's total is compared with WooCommerce's (see `order_flow`).
        body["orderStatus"] = json!({ "id": "A" });
    }
    Ok(body)
}

fn line(item: &str, quantity: i64, amount: Decimal, tax: Option<Decimal>, description: &str) -> Value {
    let rate = if quantity != 0 { (amount / Decimal::from(quantity)).round_dp(4) } else { amount };
    let mut l = json!({
        "item": { "id": item },
        "quantity": quantity,
        "rate": number(rate),
        "amount": number(amount),
        "description": description,
    });
    if let Some(t) = tax {
        l["taxAmount"] = number(t);
    }
    l
}

/// A JSON number whose text is exactly the decimal's (serde_json's `arbitrary_precision` keeps
/// the text; no f64 on the way), so `22.49` goes out as `22.49` and `0.1 + 0.2` as `0.3`.
pub fn number(d: Decimal) -> Value {
    let text = d.normalize().to_string();
    Value::Number(text.parse().expect("a decimal's text (digits, one point, a sign) is a JSON number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_reach_the_json_body_with_their_exact_text() {
        for text in ["22.49", "0.3", "-0.01", "100"] {
            let d: Decimal = text.parse().unwrap();
            assert_eq!(serde_json::to_string(&number(d)).unwrap(), text);
        }
        // 18 significant digits: through an f64 this would print 1234567890123456.8.
        let d: Decimal = "1234567890123456.78".parse().unwrap();
        assert_eq!(json!({ "amount": number(d) }).to_string(), r#"{"amount":1234567890123456.78}"#);
        let sum = Decimal::new(1, 1) + Decimal::new(2, 1);
        assert_eq!(number(sum).to_string(), "0.3");
    }
}
