//! Orders, refunds and notes as `wc/v3` renders them, key for key in the recorded order. The
//! quirks are deliberate: `price` is a JSON number, line taxes are unrounded trimmed strings, a
//! simple line's `image.id` is `""` but a variation line's is `0`, refunds in an order are negative.

use serde::Serialize;

use super::http::{Href, Links};
use super::json::OJson;
use super::model::{
    Address, CouponItem, FeeItem, ItemMeta, LineItem, Meta, Note, Order, Refund, ShippingItem, TaxItem, TaxShare,
};
use super::money::{PhpNum, currency_symbol, fmt2, trim};
use super::store::Store;

pub(crate) const WC_VERSION: &str = "7.9.0";

#[derive(Serialize)]
pub(crate) struct MetaJson {
    id: u64,
    key: String,
    value: OJson,
}

pub(crate) fn meta_json(meta: &[Meta]) -> Vec<MetaJson> {
    meta.iter().map(|m| MetaJson { id: m.id, key: m.key.clone(), value: m.value.clone() }).collect()
}

#[derive(Serialize)]
struct ItemMetaJson {
    id: u64,
    key: String,
    value: OJson,
    display_key: String,
    display_value: OJson,
}

fn item_meta(meta: &[ItemMeta]) -> Vec<ItemMetaJson> {
    meta.iter()
        .map(|m| ItemMetaJson {
            id: m.id,
            key: m.key.clone(),
            value: m.value.clone(),
            display_key: m.display_key.clone(),
            display_value: m.value.clone(),
        })
        .collect()
}

#[derive(Serialize)]
struct TaxJson {
    id: u64,
    total: String,
    subtotal: String,
}

fn taxes(t: &[TaxShare]) -> Vec<TaxJson> {
    t.iter()
        .map(|t| TaxJson { id: t.rate_id, total: trim(t.total), subtotal: t.subtotal.map(trim).unwrap_or_default() })
        .collect()
}

#[derive(Serialize)]
struct ShippingAddress<'a> {
    first_name: &'a str,
    last_name: &'a str,
    company: &'a str,
    address_1: &'a str,
    address_2: &'a str,
    city: &'a str,
    state: &'a str,
    postcode: &'a str,
    country: &'a str,
    phone: &'a str,
}

fn shipping_address(a: &Address) -> ShippingAddress<'_> {
    ShippingAddress {
        first_name: &a.first_name,
        last_name: &a.last_name,
        company: &a.company,
        address_1: &a.address_1,
        address_2: &a.address_2,
        city: &a.city,
        state: &a.state,
        postcode: &a.postcode,
        country: &a.country,
        phone: &a.phone,
    }
}

#[derive(Serialize)]
struct Image {
    id: OJson,
    src: &'static str,
}

#[derive(Serialize)]
struct LineJson {
    id: u64,
    name: String,
    product_id: u64,
    variation_id: u64,
    quantity: i64,
    tax_class: &'static str,
    subtotal: String,
    subtotal_tax: String,
    total: String,
    total_tax: String,
    taxes: Vec<TaxJson>,
    meta_data: Vec<ItemMetaJson>,
    sku: String,
    price: PhpNum,
    image: Image,
    parent_name: Option<String>,
}

fn line(l: &LineItem) -> LineJson {
    LineJson {
        id: l.id,
        name: l.name.clone(),
        product_id: l.product_id,
        variation_id: l.variation_id,
        quantity: l.quantity,
        tax_class: "",
        subtotal: fmt2(l.subtotal),
        subtotal_tax: fmt2(l.subtotal_tax),
        total: fmt2(l.total),
        total_tax: fmt2(l.total_tax),
        taxes: taxes(&l.taxes),
        meta_data: item_meta(&l.meta),
        sku: l.sku.clone(),
        price: PhpNum(l.price),
        image: Image { id: if l.variation_id != 0 { OJson::int(0) } else { OJson::str("") }, src: "" },
        parent_name: l.parent_name.clone(),
    }
}

#[derive(Serialize)]
struct TaxLineJson {
    id: u64,
    rate_code: String,
    rate_id: u64,
    label: String,
    compound: bool,
    tax_total: String,
    shipping_tax_total: String,
    rate_percent: PhpNum,
    meta_data: [(); 0],
}

fn tax_line(t: &TaxItem) -> TaxLineJson {
    TaxLineJson {
        id: t.id,
        rate_code: t.rate_code.clone(),
        rate_id: t.rate_id,
        label: t.label.clone(),
        compound: false,
        tax_total: fmt2(t.tax_total),
        shipping_tax_total: fmt2(t.shipping_tax_total),
        rate_percent: PhpNum(t.rate_percent),
        meta_data: [],
    }
}

#[derive(Serialize)]
struct ShippingLineJson {
    id: u64,
    method_title: String,
    method_id: String,
    instance_id: String,
    total: String,
    total_tax: String,
    taxes: Vec<TaxJson>,
    meta_data: Vec<ItemMetaJson>,
}

fn shipping_line(s: &ShippingItem) -> ShippingLineJson {
    ShippingLineJson {
        id: s.id,
        method_title: s.method_title.clone(),
        method_id: s.method_id.clone(),
        instance_id: s.instance_id.clone(),
        total: fmt2(s.total),
        total_tax: fmt2(s.total_tax),
        taxes: taxes(&s.taxes),
        meta_data: item_meta(&s.meta),
    }
}

#[derive(Serialize)]
struct FeeLineJson {
    id: u64,
    name: String,
    tax_class: &'static str,
    tax_status: &'static str,
    amount: &'static str,
    total: String,
    total_tax: String,
    taxes: Vec<TaxJson>,
    meta_data: Vec<ItemMetaJson>,
}

fn fee_line(f: &FeeItem) -> FeeLineJson {
    FeeLineJson {
        id: f.id,
        name: f.name.clone(),
        tax_class: "",
        tax_status: if f.taxable { "taxable" } else { "none" },
        amount: "",
        total: fmt2(f.total),
        total_tax: fmt2(f.total_tax),
        taxes: taxes(&f.taxes),
        meta_data: item_meta(&f.meta),
    }
}

#[derive(Serialize)]
struct CouponLineJson {
    id: u64,
    code: String,
    discount: String,
    discount_tax: String,
    meta_data: Vec<ItemMetaJson>,
}

fn coupon_line(c: &CouponItem) -> CouponLineJson {
    CouponLineJson {
        id: c.id,
        code: c.code.clone(),
        discount: trim(c.discount),
        discount_tax: fmt2(c.discount_tax),
        meta_data: item_meta(&c.meta),
    }
}

#[derive(Serialize)]
struct RefundRef {
    id: u64,
    reason: String,
    total: String,
}

#[derive(Serialize)]
pub(crate) struct OrderJson<'a> {
    id: u64,
    parent_id: u64,
    status: &'a str,
    currency: &'a str,
    version: &'static str,
    prices_include_tax: bool,
    date_created: String,
    date_modified: String,
    discount_total: String,
    discount_tax: String,
    shipping_total: String,
    shipping_tax: String,
    cart_tax: String,
    total: String,
    total_tax: String,
    customer_id: u64,
    order_key: &'a str,
    billing: &'a Address,
    shipping: ShippingAddress<'a>,
    payment_method: &'a str,
    payment_method_title: &'a str,
    transaction_id: &'a str,
    customer_ip_address: &'a str,
    customer_user_agent: &'a str,
    created_via: &'a str,
    customer_note: &'a str,
    date_completed: Option<String>,
    date_paid: Option<String>,
    cart_hash: &'a str,
    number: String,
    meta_data: Vec<MetaJson>,
    line_items: Vec<LineJson>,
    tax_lines: Vec<TaxLineJson>,
    shipping_lines: Vec<ShippingLineJson>,
    fee_lines: Vec<FeeLineJson>,
    coupon_lines: Vec<CouponLineJson>,
    refunds: Vec<RefundRef>,
    payment_url: String,
    is_editable: bool,
    needs_payment: bool,
    needs_processing: bool,
    date_created_gmt: String,
    date_modified_gmt: String,
    date_completed_gmt: Option<String>,
    date_paid_gmt: Option<String>,
    currency_symbol: &'static str,
    _links: Links,
}

fn gmt(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

pub(crate) fn order_json<'a>(store: &Store, o: &'a Order, base: &str) -> OrderJson<'a> {
    let mut links = Links::new(base, "/wc/v3/orders", o.id);
    if o.customer_id != 0 {
        links.customer = Some([Href { href: format!("{base}/wp-json/wc/v3/customers/{}", o.customer_id) }]);
    }
    let refunds = o
        .refund_ids
        .iter()
        .rev()
        .filter_map(|id| store.refunds.get(id))
        .map(|r| RefundRef { id: r.id, reason: r.reason.clone(), total: fmt2(-r.amount) })
        .collect();
    OrderJson {
        id: o.id,
        parent_id: 0,
        status: &o.status,
        currency: &o.currency,
        version: WC_VERSION,
        prices_include_tax: false,
        date_created: store.local(o.date_created),
        date_modified: store.local(o.date_modified),
        discount_total: fmt2(o.totals.discount_total),
        discount_tax: fmt2(o.totals.discount_tax),
        shipping_total: fmt2(o.totals.shipping_total),
        shipping_tax: fmt2(o.totals.shipping_tax),
        cart_tax: fmt2(o.totals.cart_tax),
        total: fmt2(o.totals.total),
        total_tax: fmt2(o.totals.total_tax),
        customer_id: o.customer_id,
        order_key: &o.order_key,
        billing: &o.billing,
        shipping: shipping_address(&o.shipping),
        payment_method: &o.payment_method,
        payment_method_title: &o.payment_method_title,
        transaction_id: &o.transaction_id,
        customer_ip_address: &o.customer_ip_address,
        customer_user_agent: &o.customer_user_agent,
        created_via: &o.created_via,
        customer_note: &o.customer_note,
        date_completed: o.date_completed.map(|t| store.local(t)),
        date_paid: o.date_paid.map(|t| store.local(t)),
        cart_hash: &o.cart_hash,
        number: o.id.to_string(),
        meta_data: meta_json(&o.meta),
        line_items: o.lines.iter().map(line).collect(),
        tax_lines: o.tax_lines.iter().map(tax_line).collect(),
        shipping_lines: o.shipping_lines.iter().map(shipping_line).collect(),
        fee_lines: o.fee_lines.iter().map(fee_line).collect(),
        coupon_lines: o.coupon_lines.iter().map(coupon_line).collect(),
        refunds,
        payment_url: format!("{base}/checkout/order-pay/{}/?pay_for_order=true&key={}", o.id, o.order_key),
        is_editable: matches!(o.status.as_str(), "pending" | "on-hold" | "auto-draft"),
        needs_payment: matches!(o.status.as_str(), "pending" | "failed")
            && o.totals.total > rust_decimal::Decimal::ZERO,
        needs_processing: true,
        date_created_gmt: gmt(o.date_created),
        date_modified_gmt: gmt(o.date_modified),
        date_completed_gmt: o.date_completed.map(gmt),
        date_paid_gmt: o.date_paid.map(gmt),
        currency_symbol: currency_symbol(&o.currency),
        _links: links,
    }
}

#[derive(Serialize)]
pub(crate) struct RefundJson {
    id: u64,
    date_created: String,
    date_created_gmt: String,
    amount: String,
    reason: String,
    refunded_by: u64,
    refunded_payment: bool,
    meta_data: [(); 0],
    line_items: Vec<LineJson>,
    shipping_lines: Vec<ShippingLineJson>,
    tax_lines: Vec<TaxLineJson>,
    fee_lines: Vec<FeeLineJson>,
    _links: Links,
}

pub(crate) fn refund_json(store: &Store, r: &Refund, base: &str) -> RefundJson {
    let collection = format!("/wc/v3/orders/{}/refunds", r.order_id);
    RefundJson {
        id: r.id,
        date_created: store.local(r.date_created),
        date_created_gmt: gmt(r.date_created),
        amount: fmt2(r.amount),
        reason: r.reason.clone(),
        refunded_by: 1,
        refunded_payment: r.refunded_payment,
        meta_data: [],
        line_items: r.lines.iter().map(line).collect(),
        shipping_lines: r.shipping_lines.iter().map(shipping_line).collect(),
        tax_lines: r.tax_lines.iter().map(tax_line).collect(),
        fee_lines: r.fee_lines.iter().map(fee_line).collect(),
        _links: Links::new(base, &collection, r.id).up(base, &format!("/wc/v3/orders/{}", r.order_id)),
    }
}

#[derive(Serialize)]
pub(crate) struct NoteJson {
    id: u64,
    author: &'static str,
    date_created: String,
    date_created_gmt: String,
    note: String,
    customer_note: bool,
    _links: Links,
}

pub(crate) fn note_json(store: &Store, n: &Note, base: &str) -> NoteJson {
    let collection = format!("/wc/v3/orders/{}/notes", n.order_id);
    NoteJson {
        id: n.id,
        author: "WooCommerce",
        date_created: store.local(n.date_created),
        date_created_gmt: gmt(n.date_created),
        note: n.note.clone(),
        customer_note: n.customer_note,
        _links: Links::new(base, &collection, n.id).up(base, &format!("/wc/v3/orders/{}", n.order_id)),
    }
}
