//! Transforms: an order fulfilled in parts moves quantities onto its lines and out of stock
//! (committed units: out of on hand, available unchanged; netsuite_inventory.rs has the rest),
//! and its tracking numbers become visible to SuiteQL the way connectors read them.

mod netsuite_support;

use netsuite_support::{Ns, created_id, error_of, json, start};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use wns_sim::netsuite::SeedItem;

const ORDER: &str = "/services/rest/record/v1/salesOrder";

struct Shop {
    location: String,
    items: [String; 2],
    order: String,
}

async fn shop_with_order(ns: &Ns) -> Shop {
    let location = ns.sim().seed_location("Main");
    let a = ns.sim().seed_item(SeedItem { itemid: "A".into(), base_price: Decimal::new(10, 0), ..SeedItem::default() });
    let b = ns.sim().seed_item(SeedItem { itemid: "B".into(), base_price: Decimal::new(5, 0), ..SeedItem::default() });
    ns.sim().set_stock(&a, &location, 10, 10);
    ns.sim().set_stock(&b, &location, 10, 10);
    let customer = ns.customer("Acme").await;
    let r = ns
        .post(
            ORDER,
            &json!({ "entity": { "id": customer }, "location": { "id": location }, "item": { "items": [
        { "item": { "id": a }, "quantity": 3 }, { "item": { "id": b }, "quantity": 1 } ] } }),
        )
        .await;
    assert_eq!(r.status(), 204);
    Shop { location, items: [a, b], order: created_id(&r) }
}

async fn order_lines(ns: &Ns, id: &str) -> (Value, Vec<Value>) {
    let so = json(ns.get(&format!("{ORDER}/{id}?expandSubResources=true")).await).await;
    let lines = so["item"]["items"].as_array().unwrap().clone();
    (so, lines)
}

#[tokio::test]
async fn a_partial_fulfilment_moves_quantities_and_stock() {
    let ns = start().await;
    let shop = shop_with_order(&ns).await;
    let body = json!({ "shipStatus": { "id": "C" },
        "item": { "items": [{ "orderLine": 1, "quantity": 2 }, { "orderLine": 2, "itemreceive": false }] },
        "package": { "items": [{ "packageTrackingNumber": "1Z999" }] } });
    let r =
        ns.post(&format!("/services/rest/record/v1/salesorder/{}/!transform/itemfulfillment", shop.order), &body).await;
    assert_eq!(r.status(), 204);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("/services/rest/record/v1/itemFulfillment/"), "{location}");
    let fulfilment = created_id(&r);

    let (so, lines) = order_lines(&ns, &shop.order).await;
    assert_eq!((lines[0]["quantityFulfilled"].as_i64(), lines[1]["quantityFulfilled"].as_i64()), (Some(2), Some(0)));
    assert_eq!(so["orderStatus"]["id"], "D");
    // The order committed 3 A and 1 B; shipping 2 committed A leaves available where it was.
    assert_eq!(ns.sim().stock(&shop.items[0], &shop.location), Some((8, 7)));
    assert_eq!(ns.sim().stock(&shop.items[1], &shop.location), Some((10, 9)));

    let f =
        json(ns.get(&format!("/services/rest/record/v1/itemFulfillment/{fulfilment}?expandSubResources=true")).await)
            .await;
    assert_eq!(f["createdFrom"]["id"], shop.order.as_str());
    assert_eq!(f["shipStatus"], json!({ "id": "C", "refName": "Shipped" }));
    assert_eq!(f["item"]["items"].as_array().unwrap().len(), 1);

    let q = format!(
        "SELECT DISTINCT tl.createdfrom AS orderid, n.trackingnumber FROM transactionline tl \
         JOIN transaction f ON f.id = tl.transaction AND f.type = 'ItemShip' \
         JOIN trackingnumbermap m ON m.transaction = f.id JOIN trackingnumber n ON n.id = m.trackingnumber \
         WHERE tl.createdfrom IN ({})",
        shop.order
    );
    let rows = json(ns.suiteql(&q, 100, 0).await).await;
    assert_eq!(rows["items"], json!([{ "links": [], "orderid": shop.order, "trackingnumber": "1Z999" }]));
    assert_eq!(ns.sim().counters().requests_by_op.get("transform salesOrder→itemFulfillment"), Some(&1));
}

#[tokio::test]
async fn fulfil_ships_what_is_left_and_closed_lines_stay_closed() {
    let ns = start().await;
    let shop = shop_with_order(&ns).await;
    let r = ns
        .patch(&format!("{ORDER}/{}", shop.order), &json!({ "item": { "items": [{ "line": 2, "isClosed": true }] } }))
        .await;
    assert_eq!(r.status(), 204);
    ns.sim().fulfil(&shop.order, &["TRACK-1", "TRACK-2"]);
    let (so, lines) = order_lines(&ns, &shop.order).await;
    assert_eq!((lines[0]["quantityFulfilled"].as_i64(), lines[1]["quantityFulfilled"].as_i64()), (Some(3), Some(0)));
    assert_eq!(lines[1]["isClosed"], true);
    assert_eq!(so["orderStatus"]["id"], "F");
    assert_eq!(ns.sim().stock(&shop.items[0], &shop.location), Some((7, 7)));
    assert_eq!(ns.sim().stock(&shop.items[1], &shop.location), Some((10, 10)), "the closed line released B");

    let r = ns.post(&format!("{ORDER}/{}/!transform/itemFulfillment", shop.order), &json!({})).await;
    let (status, code, detail) = error_of(r).await;
    assert_eq!((status, code.as_str()), (400, "USER_ERROR"));
    assert!(detail.contains("at least one line"), "{detail}");
    let shipped = json(ns.suiteql("SELECT id, status FROM transaction WHERE type = 'ItemShip'", 10, 0).await).await;
    assert_eq!((shipped["count"].as_u64(), shipped["items"][0]["status"].as_str()), (Some(1), Some("C")));
}

#[tokio::test]
async fn fulfilling_more_than_ordered_is_refused_and_changes_nothing() {
    let ns = start().await;
    let shop = shop_with_order(&ns).await;
    let body = json!({ "item": { "items": [{ "orderLine": 1, "quantity": 4 }] } });
    let r = ns.post(&format!("{ORDER}/{}/!transform/itemFulfillment", shop.order), &body).await;
    assert_eq!(error_of(r).await.0, 400);
    assert_eq!(ns.sim().record_count("itemFulfillment"), 0);
    assert_eq!(ns.sim().stock(&shop.items[0], &shop.location), Some((10, 7)), "still just committed");
}

#[tokio::test]
async fn orders_become_invoices_and_invoices_credit_memos() {
    let ns = start().await;
    let shop = shop_with_order(&ns).await;
    let r = ns.post(&format!("{ORDER}/{}/!transform/invoice", shop.order), &json!({ "memo": "billed" })).await;
    assert_eq!(r.status(), 204);
    let invoice = created_id(&r);
    let r = ns.post(&format!("/services/rest/record/v1/invoice/{invoice}/!transform/creditMemo"), &json!({})).await;
    assert_eq!(r.status(), 204);
    let memo =
        json(ns.get(&format!("/services/rest/record/v1/creditMemo/{}?expandSubResources=true", created_id(&r))).await)
            .await;
    assert_eq!(memo["total"], json!(35));
    assert_eq!(memo["createdFrom"]["id"], invoice.as_str());
    assert_eq!(memo["apply"]["items"][0]["doc"]["id"], invoice.as_str());
    let r = ns.post(&format!("{ORDER}/{}/!transform/creditMemo", shop.order), &json!({})).await;
    assert_eq!(error_of(r).await.1, "INVALID_PARAMETER", "there is no salesOrder → creditMemo transform");
}
