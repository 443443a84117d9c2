//! `/api/v1/skus` against the real order flow, on SQLite and PostgreSQL: three orders wait for
//! one unmapped SKU, a merchandiser maps it through the API, the answer says three orders were
//! released and they post; every change is in the audit log with who made it.

use crate::{api, support};
use std::{sync::Arc, time::Duration};

use axum::http::StatusCode;
use rust_decimal::Decimal;
use serde_json::json;
use wns::{
    api::{
        AppState,
        auth::{Cap, create_key},
        router,
    },
    metrics::Metrics,
    store::Backend,
};
use wns_sim::woo::{Address, Checkout};

const SETTLE: Duration = Duration::from_secs(20);

async fn a_saved_mapping_releases_the_orders_waiting_for_the_sku_and_they_post(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let (odd, _) = f.product("API-MAP", Decimal::new(700, 2), false);
    let item = f.ns.sim.seed_item(wns_sim::netsuite::SeedItem::new("Mapped by hand"));
    let mut orders = Vec::new();
    let mut worth = Decimal::ZERO;
    for n in 0..3 {
        let buyer = Address { email: format!("m{n}@example.com"), ..Address::us_ca() };
        let o = f.woo.sim.checkout(Checkout::guest(buyer).line(odd, 1)).unwrap();
        f.enqueue(o.id).await;
        orders.push(o.id);
        worth += o.total;
    }
    f.settle(SETTLE).await;
    let app = router(AppState::new(f.queue.clone(), Arc::new(Metrics::new())));
    let now = f.queue.now();
    let viewer = create_key(&f.store, "viewer", &[Cap::View].into_iter().collect(), now).await.unwrap();
    let merch = create_key(&f.store, "merch", &[Cap::View, Cap::MapSkus].into_iter().collect(), now).await.unwrap();

    let (status, list) = api::call(&app, &viewer, "GET", "/api/v1/skus/unmapped", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[0]["sku"], "API-MAP");
    let mut waiting: Vec<u64> = list[0]["order_ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    waiting.sort();
    assert_eq!(waiting, orders);
    // What they are worth, to the cent, as WooCommerce totals them.
    assert_eq!(list[0]["money_waiting"], json!([{ "currency": "USD", "amount": worth.to_string() }]));

    let body = json!({ "netsuite_item_id": item });
    let (status, _) = api::call(&app, &viewer, "PUT", "/api/v1/skus/API-MAP/mapping", Some(body.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "view may not map");
    let (status, bad) =
        api::call(&app, &merch, "PUT", "/api/v1/skus/API-MAP/mapping", Some(json!({ "netsuite_item_id": "Mug" })))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad["error"]["message"].as_str().unwrap().contains("internal id"), "{bad}");
    // Found by schemathesis: a blank SKU (here a no-break space) was blamed on the item id.
    let (status, bad) = api::call(&app, &merch, "PUT", "/api/v1/skus/%C2%A0/mapping", Some(body.clone())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad["error"]["message"].as_str().unwrap().contains("SKU in the path"), "{bad}");
    let (status, saved) = api::call(&app, &merch, "PUT", "/api/v1/skus/API-MAP/mapping", Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["orders_released"], 3);
    f.settle(SETTLE).await;
    for id in &orders {
        assert!(f.sales_order(*id).is_some(), "order {id} posted after the mapping");
    }
    let (_, list) = api::call(&app, &viewer, "GET", "/api/v1/skus/unmapped", None).await;
    assert_eq!(list, json!([]));

    let (status, removed) = api::call(&app, &merch, "DELETE", "/api/v1/skus/API-MAP/mapping", None).await;
    assert_eq!((status, removed["removed"].clone()), (StatusCode::OK, json!(true)));
    let (status, _) = api::call(&app, &merch, "DELETE", "/api/v1/skus/API-MAP/mapping", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, log) = api::call(&app, &viewer, "GET", "/api/v1/audit?entity=sku:API-MAP", None).await;
    assert_eq!(status, StatusCode::OK);
    let actions: Vec<(&str, &str)> =
        log.as_array().unwrap().iter().map(|e| (e["action"].as_str().unwrap(), e["who"].as_str().unwrap())).collect();
    assert_eq!(actions, vec![("sku_mapping.remove", "key:merch"), ("sku_mapping.save", "key:merch")]);
    assert_eq!(log[1]["after"]["orders_released"], 3);
    assert_eq!(log[0]["before"]["netsuite_item_id"].as_str(), Some(item.as_str()));
    let (status, _) = api::call(&app, &viewer, "GET", "/api/v1/audit", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an entity is required");
}

/// The item index: refreshed from NetSuite by deltas, searched by name, display name or UPC
/// without a NetSuite request, and an item that appears with a waiting SKU's name releases the
/// orders by itself.
async fn the_item_index_finds_items_and_a_new_item_releases_the_orders_waiting_for_it(b: Backend) {
    use wns::sync::items::{ItemIndex, search};
    use wns_sim::netsuite::SeedItem;
    let f = support::flow(b, |_, _| {}).await;
    f.ns.sim.seed_item(SeedItem {
        display_name: "Enamel mug, red".into(),
        upc: "0123456789012".into(),
        ..SeedItem::new("MUG-RED")
    });
    f.ns.sim.seed_item(SeedItem { display_name: "Old mug".into(), is_inactive: true, ..SeedItem::new("MUG-OLD") });
    for name in ["A-MUG-HOLDER", "MUG-BLUE", "MUG"] {
        f.ns.sim.seed_item(SeedItem::new(name));
    }
    let (late, _) = f.product("LATE-ITEM", Decimal::new(900, 2), false);
    let order = f
        .woo
        .sim
        .checkout(Checkout::guest(Address { email: "l@example.com".into(), ..Address::us_ca() }).line(late, 1))
        .unwrap();
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    assert!(f.sales_order(order.id).is_none(), "blocked: no item LATE-ITEM yet");

    let index = ItemIndex::new(f.client.clone(), f.queue.clone());
    let first = index.refresh().await.unwrap();
    assert!(first.items_read >= 2 && first.orders_released == 0, "{first:?}");
    let names = |hits: Vec<wns::sync::items::ItemHit>| hits.into_iter().map(|h| h.itemid).collect::<Vec<_>>();
    assert_eq!(names(search(&f.store, "enamel", 20).await.unwrap()), vec!["MUG-RED"]);
    assert_eq!(names(search(&f.store, "0123456789012", 20).await.unwrap()), vec!["MUG-RED"], "by UPC");
    let mugs = names(search(&f.store, "mug", 20).await.unwrap());
    assert!(mugs.iter().all(|n| n != "MUG-OLD"), "inactive items are not offered");
    assert_eq!(mugs[..3], ["MUG", "MUG-BLUE", "MUG-RED"], "the exact name, then names that start with it: {mugs:?}");
    assert!(mugs[3..].contains(&"A-MUG-HOLDER".to_string()), "then names that contain it: {mugs:?}");
    let requests = f.ns.sim.counters().requests;
    let app = router(AppState::new(f.queue.clone(), Arc::new(Metrics::new())));
    let key = create_key(&f.store, "v", &[Cap::View].into_iter().collect(), f.queue.now()).await.unwrap();
    let (status, hits) = api::call(&app, &key, "GET", "/api/v1/items/search?q=Mug-R", None).await;
    assert_eq!((status, hits[0]["itemid"].clone()), (StatusCode::OK, json!("MUG-RED")));
    assert_eq!(f.ns.sim.counters().requests, requests, "searching costs NetSuite nothing");

    // Someone creates the missing item in NetSuite: the next refresh releases the order.
    // Ten minutes later in NetSuite, beyond the refresh's two-minute overlap.
    f.ns.sim.advance_clock(Duration::from_secs(600));
    let item = f.ns.sim.seed_item(SeedItem::new("LATE-ITEM"));
    let next = index.refresh().await.unwrap();
    assert_eq!((next.skus_found.clone(), next.orders_released), (vec!["LATE-ITEM".to_string()], 1), "{next:?}");
    // The watermark is NetSuite's newest time now: the next read is the overlap, not everything.
    let third = index.refresh().await.unwrap();
    assert_eq!(third.items_read, 1, "a delta, not a full read: {third:?}");
    f.settle(SETTLE).await;
    let so = f.sales_order(order.id).expect("posted once the item existed");
    assert_eq!(so["item"]["items"][0]["item"]["id"].as_str(), Some(item.as_str()));
}

on_both_databases!(
    a_saved_mapping_releases_the_orders_waiting_for_the_sku_and_they_post,
    the_item_index_finds_items_and_a_new_item_releases_the_orders_waiting_for_it,
);
