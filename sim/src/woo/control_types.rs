//! What the control API takes and gives: products to add, a storefront checkout, refund lines,
//! payouts, and plain summaries of orders. Serde-ready, so `/_sim/` takes the same shapes as JSON.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::model::Address;
use super::payments;

/// A simple product. Stock is unmanaged unless [`NewProduct::stock`] is called.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewProduct {
    pub name: String,
    pub sku: String,
    pub regular_price: Decimal,
    #[serde(default)]
    pub sale_price: Option<Decimal>,
    #[serde(default)]
    pub manage_stock: bool,
    #[serde(default)]
    pub stock_quantity: Option<i64>,
    /// `no`, `notify` or `yes`.
    #[serde(default = "no")]
    pub backorders: String,
}

fn no() -> String {
    "no".into()
}

impl NewProduct {
    pub fn new(name: &str, sku: &str, regular_price: Decimal) -> NewProduct {
        NewProduct {
            name: name.into(),
            sku: sku.into(),
            regular_price,
            sale_price: None,
            manage_stock: false,
            stock_quantity: None,
            backorders: no(),
        }
    }

    pub fn stock(mut self, quantity: i64) -> NewProduct {
        self.manage_stock = true;
        self.stock_quantity = Some(quantity);
        self
    }

    pub fn backorders(mut self, allowed: bool) -> NewProduct {
        self.backorders = if allowed { "yes".into() } else { no() };
        self
    }
}

/// A variable product varying on one attribute (e.g. "Size": S, M, L).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewVariableProduct {
    pub name: String,
    pub sku: String,
    pub attribute: String,
    pub variations: Vec<NewVariation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewVariation {
    pub option: String,
    pub sku: String,
    pub regular_price: Decimal,
    pub manage_stock: bool,
    pub stock_quantity: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckoutLine {
    pub product_id: u64,
    #[serde(default)]
    pub variation_id: u64,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShippingChoice {
    pub method_id: String,
    pub method_title: String,
    pub instance_id: String,
    pub total: Decimal,
}

impl ShippingChoice {
    pub fn flat_rate(total: Decimal) -> ShippingChoice {
        ShippingChoice {
            method_id: "flat_rate".into(),
            method_title: "Flat rate".into(),
            instance_id: "2".into(),
            total,
        }
    }

    pub fn free() -> ShippingChoice {
        ShippingChoice {
            method_id: "free_shipping".into(),
            method_title: "Free shipping".into(),
            instance_id: "3".into(),
            total: Decimal::ZERO,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fee {
    pub name: String,
    pub total: Decimal,
    pub taxable: bool,
}

/// A storefront checkout. Payment decides the first status as the gateways do: WooPayments and
/// Stripe pay at once (processing), BACS and cheques wait (on-hold), cash on delivery processes
/// unpaid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkout {
    /// 0 for a guest.
    #[serde(default)]
    pub customer_id: u64,
    pub billing: Address,
    /// `None`: ship to the billing address.
    #[serde(default)]
    pub shipping_address: Option<Address>,
    pub lines: Vec<CheckoutLine>,
    #[serde(default)]
    pub coupons: Vec<String>,
    #[serde(default)]
    pub shipping_method: Option<ShippingChoice>,
    #[serde(default)]
    pub fees: Vec<Fee>,
    pub payment_method: String,
    pub payment_method_title: String,
    /// Overrides the gateway's first status.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub customer_note: String,
}

impl Checkout {
    /// A guest paying with WooPayments.
    pub fn guest(billing: Address) -> Checkout {
        Checkout {
            customer_id: 0,
            billing,
            shipping_address: None,
            lines: Vec::new(),
            coupons: Vec::new(),
            shipping_method: None,
            fees: Vec::new(),
            payment_method: payments::GATEWAY.into(),
            payment_method_title: "Credit card / debit card".into(),
            status: None,
            customer_note: String::new(),
        }
    }

    pub fn customer(mut self, id: u64) -> Checkout {
        self.customer_id = id;
        self
    }

    pub fn line(mut self, product_id: u64, quantity: i64) -> Checkout {
        self.lines.push(CheckoutLine { product_id, variation_id: 0, quantity });
        self
    }

    pub fn variation(mut self, product_id: u64, variation_id: u64, quantity: i64) -> Checkout {
        self.lines.push(CheckoutLine { product_id, variation_id, quantity });
        self
    }

    pub fn coupon(mut self, code: &str) -> Checkout {
        self.coupons.push(code.into());
        self
    }

    pub fn shipping(mut self, choice: ShippingChoice) -> Checkout {
        self.shipping_method = Some(choice);
        self
    }

    pub fn fee(mut self, name: &str, total: Decimal, taxable: bool) -> Checkout {
        self.fees.push(Fee { name: name.into(), total, taxable });
        self
    }

    pub fn pay_with(mut self, method: &str, title: &str) -> Checkout {
        self.payment_method = method.into();
        self.payment_method_title = title.into();
        self
    }
}

/// An order line as the control API reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderLine {
    pub item_id: u64,
    pub product_id: u64,
    pub variation_id: u64,
    pub sku: String,
    pub quantity: i64,
    pub total: Decimal,
    pub total_tax: Decimal,
}

/// An order as the control API reports it; [`WooSim::order`] gives the full REST JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    pub id: u64,
    pub number: String,
    pub order_key: String,
    pub status: String,
    pub currency: String,
    pub total: Decimal,
    pub total_tax: Decimal,
    pub lines: Vec<OrderLine>,
    pub shipping_item_ids: Vec<u64>,
    pub date_created: DateTime<Utc>,
    pub date_modified: DateTime<Utc>,
}

/// One order line to refund; `None` amounts are the line's own, pro rata of the quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundLine {
    pub item_id: u64,
    pub quantity: i64,
    #[serde(default)]
    pub refund_total: Option<Decimal>,
    #[serde(default)]
    pub refund_tax: Option<Vec<(u64, Decimal)>>,
}

impl RefundLine {
    pub fn item(item_id: u64, quantity: i64) -> RefundLine {
        RefundLine { item_id, quantity, refund_total: None, refund_tax: None }
    }
}

/// A WooPayments payout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PayoutSpec {
    /// `paid`, `pending`, `in_transit`, `canceled` or `failed`.
    pub status: String,
    /// Arrival day; two days from now when `None`.
    pub arrival_date: Option<NaiveDate>,
}

impl Default for PayoutSpec {
    fn default() -> Self {
        PayoutSpec { status: "paid".into(), arrival_date: None }
    }
}

/// A delivery lost by the loss fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DroppedDelivery {
    pub webhook_id: u64,
    pub topic: String,
    pub resource_id: u64,
}
