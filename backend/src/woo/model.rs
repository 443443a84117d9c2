//! WooCommerce wire types: only the fields wns reads, parsed at the edge. Times: WooCommerce
//! writes `YYYY-MM-DDTHH:MM:SS` without a zone; the `_gmt` fields are UTC.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct OrderSummary {
    pub id: u64,
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub status: String,
    pub date_modified_gmt: Option<String>,
    /// SKU and quantity only: what the order-units ledger needs.
    #[serde(default)]
    pub line_items: Vec<UnitLine>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UnitLine {
    #[serde(default)]
    pub sku: String,
    #[serde(default)]
    pub quantity: i64,
}

/// The statuses in which a WooCommerce order holds stock (WooCommerce reduced it at checkout).
pub fn holds_stock(status: &str) -> bool {
    matches!(status, "processing" | "on-hold" | "completed")
}

impl OrderSummary {
    pub fn modified(&self) -> Option<DateTime<Utc>> {
        self.date_modified_gmt.as_deref().and_then(parse_gmt)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Webhook {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    pub status: String,
    pub topic: String,
    #[serde(default)]
    pub delivery_url: String,
}

/// A WooCommerce order as the sales order flow reads it. Amounts are exact decimals; names are
/// decoded.
#[derive(Debug, Clone, Deserialize)]
pub struct Order {
    pub id: u64,
    #[serde(default)]
    pub number: String,
    pub status: String,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub customer_id: u64,
    pub billing: Party,
    pub shipping: Party,
    #[serde(default)]
    pub payment_method: String,
    #[serde(default)]
    pub transaction_id: String,
    pub date_created_gmt: Option<String>,
    #[serde(deserialize_with = "amount")]
    pub total: rust_decimal::Decimal,
    #[serde(deserialize_with = "amount")]
    pub total_tax: rust_decimal::Decimal,
    #[serde(deserialize_with = "amount")]
    pub discount_total: rust_decimal::Decimal,
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    #[serde(default)]
    pub shipping_lines: Vec<ShippingLine>,
    #[serde(default)]
    pub fee_lines: Vec<FeeLine>,
    #[serde(default)]
    pub coupon_lines: Vec<CouponLine>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Party {
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub address_1: String,
    #[serde(default)]
    pub address_2: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub postcode: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LineItem {
    pub id: u64,
    #[serde(default, deserialize_with = "decoded")]
    pub name: String,
    #[serde(default)]
    pub product_id: u64,
    #[serde(default)]
    pub variation_id: u64,
    pub quantity: i64,
    #[serde(default)]
    pub sku: String,
    /// Before coupons.
    #[serde(deserialize_with = "amount")]
    pub subtotal: rust_decimal::Decimal,
    #[serde(deserialize_with = "amount")]
    pub subtotal_tax: rust_decimal::Decimal,
    /// After coupons.
    #[serde(deserialize_with = "amount")]
    pub total: rust_decimal::Decimal,
    #[serde(deserialize_with = "amount")]
    pub total_tax: rust_decimal::Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ShippingLine {
    #[serde(default)]
    pub method_id: String,
    #[serde(default, deserialize_with = "decoded")]
    pub method_title: String,
    #[serde(deserialize_with = "amount")]
    pub total: rust_decimal::Decimal,
    #[serde(deserialize_with = "amount")]
    pub total_tax: rust_decimal::Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FeeLine {
    #[serde(default, deserialize_with = "decoded")]
    pub name: String,
    #[serde(deserialize_with = "amount")]
    pub total: rust_decimal::Decimal,
    #[serde(deserialize_with = "amount")]
    pub total_tax: rust_decimal::Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CouponLine {
    pub code: String,
    #[serde(deserialize_with = "amount")]
    pub discount: rust_decimal::Decimal,
}

/// A product or variation as far as stock sync needs it. `name` is decoded (no HTML entities).
#[derive(Debug, Clone, Deserialize)]
pub struct Product {
    pub id: u64,
    #[serde(default)]
    pub parent_id: u64,
    #[serde(default)]
    pub sku: String,
    #[serde(default, deserialize_with = "decoded")]
    pub name: String,
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub manage_stock: ManageStock,
    pub stock_quantity: Option<i64>,
    #[serde(default)]
    pub stock_status: String,
    /// Products only; variations have none of their own.
    #[serde(default)]
    pub categories: Vec<CategoryRef>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CategoryRef {
    pub id: u64,
    #[serde(default)]
    pub slug: String,
}

/// `manage_stock` is `true`/`false` on products and may be `"parent"` on variations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ManageStock {
    Flag(bool),
    Other(String),
    #[default]
    #[serde(skip)]
    Unknown,
}

impl ManageStock {
    pub fn is_managed(&self) -> bool {
        matches!(self, ManageStock::Flag(true))
    }
}

fn decoded<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(super::money::decode_entities(&String::deserialize(d)?))
}

fn amount<'de, D: serde::Deserializer<'de>>(d: D) -> Result<rust_decimal::Decimal, D::Error> {
    super::money::parse_amount(&String::deserialize(d)?).map_err(serde::de::Error::custom)
}

#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    pub id: u64,
    #[serde(deserialize_with = "amount")]
    pub amount: rust_decimal::Decimal,
    #[serde(default)]
    pub reason: String,
    pub date_created_gmt: Option<String>,
    #[serde(default)]
    pub refunded_payment: bool,
}

/// A WooCommerce Payments deposit (a Stripe payout). Amounts in minor units on the wire.
#[derive(Debug, Clone, Deserialize)]
pub struct Deposit {
    pub id: String,
    /// Arrival date, milliseconds since the epoch.
    pub date: i64,
    #[serde(default, rename = "type")]
    pub kind: String,
    pub amount: i64,
    #[serde(default)]
    pub fee: i64,
    pub status: String,
    pub currency: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PaymentTransaction {
    pub transaction_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub amount: i64,
    #[serde(default)]
    pub fees: i64,
    pub net: i64,
    pub currency: String,
    pub order_id: Option<u64>,
    pub deposit_id: Option<String>,
}

/// One entry of `_wc_shipment_tracking_items` (WooCommerce Shipment Tracking and the compatible
/// Advanced Shipment Tracking plugin).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct TrackingItem {
    pub tracking_provider: String,
    pub custom_tracking_provider: String,
    pub custom_tracking_link: String,
    pub tracking_number: String,
    /// Unix seconds, as a string, as the extension stores it.
    pub date_shipped: String,
    /// md5-looking id; wns derives it from the fulfilment so a repeat writes the same item.
    pub tracking_id: String,
}

/// `2026-11-26T20:49:05` (a `_gmt` field) as UTC.
pub fn parse_gmt(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").ok().map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/woocommerce");

    fn body(name: &str) -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()).unwrap();
        v["response"]["body"].clone()
    }

    #[test]
    fn recorded_order_lists_and_webhooks_parse() {
        let orders: Vec<OrderSummary> = serde_json::from_value(body("orders-list-page1.json")).unwrap();
        assert_eq!(orders[0].id, 23);
        assert_eq!(orders[0].modified().unwrap().to_rfc3339(), "2026-11-26T20:49:05+00:00");
        let hooks: Vec<Webhook> = serde_json::from_value(body("webhooks-list.json")).unwrap();
        assert!(hooks.iter().any(|h| h.topic == "order.deleted" && h.status == "active"));
    }

    #[test]
    fn recorded_products_variations_and_refunds_parse_with_decoded_names_and_exact_amounts() {
        let p: Product = serde_json::from_value(body("product-get-entity-name.json")).unwrap();
        assert_eq!(p.name, "Tee – Blue & Red");
        assert!(p.manage_stock.is_managed());
        let list: Vec<Product> = serde_json::from_value(body("products-by-variation-sku.json")).unwrap();
        assert!(list.iter().all(|v| !v.sku.is_empty()));
        let v: Product = serde_json::from_value(body("product-variation-get.json")).unwrap();
        assert!(v.sku.starts_with("TSHIRT-"), "{}", v.sku);
        let refunds: Vec<Refund> = serde_json::from_value(body("refunds-list.json")).unwrap();
        assert!(refunds.iter().all(|r| r.amount > rust_decimal::Decimal::ZERO));
    }
}
