//! `line_items` in `PUT /orders/<id>` as WooCommerce 7.9 applies them: a quantity alone changes
//! only the quantity, a quantity with `subtotal`/`total` moves the money and everything is taxed
//! again to the cent, a line without `id` is added at the product's price, `quantity: 0` removes a
//! line, an id that is not one of the order's lines is refused, and stock is left alone.

mod woo_support;

use std::time::Duration;

use rust_decimal::Decimal;
use wns_sim::woo::json::OJson;
use wns_sim::woo::{NewProduct, NewVariableProduct, NewVariation, WooSim};
use woo_support::*;

const SETTLE: Duration = Duration::from_secs(10);

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn json(text: &str) -> OJson {
    OJson::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn s(v: &OJson, key: &str) -> String {
    v.get(key).and_then(OJson::to_php_string).unwrap_or_else(|| panic!("no {key}"))
}

fn n(v: &OJson, key: &str) -> u64 {
    v.get(key).and_then(OJson::as_u64).unwrap_or_else(|| panic!("no {key}"))
}

fn lines(order: &OJson) -> Vec<OJson> {
    order.get("line_items").and_then(OJson::as_array).unwrap().to_vec()
}

const CA: &str = r#"{"first_name":"Sam","last_name":"Guest","address_1":"500 Main St","city":"Los Angeles",
    "state":"CA","postcode":"90012","country":"US","email":"sam.guest@example.org"}"#;

struct Shop {
    mug: u64,
    tee: u64,
    beans: u64,
}

fn shop(sim: &WooSim) -> Shop {
    Shop {
        mug: sim.add_product(NewProduct::new("Enamel Mug", "WNS-MUG", d("12.50")).stock(40)),
        tee: sim.add_product(NewProduct::new("Tee", "TEE", d("19.99")).stock(15)),
        beans: sim.add_product(NewProduct::new("Beans 1kg", "BEANS", d("24.00")).stock(7)),
    }
}

/// 2 mugs (25.00) and a tee (19.99) to Los Angeles (7.25 %), flat rate 5.00, paid: 53.61.
async fn paid_order(c: &Client, shop: &Shop) -> OJson {
    let body = json(&format!(
        r#"{{"billing":{CA},"shipping":{CA},"set_paid":true,
            "line_items":[{{"product_id":{},"quantity":2}},{{"product_id":{},"quantity":1}}],
            "shipping_lines":[{{"method_id":"flat_rate","method_title":"Flat rate","total":"5.00"}}]}}"#,
        shop.mug, shop.tee
    ));
    let a = c.post("/orders", &body).await;
    assert_eq!(a.status, 201);
    let order = a.json();
    assert_eq!((s(&order, "status"), s(&order, "total")), ("processing".into(), "53.61".into()));
    order
}

async fn put_lines(c: &Client, order: &OJson, line_items: &str) -> Answer {
    c.put(&format!("/orders/{}", n(order, "id")), &json(&format!(r#"{{"line_items":{line_items}}}"#))).await
}

#[tokio::test]
async fn a_quantity_with_its_line_totals_is_taxed_again_to_the_cent_and_fires_order_updated() {
    let (running, c) = start().await;
    let sim = &running.sim;
    let shop = shop(sim);
    let receiver = Receiver::start().await;
    sim.add_webhook("order.updated", &receiver.url, "s3cret");
    receiver.wait_for(1).await;
    let before = paid_order(&c, &shop).await;
    assert!(sim.settle(SETTLE).await);
    let delivered = receiver.seen().len();
    let mug_line = n(&lines(&before)[0], "id");
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let a =
        put_lines(&c, &before, &format!(r#"[{{"id":{mug_line},"quantity":3,"subtotal":"37.50","total":"37.50"}}]"#))
            .await;
    assert_eq!(a.status, 200);
    let after = a.json();
    let mug = &lines(&after)[0];
    assert_eq!((n(mug, "id"), mug.get("quantity")), (mug_line, Some(&OJson::int(3))));
    assert_eq!(
        [s(mug, "subtotal"), s(mug, "subtotal_tax"), s(mug, "total"), s(mug, "total_tax")],
        ["37.50", "2.72", "37.50", "2.72"]
    );
    let tax = &mug.get("taxes").and_then(OJson::as_array).unwrap()[0];
    assert_eq!(
        (s(tax, "total"), s(tax, "subtotal")),
        ("2.71875".into(), "2.71875".into()),
        "unrounded, 37.50 × 7.25 %"
    );
    assert_eq!(mug.to_value()["price"], serde_json::json!(12.5));
    // 37.50 + 19.99 + 5.00 shipping + (2.72 + 1.45) cart tax + 0.36 shipping tax.
    assert_eq!(
        [s(&after, "total"), s(&after, "total_tax"), s(&after, "cart_tax"), s(&after, "shipping_tax")],
        ["67.02", "4.53", "4.17", "0.36"]
    );
    assert_eq!(s(&after, "discount_total"), "0.00");
    let tax_line = |o: &OJson| o.get("tax_lines").and_then(OJson::as_array).unwrap()[0].clone();
    assert_eq!(n(&tax_line(&after), "id"), n(&tax_line(&before), "id"), "the tax line is updated in place");
    assert_eq!(
        (s(&tax_line(&after), "tax_total"), s(&tax_line(&after), "shipping_tax_total")),
        ("4.17".into(), "0.36".into())
    );
    assert!(s(&after, "date_modified_gmt") > s(&before, "date_modified_gmt"));
    assert_eq!(c.get(&format!("/orders/{}", n(&after, "id"))).await.json(), after, "stored as answered");

    assert!(sim.settle(SETTLE).await);
    let seen = receiver.wait_for(delivered + 1).await;
    let last = seen.last().unwrap();
    assert_eq!(last.header("x-wc-webhook-topic"), "order.updated");
    let payload = OJson::parse(&last.body).unwrap();
    assert_eq!(s(&payload, "total"), "67.02");

    // [INFERRED] WooCommerce 7.x/8.x REST edits do not move stock: the 2 taken at payment stay taken.
    assert_eq!(sim.stock_of(shop.mug), Some(38));
    let reduced = &mug.get("meta_data").and_then(OJson::as_array).unwrap()[0];
    assert_eq!((s(reduced, "key"), s(reduced, "value")), ("_reduced_stock".into(), "2".into()));
    sim.update_order_status(n(&after, "id"), "cancelled").unwrap();
    assert_eq!(sim.stock_of(shop.mug), Some(40), "a cancel gives back what was taken, not the new quantity");
}

#[tokio::test]
async fn a_quantity_alone_leaves_the_money_where_it_was() {
    let (running, c) = start().await;
    let shop = shop(&running.sim);
    let before = paid_order(&c, &shop).await;
    let mug_line = n(&lines(&before)[0], "id");
    let after = put_lines(&c, &before, &format!(r#"[{{"id":{mug_line},"quantity":"3"}}]"#)).await.json();
    let mug = &lines(&after)[0];
    assert_eq!(mug.get("quantity"), Some(&OJson::int(3)));
    assert_eq!([s(mug, "subtotal"), s(mug, "total"), s(mug, "total_tax")], ["25.00", "25.00", "1.81"]);
    assert_eq!(mug.to_value()["price"], serde_json::json!(8.333333333333334), "25.00 ÷ 3, a PHP float");
    assert_eq!([s(&after, "total"), s(&after, "total_tax")], ["53.61", "3.62"]);
}

#[tokio::test]
async fn a_line_without_an_id_is_added_at_the_products_price() {
    let (running, c) = start().await;
    let sim = &running.sim;
    let shop = shop(sim);
    let sticker = sim.add_product(NewProduct::new("Sticker", "STICKER", d("1.00")));
    let (tshirt, sizes) = sim.add_variable_product(NewVariableProduct {
        name: "Logo T-Shirt".into(),
        sku: "TSHIRT".into(),
        attribute: "Size".into(),
        variations: vec![NewVariation {
            option: "M".into(),
            sku: "TSHIRT-M".into(),
            regular_price: d("22.00"),
            manage_stock: true,
            stock_quantity: Some(8),
        }],
    });
    let before = paid_order(&c, &shop).await;
    let adds = format!(
        r#"[{{"product_id":{},"quantity":2}},{{"sku":"STICKER","quantity":3}},{{"id":0,"variation_id":{}}}]"#,
        shop.beans, sizes[0]
    );
    let a = put_lines(&c, &before, &adds).await;
    assert_eq!(a.status, 200);
    let after = a.json();
    let all = lines(&after);
    assert_eq!(all.len(), 5);
    let max_before = lines(&before)
        .iter()
        .chain(before.get("tax_lines").and_then(OJson::as_array).unwrap())
        .map(|l| n(l, "id"))
        .max();
    assert!(all[2..].iter().all(|l| Some(n(l, "id")) > max_before), "new item ids");
    let (beans, sticker_line, shirt) = (&all[2], &all[3], &all[4]);
    assert_eq!(
        (n(beans, "product_id"), s(beans, "name"), s(beans, "sku")),
        (shop.beans, "Beans 1kg".into(), "BEANS".into())
    );
    assert_eq!([s(beans, "subtotal"), s(beans, "total"), s(beans, "total_tax")], ["48.00", "48.00", "3.48"]);
    assert_eq!(beans.to_value()["price"], serde_json::json!(24));
    assert_eq!(
        (n(sticker_line, "product_id"), s(sticker_line, "total"), s(sticker_line, "total_tax")),
        (sticker, "3.00".into(), "0.22".into())
    );
    assert_eq!(
        (n(shirt, "product_id"), n(shirt, "variation_id"), shirt.get("quantity")),
        (tshirt, sizes[0], Some(&OJson::int(1)))
    );
    assert_eq!(
        (s(shirt, "total"), s(shirt, "total_tax"), s(shirt, "parent_name")),
        ("22.00".into(), "1.60".into(), "Logo T-Shirt".into())
    );
    assert_eq!(shirt.get("meta_data").and_then(OJson::as_array).map(|m| s(&m[0], "value")), Some("M".into()));
    // Items 25.00 + 19.99 + 48.00 + 3.00 + 22.00, shipping 5.00, cart tax 1.81 + 1.45 + 3.48 + 0.22 + 1.60, shipping tax 0.36.
    assert_eq!([s(&after, "total"), s(&after, "cart_tax"), s(&after, "total_tax")], ["131.91", "8.56", "8.92"]);
    assert_eq!(
        (sim.stock_of(shop.beans), sim.stock_of(sizes[0])),
        (Some(7), Some(8)),
        "[INFERRED] no stock taken by a REST edit"
    );

    let missing = put_lines(&c, &after, r#"[{"quantity":1}]"#).await;
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.json(),
        json(
            r#"{"code":"woocommerce_rest_required_product_reference","message":"Product ID or SKU is required.","data":{"status":400}}"#
        )
    );
}

#[tokio::test]
async fn quantity_zero_removes_a_line_and_the_totals_follow() {
    let (running, c) = start().await;
    let sim = &running.sim;
    let shop = shop(sim);
    let before = paid_order(&c, &shop).await;
    let tee_line = n(&lines(&before)[1], "id");
    let a =
        put_lines(&c, &before, &format!(r#"[{{"id":{tee_line},"quantity":0}},{{"id":999999,"quantity":0}}]"#)).await;
    assert_eq!(a.status, 200, "an unknown id is ignored when removing, as remove_item() is silent");
    let after = a.json();
    let left = lines(&after);
    assert_eq!(left.len(), 1);
    assert_eq!(n(&left[0], "product_id"), shop.mug);
    // 25.00 + 5.00 shipping + 1.81 + 0.36.
    assert_eq!([s(&after, "total"), s(&after, "total_tax"), s(&after, "cart_tax")], ["32.17", "2.17", "1.81"]);
    assert_eq!(sim.stock_of(shop.tee), Some(14), "[INFERRED] 7.x/8.x: removing over REST does not restock");

    let nulled = put_lines(&c, &after, &format!(r#"[{{"id":{},"product_id":null}}]"#, n(&left[0], "id"))).await.json();
    assert!(lines(&nulled).is_empty(), "a null product_id removes the line too");
    assert_eq!([s(&nulled, "total"), s(&nulled, "cart_tax"), s(&nulled, "shipping_tax")], ["5.36", "0.00", "0.36"]);
}

#[tokio::test]
async fn an_id_that_is_not_a_line_of_the_order_is_refused() {
    let (running, c) = start().await;
    let shop = shop(&running.sim);
    let order = paid_order(&c, &shop).await;
    let other = paid_order(&c, &shop).await;
    let refused = json(
        r#"{"code":"woocommerce_rest_invalid_item_id","message":"Order item ID provided is not associated with order.","data":{"status":400}}"#,
    );
    let path = format!("/orders/{}", n(&order, "id"));
    for id in [999_999, n(&lines(&other)[0], "id")] {
        let a = put_lines(&c, &order, &format!(r#"[{{"id":{id},"quantity":2}}]"#)).await;
        assert_eq!((a.status, a.json()), (400, refused.clone()));
        assert_eq!(c.get(&path).await.json(), order, "nothing changed");
    }

    // WooCommerce saves each updated line as it goes; the removal and the totals wait for the
    // order's save, which the exception prevents.
    let (mug_line, tee_line) = (n(&lines(&order)[0], "id"), n(&lines(&order)[1], "id"));
    let body =
        format!(r#"[{{"id":{mug_line},"quantity":5}},{{"id":{tee_line},"quantity":0}},{{"id":999999,"quantity":1}}]"#);
    assert_eq!(put_lines(&c, &order, &body).await.status, 400);
    let now = c.get(&path).await.json();
    let kept = lines(&now);
    assert_eq!((kept.len(), kept[0].get("quantity")), (2, Some(&OJson::int(5))));
    assert_eq!((s(&now, "total"), s(&now, "date_modified_gmt")), (s(&order, "total"), s(&order, "date_modified_gmt")));
}

#[tokio::test]
async fn line_items_are_type_checked_before_anything_is_applied() {
    let (running, c) = start().await;
    let shop = shop(&running.sim);
    let order = paid_order(&c, &shop).await;
    let mug_line = n(&lines(&order)[0], "id");
    for (item, param, kind) in [
        (format!(r#"{{"id":{mug_line},"quantity":"two"}}"#), "line_items[1][quantity]", "integer"),
        (format!(r#"{{"id":{mug_line},"quantity":3,"total":37.5}}"#), "line_items[1][total]", "string"),
    ] {
        let a = put_lines(&c, &order, &format!(r#"[{{"id":{mug_line},"quantity":4}},{item}]"#)).await;
        assert_eq!(a.status, 400);
        let body = a.json();
        let message = format!("{param} is not of type {kind}.");
        assert_eq!(s(&body, "code"), "rest_invalid_param");
        assert_eq!(s(&body, "message"), "Invalid parameter(s): line_items");
        assert_eq!(body.get("data").and_then(|d| d.get("params")).map(|p| s(p, "line_items")), Some(message));
        assert_eq!(
            lines(&c.get(&format!("/orders/{}", n(&order, "id"))).await.json())[0].get("quantity"),
            Some(&OJson::int(2))
        );
    }
}

#[tokio::test]
async fn an_added_line_gets_no_coupon_discount_and_the_coupon_line_stays() {
    let (running, c) = start().await;
    let sim = &running.sim;
    let shop = shop(sim);
    let sticker = sim.add_product(NewProduct::new("Sticker", "STICKER", d("1.00")));
    let body = json(&format!(
        r#"{{"billing":{CA},"line_items":[{{"product_id":{},"quantity":2}}],"coupon_lines":[{{"code":"tenoff"}}]}}"#,
        shop.mug
    ));
    let order = c.post("/orders", &body).await.json();
    assert_eq!([s(&order, "total"), s(&order, "discount_total")], ["24.13", "2.50"]);
    let after = put_lines(&c, &order, &format!(r#"[{{"product_id":{sticker},"quantity":2}}]"#)).await.json();
    let added = &lines(&after)[1];
    assert_eq!([s(added, "subtotal"), s(added, "total"), s(added, "total_tax")], ["2.00", "2.00", "0.15"]);
    // The mug keeps 22.50 after its 2.50 discount; 24.50 of items, tax 1.63 + 0.15.
    assert_eq!(
        [s(&after, "total"), s(&after, "discount_total"), s(&after, "discount_tax"), s(&after, "cart_tax")],
        ["26.28", "2.50", "0.18", "1.78"]
    );
    let coupon = &after.get("coupon_lines").and_then(OJson::as_array).unwrap()[0];
    assert_eq!(coupon.to_value(), order.get("coupon_lines").and_then(OJson::as_array).unwrap()[0].to_value());
}

#[tokio::test]
async fn edits_come_before_the_status_change_that_takes_the_stock() {
    let (running, c) = start().await;
    let sim = &running.sim;
    let shop = shop(sim);
    let body = json(&format!(r#"{{"billing":{CA},"line_items":[{{"product_id":{},"quantity":1}}]}}"#, shop.mug));
    let order = c.post("/orders", &body).await.json();
    assert_eq!((s(&order, "status"), sim.stock_of(shop.mug)), ("pending".into(), Some(40)));
    let mug_line = n(&lines(&order)[0], "id");
    let put = json(&format!(
        r#"{{"status":"processing","line_items":[{{"id":{mug_line},"quantity":4,"subtotal":"50.00","total":"50.00"}}]}}"#
    ));
    let after = c.put(&format!("/orders/{}", n(&order, "id")), &put).await.json();
    assert_eq!((s(&after, "status"), s(&after, "total")), ("processing".into(), "53.63".into()));
    assert_eq!(sim.stock_of(shop.mug), Some(36), "the transition reduces stock by the new quantity");
}
