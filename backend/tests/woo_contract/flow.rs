//! The whole flow against the real store only: a REST order's real webhook reaches wns and becomes
//! a sales order in the NetSuite simulator, and a NetSuite stock change reaches the real product.
//! It uses the store's seeded `WNS-MUG`, which the simulator does not have.

use std::sync::Arc;

use crate::target::{ACTION_SCHEDULER, Target, WEBHOOK_SECRET, real_store_info};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a real store: cargo xtask test-php"]
async fn a_real_order_reaches_netsuite_through_its_webhook_and_netsuite_stock_reaches_the_real_product() {
    use std::time::{Duration, Instant};
    use wns::{
        api::{AppState, router},
        clock,
        metrics::Metrics,
        queue::{Handlers, Queue, RetryPolicy, Worker, WorkerOptions},
        store::Backend,
        sync::{
            SyncSettings,
            inventory::{StockSettings, StockSync},
            order_flow::OrderFlow,
            sales_order::OrderMapping,
        },
        testing::TestDb,
    };
    use wns_sim::netsuite::{NetSuiteConfig, NetSuiteSim, SeedItem};

    wns::testing::init_logs();
    let _queue = ACTION_SCHEDULER.lock().await;
    let started = Instant::now();
    let t = Target::real();
    let info = real_store_info();
    let woo = t.client();
    // wns: SQLite, its queue, the NetSuite simulator with the store's mug as an item.
    let db = TestDb::new(Backend::Sqlite).await;
    let queue = Queue::new(db.store(8).await, clock::system(), RetryPolicy::default());
    let ns = NetSuiteSim::spawn(NetSuiteConfig::for_tests()).await.unwrap();
    let typed = |name: &str, t: &str| ns.sim.seed_item(SeedItem { item_type: t.into(), ..SeedItem::new(name) });
    let (shipping_item, fee_item) = (typed("Shipping", "OthCharge"), typed("Fee", "OthCharge"));
    let east = ns.sim.seed_location("East");
    let mug_item = ns.sim.seed_item(SeedItem::new("WNS-MUG"));
    ns.sim.set_stock(&mug_item, &east, 40, 40);
    let mut settings = SyncSettings::new(OrderMapping::new("shop", "1", &shipping_item, &fee_item));
    settings.routing.default_location = Some(east.clone());
    let client = crate::support::netsuite_client(&ns.base_url, 5, 10);
    let flow = OrderFlow::new(client.clone(), woo.clone(), queue.clone(), settings);
    let stock = StockSync::new(client, woo.clone(), queue.clone(), StockSettings::new(vec![east.clone()]));
    let opts = WorkerOptions { poll: Duration::from_millis(50), ..WorkerOptions::new("real-store-flow") };
    let worker = Worker::new(queue.clone(), stock.register(flow.register(Handlers::new())), opts);

    // wns's HTTP listener with the webhook receiver, and the store's webhook pointing at it.
    let state = AppState::new(queue.clone(), Arc::new(Metrics::new())).with_webhook_secret(WEBHOOK_SECRET.into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/woocommerce", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(state)).await.unwrap() });
    let hook = woo.create_webhook("order.created", &url).await.unwrap();
    assert_eq!(hook.status, "active", "the creation ping was answered: {hook:?}");

    // A real order, placed through the store's REST API.
    let mug = info["products"]["WNS-MUG"].as_u64().unwrap();
    let order = t.rest(
        reqwest::Method::POST,
        "orders",
        Some(serde_json::json!({
            "status": "processing",
            "payment_method": "bacs",
            "payment_method_title": "Bank transfer",
            "billing": {
                "first_name": "Ada", "last_name": "Lovelace", "email": format!("ada-{}@example.com", uuid::Uuid::new_v4()),
                "address_1": "1 Main St", "city": "San Francisco", "state": "CA", "postcode": "94103", "country": "US"
            },
            "shipping": {
                "first_name": "Ada", "last_name": "Lovelace",
                "address_1": "1 Main St", "city": "San Francisco", "state": "CA", "postcode": "94103", "country": "US"
            },
            "line_items": [{ "product_id": mug, "quantity": 2 }]
        })),
    )
    .await;
    let order_id = order["id"].as_u64().unwrap();

    // The store's queue delivers the webhook, signed, to wns; wns's worker posts the order.
    t.deliver().await;
    let external_id = format!("wc-shop-order-{order_id}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let sales_order = loop {
        worker.drain().await.unwrap();
        if let Some(so) = ns.sim.find_by_external_id("salesOrder", &external_id) {
            break so;
        }
        assert!(Instant::now() < deadline, "no sales order {external_id} in NetSuite within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let lines = sales_order["item"]["items"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{sales_order}");
    assert_eq!((lines[0]["item"]["id"].as_str(), lines[0]["quantity"].as_i64()), (Some(mug_item.as_str()), Some(2)));

    // NetSuite's stock changes (the posted order is already in its figure); one stock cycle
    // writes it to the real product.
    let before = woo.product(mug).await.unwrap().stock_quantity.unwrap();
    let target = before + 7;
    ns.sim.advance_clock(Duration::from_secs(1));
    ns.sim.set_stock(&mug_item, &east, target, target);
    let report = stock.cycle(true).await.unwrap();
    let after = woo.product(mug).await.unwrap().stock_quantity;
    // Cleaning up first, so that a run again on the same store starts alike: the order cancelled
    // (a mug order in processing that this run's NetSuite never saw would count as in flight),
    // the webhook deleted.
    t.rest(reqwest::Method::PUT, &format!("orders/{order_id}"), Some(serde_json::json!({ "status": "cancelled" })))
        .await;
    t.delete_webhook(hook.id).await;
    assert_eq!(
        after,
        Some(target),
        "NetSuite's available {target} (the order already in it) in the store (was {before}): {report:?}"
    );
    eprintln!("the whole flow against the real store took {:?}", started.elapsed());
}
