//! Checkouts through the control API: stock taken as `wc_reduce_stock_levels` takes it (and
//! never oversold), given back on cancel and by restocking refunds, and totals as WooCommerce
//! computes them.

mod woo_support;

use std::sync::Arc;

use rust_decimal::Decimal;
use wns_sim::woo::json::OJson;
use wns_sim::woo::{Address, Checkout, CheckoutError, NewProduct, RefundLine, ShippingChoice, WooConfig, WooSim};
use woo_support::*;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn store() -> (WooSim, u64, u64) {
    let sim = WooSim::new(WooConfig::for_tests());
    let mug = sim.add_product(NewProduct::new("Enamel Mug", "WNS-MUG", d("12.50")).stock(40));
    let sticker = sim.add_product(NewProduct::new("Sticker", "STICKER", d("1.00")));
    (sim, mug, sticker)
}

#[tokio::test]
async fn a_checkout_takes_managed_stock_and_leaves_unmanaged_products_alone() {
    let (sim, mug, sticker) = store();
    let order = sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 2).line(sticker, 5)).unwrap();
    assert_eq!(order.status, "processing");
    assert_eq!(sim.stock_of(mug), Some(38));
    assert_eq!(sim.stock_of(sticker), None);
    let json = sim.order(order.id).unwrap();
    assert_eq!(json["line_items"][0]["meta_data"][0]["key"], "_reduced_stock");
    assert_eq!(json["line_items"][0]["meta_data"][0]["value"], "2");
    assert!(json["line_items"][1]["meta_data"].as_array().unwrap().is_empty());
    assert_eq!(sim.product(mug).unwrap()["total_sales"], 2);
}

#[tokio::test]
async fn a_checkout_is_refused_when_stock_would_go_below_zero() {
    let (sim, mug, _) = store();
    let refused = sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 30).line(mug, 11));
    assert_eq!(
        refused.unwrap_err(),
        CheckoutError::InsufficientStock { product_id: mug, available: 40, requested: 41 }
    );
    assert_eq!(sim.stock_of(mug), Some(40), "nothing taken");
    assert!(sim.order_ids().is_empty());
    assert_eq!(sim.counters().checkouts_refused, 1);
}

#[tokio::test]
async fn backorders_let_stock_go_negative() {
    let sim = WooSim::new(WooConfig::for_tests());
    let mug = sim.add_product(NewProduct::new("Mug", "MUG", d("10")).stock(1).backorders(true));
    sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 3)).unwrap();
    assert_eq!(sim.stock_of(mug), Some(-2));
    assert_eq!(sim.product(mug).unwrap()["stock_status"], "onbackorder");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_checkouts_never_oversell() {
    let sim = Arc::new(WooSim::new(WooConfig::for_tests()));
    let mug = sim.add_product(NewProduct::new("Mug", "MUG", d("10")).stock(10));
    let tasks: Vec<_> = (0..25)
        .map(|_| {
            let sim = sim.clone();
            tokio::spawn(async move { sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 1)).is_ok() })
        })
        .collect();
    let mut sold = 0;
    for t in tasks {
        sold += usize::from(t.await.unwrap());
    }
    assert_eq!((sold, sim.stock_of(mug)), (10, Some(0)));
    assert_eq!(sim.product(mug).unwrap()["stock_status"], "outofstock");
}

#[tokio::test]
async fn totals_follow_woocommerces_rounding() {
    let sim = WooSim::new(WooConfig::for_tests());
    let mug = sim.add_product(NewProduct::new("Enamel Mug", "WNS-MUG", d("12.50")).stock(40));
    let tee = sim.add_product(NewProduct::new("Tee – Blue & Red", "TEE-BR", d("19.99")).stock(15));
    let beans = sim.add_product(NewProduct::new("Café Crème Beans 1kg", "CAFÉ-CRÈME-1KG", d("24.00")).stock(7));
    let c = Checkout::guest(Address::us_ca())
        .line(mug, 2)
        .line(tee, 1)
        .line(beans, 1)
        .coupon("tenoff")
        .shipping(ShippingChoice::flat_rate(d("5.00")))
        .fee("Gift wrap", d("2.50"), true);
    let order = sim.checkout(c).unwrap();
    let json = sim.order(order.id).unwrap();
    // The recorded order 23: same cart, same coupon, same shipping and fee.
    assert_eq!(
        (&json["total"], &json["total_tax"], &json["discount_total"], &json["discount_tax"], &json["cart_tax"]),
        (&"74.64".into(), &"5.05".into(), &"6.90".into(), &"0.50".into(), &"4.69".into())
    );
    assert_eq!(json["line_items"][0]["price"], serde_json::json!(11.245));
    assert_eq!(json["line_items"][1]["name"], "Tee \u{2013} Blue &amp; Red");
    assert_eq!(json["coupon_lines"][0]["discount"], "6.9");
    assert_eq!(json["created_via"], "checkout");
}

#[tokio::test]
async fn cancelling_gives_the_stock_back_and_a_restocking_refund_returns_what_it_refunds() {
    let (sim, mug, _) = store();
    let first = sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 4)).unwrap();
    sim.update_order_status(first.id, "cancelled").unwrap();
    assert_eq!(sim.stock_of(mug), Some(40));
    assert!(sim.order(first.id).unwrap()["line_items"][0]["meta_data"].as_array().unwrap().is_empty());

    let second =
        sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 4).pay_with("bacs", "Direct bank transfer")).unwrap();
    assert_eq!(second.status, "on-hold");
    let refund = sim.refund(second.id, None, &[RefundLine::item(second.lines[0].item_id, 1)], "Broken").unwrap();
    assert_eq!(sim.stock_of(mug), Some(37));
    let json = sim.order(second.id).unwrap();
    assert_eq!(json["refunds"][0]["id"], refund);
    assert_eq!(json["refunds"][0]["total"], "-13.41", "12.50 and its 7.25 % tax, negative");
    assert_eq!(json["status"], "on-hold", "a partial refund keeps the status");
    let rest = sim.refund(second.id, None, &[RefundLine::item(second.lines[0].item_id, 3)], "All").unwrap();
    assert!(rest > refund);
    assert_eq!(sim.order(second.id).unwrap()["status"], "refunded");
    assert_eq!(sim.stock_of(mug), Some(40));
}

#[tokio::test]
async fn a_trashed_order_leaves_the_default_list_and_comes_back_when_restored() {
    let (running, c) = start().await;
    let sim = &running.sim;
    let mug = sim.add_product(NewProduct::new("Mug", "MUG", d("10")).stock(10));
    let order = sim.checkout(Checkout::guest(Address::gb()).line(mug, 1)).unwrap();
    sim.delete_order(order.id).unwrap();
    assert_eq!(c.get("/orders").await.header("x-wp-total").as_deref(), Some("0"));
    assert_eq!(c.get("/orders?status=trash").await.header("x-wp-total").as_deref(), Some("1"));
    sim.restore_order(order.id).unwrap();
    let listed = c.get("/orders").await.json();
    assert_eq!(listed.as_array().unwrap()[0].get("status"), Some(&OJson::str("processing")));
    assert!(
        sim.order(order.id).unwrap()["meta_data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| !m["key"].as_str().unwrap().starts_with("_wp_trash"))
    );
}

#[tokio::test]
async fn a_registered_customer_checkout_links_the_customer() {
    let (sim, mug, _) = store();
    let jane = sim.add_customer("Jane", "Doe", "jane.doe@example.com");
    let billing =
        Address { first_name: String::new(), last_name: String::new(), email: String::new(), ..Address::us_ca() };
    let order = sim.checkout(Checkout::guest(billing).customer(jane).line(mug, 1)).unwrap();
    let json = sim.order(order.id).unwrap();
    assert_eq!(
        (json["customer_id"].as_u64(), json["billing"]["email"].as_str()),
        (Some(jane), Some("jane.doe@example.com"))
    );
    assert!(json["_links"]["customer"][0]["href"].as_str().unwrap().ends_with(&format!("/customers/{jane}")));
    let unknown = sim.checkout(Checkout::guest(Address::us_ca()).customer(999).line(mug, 1));
    assert_eq!(unknown.unwrap_err(), CheckoutError::UnknownCustomer(999));
}

#[tokio::test]
async fn a_sweep_can_ask_for_only_the_fields_it_needs() {
    let (running, c) = start().await;
    let sim = &running.sim;
    let mug = sim.add_product(NewProduct::new("Mug", "MUG", d("10")).stock(10));
    sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 1)).unwrap();
    let a = c.get("/orders?_fields=status,date_modified_gmt&orderby=modified&order=asc").await.json();
    let keys: Vec<&str> = a.as_array().unwrap()[0].as_object().unwrap().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["id", "status", "date_modified_gmt"], "id always stays, in WooCommerce's order");
}
