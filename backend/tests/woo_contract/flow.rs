//! The whole flow against the real store only: a REST order's real webhook reaches wns and becomes
//! a sales order in the NetSuite simulator, and a NetSuite stock change reaches the real product.
//! It uses the store's seeded `WNS-MUG`, which the simulator does not have.

use std::time::{Duration, Instant};

use wns::api::auth::ApiSettings;

use crate::{
    target::{ACTION_SCHEDULER, Target},
    wns_side::Wns,
};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a real store: cargo xtask test-php"]
async fn a_real_order_reaches_netsuite_through_its_webhook_and_netsuite_stock_reaches_the_real_product() {
    wns::testing::init_logs();
    let _queue = ACTION_SCHEDULER.lock().await;
    let started = Instant::now();
    let t = Target::real();
    let info = t.info();
    let woo = t.client();
    // wns with the store's mug as a NetSuite item, its webhook receiver the store's webhook's URL.
    let wns = Wns::start(&woo, &["WNS-MUG"], ApiSettings::default()).await;
    let mug_item = wns.items["WNS-MUG"].clone();
    let hook = woo.create_webhook("order.created", &wns.webhook_url()).await.unwrap();
    assert_eq!(hook.status, "active", "the creation ping was answered: {hook:?}");

    // A real order, placed through the store's REST API.
    let mug = info["products"]["WNS-MUG"].as_u64().unwrap();
    let order_id = t.order(&[(mug, 2)]).await;

    // The store's queue delivers the webhook, signed, to wns; wns's worker posts the order.
    t.deliver().await;
    let external_id = format!("wc-shop-order-{order_id}");
    wns.work_until("a sales order in NetSuite", |ns| ns.sim.find_by_external_id("salesOrder", &external_id).is_some())
        .await;
    let sales_order = wns.ns.sim.find_by_external_id("salesOrder", &external_id).unwrap();
    let lines = sales_order["item"]["items"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{sales_order}");
    assert_eq!((lines[0]["item"]["id"].as_str(), lines[0]["quantity"].as_i64()), (Some(mug_item.as_str()), Some(2)));

    // NetSuite's stock changes (the posted order is already in its figure); one stock cycle
    // writes it to the real product.
    let before = woo.product(mug).await.unwrap().stock_quantity.unwrap();
    let target = before + 7;
    wns.ns.sim.advance_clock(Duration::from_secs(1));
    wns.ns.sim.set_stock(&mug_item, &wns.east, target, target);
    let report = wns.stock.cycle(true).await.unwrap();
    let after = woo.product(mug).await.unwrap().stock_quantity;
    // Cleaning up first, so that a run again on the same store starts alike.
    t.cancel(order_id).await;
    t.delete_webhook(hook.id).await;
    assert_eq!(
        after,
        Some(target),
        "NetSuite's available {target} (the order already in it) in the store (was {before}): {report:?}"
    );
    eprintln!("the whole flow against the real store took {:?}", started.elapsed());
}
