//! The store's records, kept the way WooCommerce keeps them (amounts already rounded where
//! WooCommerce rounds them, unrounded line taxes, names with HTML entities), so rendering is a
//! plain projection and every route shows the same numbers.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::json::OJson;

/// A billing or shipping address. Blank fields are `""`, as WooCommerce returns them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Address {
    pub first_name: String,
    pub last_name: String,
    pub company: String,
    pub address_1: String,
    pub address_2: String,
    pub city: String,
    pub state: String,
    pub postcode: String,
    pub country: String,
    pub email: String,
    pub phone: String,
}

impl Address {
    /// The guest of the recorded fixtures: Los Angeles, taxed at California's 7.25 %.
    pub fn us_ca() -> Address {
        Address {
            first_name: "Sam".into(),
            last_name: "Guest".into(),
            address_1: "500 Main St".into(),
            city: "Los Angeles".into(),
            state: "CA".into(),
            postcode: "90012".into(),
            country: "US".into(),
            email: "sam.guest@example.org".into(),
            phone: "555-0199".into(),
            ..Address::default()
        }
    }

    /// A London address, taxed at the UK's 20 % VAT.
    pub fn gb() -> Address {
        Address {
            first_name: "Olivia".into(),
            last_name: "Brown".into(),
            address_1: "10 Downing Ln".into(),
            city: "London".into(),
            postcode: "SW1A 2AA".into(),
            country: "GB".into(),
            email: "olivia@example.co.uk".into(),
            ..Address::default()
        }
    }
}

/// Post meta (`meta_data` of orders and products).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Meta {
    pub id: u64,
    pub key: String,
    pub value: OJson,
}

/// Order item meta; its `display_value` is the value itself.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ItemMeta {
    pub id: u64,
    pub key: String,
    pub value: OJson,
    pub display_key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Simple,
    Variable,
    Variation,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Attribute {
    pub name: String,
    pub options: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Product {
    pub id: u64,
    pub kind: Kind,
    pub parent_id: u64,
    /// As stored: a bare `&` became `&amp;`.
    pub name: String,
    pub slug: String,
    pub sku: String,
    pub status: String,
    pub regular_price: Option<Decimal>,
    pub sale_price: Option<Decimal>,
    pub manage_stock: bool,
    pub stock_quantity: Option<i64>,
    /// `no`, `notify` or `yes`.
    pub backorders: String,
    pub stock_status: String,
    pub total_sales: u64,
    pub description: String,
    pub meta: Vec<Meta>,
    pub date_created: DateTime<Utc>,
    pub date_modified: DateTime<Utc>,
    /// Variable parents: the attributes their variations vary on.
    pub attributes: Vec<Attribute>,
    /// Variations: `(attribute name, option)`.
    pub variation_attrs: Vec<(String, String)>,
    pub children: Vec<u64>,
}

impl Product {
    pub fn on_sale(&self) -> bool {
        matches!((self.sale_price, self.regular_price), (Some(s), Some(r)) if s < r)
    }

    /// The active price of a simple product or variation.
    pub fn price(&self) -> Option<Decimal> {
        if self.on_sale() { self.sale_price } else { self.regular_price }
    }

    pub fn backorders_allowed(&self) -> bool {
        self.backorders != "no"
    }

    pub fn has_enough_stock(&self, qty: i64) -> bool {
        !self.manage_stock || self.backorders_allowed() || self.stock_quantity.unwrap_or(0) >= qty
    }

    /// `WC_Product_Data_Store_CPT::update_stock_status` after a quantity change.
    pub fn sync_stock_status(&mut self) {
        if !self.manage_stock {
            return;
        }
        let qty = self.stock_quantity.unwrap_or(0);
        self.stock_status = if qty > 0 {
            "instock"
        } else if self.backorders_allowed() {
            "onbackorder"
        } else {
            "outofstock"
        }
        .to_owned();
    }
}

/// One tax rate's share of an item; `subtotal` is `None` for shipping and fees (rendered `""`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TaxShare {
    pub rate_id: u64,
    pub total: Decimal,
    pub subtotal: Option<Decimal>,
}

#[derive(Debug, Clone)]
pub(crate) struct LineItem {
    pub id: u64,
    pub name: String,
    pub product_id: u64,
    pub variation_id: u64,
    pub quantity: i64,
    pub subtotal: Decimal,
    pub subtotal_tax: Decimal,
    pub total: Decimal,
    pub total_tax: Decimal,
    pub taxes: Vec<TaxShare>,
    pub meta: Vec<ItemMeta>,
    pub sku: String,
    pub price: Decimal,
    pub parent_name: Option<String>,
}

impl LineItem {
    pub fn meta_value(&self, key: &str) -> Option<&OJson> {
        self.meta.iter().find(|m| m.key == key).map(|m| &m.value)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ShippingItem {
    pub id: u64,
    pub method_title: String,
    pub method_id: String,
    pub instance_id: String,
    pub total: Decimal,
    pub total_tax: Decimal,
    pub taxes: Vec<TaxShare>,
    pub meta: Vec<ItemMeta>,
}

#[derive(Debug, Clone)]
pub(crate) struct FeeItem {
    pub id: u64,
    pub name: String,
    pub taxable: bool,
    pub total: Decimal,
    pub total_tax: Decimal,
    pub taxes: Vec<TaxShare>,
    pub meta: Vec<ItemMeta>,
}

#[derive(Debug, Clone)]
pub(crate) struct TaxItem {
    pub id: u64,
    pub rate_code: String,
    pub rate_id: u64,
    pub label: String,
    pub tax_total: Decimal,
    pub shipping_tax_total: Decimal,
    pub rate_percent: Decimal,
}

#[derive(Debug, Clone)]
pub(crate) struct CouponItem {
    pub id: u64,
    pub code: String,
    pub discount: Decimal,
    pub discount_tax: Decimal,
    pub meta: Vec<ItemMeta>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Totals {
    pub discount_total: Decimal,
    pub discount_tax: Decimal,
    pub shipping_total: Decimal,
    pub shipping_tax: Decimal,
    pub cart_tax: Decimal,
    pub total: Decimal,
    pub total_tax: Decimal,
}

#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub id: u64,
    pub status: String,
    pub currency: String,
    pub date_created: DateTime<Utc>,
    pub date_modified: DateTime<Utc>,
    pub date_paid: Option<DateTime<Utc>>,
    pub date_completed: Option<DateTime<Utc>>,
    pub customer_id: u64,
    pub order_key: String,
    pub billing: Address,
    pub shipping: Address,
    pub payment_method: String,
    pub payment_method_title: String,
    pub transaction_id: String,
    pub customer_ip_address: String,
    pub customer_user_agent: String,
    pub created_via: String,
    pub customer_note: String,
    pub cart_hash: String,
    pub meta: Vec<Meta>,
    pub lines: Vec<LineItem>,
    pub shipping_lines: Vec<ShippingItem>,
    pub fee_lines: Vec<FeeItem>,
    pub tax_lines: Vec<TaxItem>,
    pub coupon_lines: Vec<CouponItem>,
    pub totals: Totals,
    pub refund_ids: Vec<u64>,
    /// `_order_stock_reduced`: internal, never in `meta_data`.
    pub stock_reduced: bool,
    /// `_recorded_sales`: `total_sales` is counted once per order.
    pub sales_recorded: bool,
}

impl Order {
    pub fn meta_str(&self, key: &str) -> Option<&str> {
        self.meta.iter().find(|m| m.key == key).and_then(|m| m.value.as_str())
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Refund {
    pub id: u64,
    pub order_id: u64,
    pub date_created: DateTime<Utc>,
    pub amount: Decimal,
    pub reason: String,
    pub refunded_payment: bool,
    pub lines: Vec<LineItem>,
    pub shipping_lines: Vec<ShippingItem>,
    pub fee_lines: Vec<FeeItem>,
    pub tax_lines: Vec<TaxItem>,
}

#[derive(Debug, Clone)]
pub(crate) struct Note {
    pub id: u64,
    pub order_id: u64,
    pub date_created: DateTime<Utc>,
    pub note: String,
    pub customer_note: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Coupon {
    pub id: u64,
    pub code: String,
    /// `percent` or `fixed_cart`.
    pub discount_type: String,
    /// As entered (`"10"`), which is how `coupon_data` shows it.
    pub amount: String,
    pub date_created: DateTime<Utc>,
    pub usage_count: u64,
}

/// A standard-class tax rate. Matching is by country and (when set) state of the shipping address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaxRate {
    pub id: u64,
    pub country: String,
    pub state: String,
    /// Percent, e.g. `7.25`.
    pub rate: Decimal,
    pub name: String,
    pub priority: u32,
    /// Also charged on shipping.
    pub shipping: bool,
}

impl TaxRate {
    /// `WC_Tax::get_rate_code`: `US-CA-CA STATE TAX-1`, `GB-VAT-1`.
    pub fn code(&self) -> String {
        let name = if self.name.is_empty() { "TAX".to_owned() } else { self.name.clone() };
        [self.country.clone(), self.state.clone(), name, self.priority.to_string()]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join("-")
            .to_uppercase()
    }

    pub fn applies_to(&self, country: &str, state: &str) -> bool {
        self.country.eq_ignore_ascii_case(country) && (self.state.is_empty() || self.state.eq_ignore_ascii_case(state))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Webhook {
    pub id: u64,
    pub name: String,
    pub status: String,
    pub topic: String,
    pub delivery_url: String,
    pub secret: String,
    pub date_created: DateTime<Utc>,
    pub date_modified: Option<DateTime<Utc>>,
    pub failure_count: u32,
    /// Set at creation; cleared by the first ping answered with exactly 200.
    pub pending_delivery: bool,
}

impl Webhook {
    pub fn resource(&self) -> &str {
        self.topic.split('.').next().unwrap_or("")
    }

    pub fn event(&self) -> &str {
        self.topic.split_once('.').map(|(_, e)| e).unwrap_or("")
    }
}
