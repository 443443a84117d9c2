//! wns's WooCommerce side against the WooCommerce simulator, on SQLite and PostgreSQL: webhooks
//! really delivered over HTTP to the receiver, lost on purpose, caught up by the sweep; and a
//! webhook WooCommerce disabled after failed deliveries, re-enabled and reported.

#[macro_use]
#[path = "support/both.rs"]
mod both;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use rust_decimal::Decimal;
use sqlx::Row;
use wns::{
    api::{AppState, router},
    clock,
    metrics::Metrics,
    monitor::exceptions::{self},
    queue::{Queue, RetryPolicy},
    store::{Backend, Store},
    testing::TestDb,
    woo::{
        WooClient, WooSettings, health,
        sweep::{SweepOptions, sweep},
    },
};
use wns_sim::woo::{Address, Checkout, CheckoutLine, NewProduct, RunningWoo, WooConfig, WooSim};

const SECRET: &str = "wns-test-webhook-secret-1234";

struct Harness {
    _db: TestDb,
    store: Store,
    queue: Queue,
    woo: RunningWoo,
    /// Where the receiver listens.
    public_url: String,
    _server: tokio::task::JoinHandle<()>,
}

async fn harness(backend: Backend, loss: f64) -> Harness {
    wns::testing::init_logs();
    let db = TestDb::new(backend).await;
    let store = db.store(8).await;
    let queue = Queue::new(store.clone(), clock::system(), RetryPolicy::default());
    let state = AppState::new(queue.clone(), Arc::new(Metrics::new())).with_webhook_secret(SECRET.into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public_url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, router(state)).await.unwrap();
    });
    let mut cfg = WooConfig::for_tests();
    cfg.webhook_delivery.loss_rate = loss;
    let woo = WooSim::spawn(cfg).await.unwrap();
    Harness { _db: db, store, queue, woo, public_url, _server: server }
}

impl Harness {
    fn settings(&self, public_url: &str) -> WooSettings {
        WooSettings {
            base_url: self.woo.base_url.clone(),
            consumer_key: wns_sim::woo::TEST_CONSUMER_KEY.into(),
            consumer_secret: wns_sim::woo::TEST_CONSUMER_SECRET.into(),
            webhook_secret: SECRET.into(),
            webhook_max_body_bytes: 2 * 1024 * 1024,
            public_url: public_url.into(),
            sweep_every_secs: 300,
            webhook_check_every_secs: 300,
            ca_file: None,
        }
    }

    fn product(&self) -> u64 {
        self.woo.sim.add_product(NewProduct {
            name: "Enamel Mug".into(),
            sku: "WNS-MUG".into(),
            regular_price: Decimal::new(1250, 2),
            sale_price: None,
            manage_stock: false,
            stock_quantity: None,
            backorders: "no".into(),
        })
    }

    fn checkout(&self, product: u64, n: usize) {
        let mut billing = Address::us_ca();
        billing.email = format!("buyer{n}@example.org");
        let mut c = Checkout::guest(billing);
        c.lines.push(CheckoutLine { product_id: product, variation_id: 0, quantity: 1 });
        self.woo.sim.checkout(c).expect("checkout");
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query(sql).fetch_one(self.store.pool()).await.unwrap().try_get(0).unwrap()
    }
}

/// Polls the simulator until `cond` holds; the bound only stops a broken run from hanging.
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(120), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn with_20_percent_webhook_loss_every_order_reaches_the_queue_through_the_sweep(backend: Backend) {
    let h = harness(backend, 0.2).await;
    // One webhook, so each order has exactly one delivery: delivered, or dropped by the fault.
    let url = format!("{}/webhooks/woocommerce", h.public_url);
    h.woo.sim.add_webhook("order.created", &url, SECRET);
    let product = h.product();
    let orders = 1000;
    for n in 0..orders {
        h.checkout(product, n);
    }
    until("every delivery made or dropped", || {
        let c = h.woo.sim.counters();
        c.webhooks_delivered + c.webhooks_dropped + c.webhooks_failed >= orders as u64
    })
    .await;
    let c = h.woo.sim.counters();
    assert_eq!(c.webhooks_failed, 0, "the receiver accepted every delivery it got");
    assert!(c.webhooks_dropped > 100 && c.webhooks_dropped < 300, "about 20 % lost: {}", c.webhooks_dropped);

    let client = WooClient::new(&h.settings(&h.public_url)).unwrap();
    let opts = SweepOptions { grace: Duration::ZERO, ..SweepOptions::default() };
    let report = sweep(&client, &h.queue, None, &opts).await.unwrap();
    assert_eq!(report.missed as u64, c.webhooks_dropped, "misses = the simulator's own count of lost deliveries");
    assert_eq!(
        h.count("select count(distinct entity_key) from jobs where kind = 'woo.order'").await,
        orders as i64,
        "every order is queued"
    );
    let misses = exceptions::open(&h.store, Some(exceptions::ExceptionKind::WebhookMiss)).await.unwrap();
    assert_eq!(misses.len() as u64, c.webhooks_dropped);
    assert!(misses.iter().all(|e| e.owner == "ecommerce"));

    let again = sweep(&client, &h.queue, None, &opts).await.unwrap();
    assert_eq!(again.missed, 0, "the overlap re-reads orders without counting them twice");
}

/// WooCommerce names a delivery `wp_hash(webhook id . current second)`: three checkouts within
/// one second reach wns under one delivery id, and each must become a job.
async fn three_orders_in_one_second_share_a_delivery_id_and_each_is_queued(backend: Backend) {
    let h = harness(backend, 0.0).await;
    let url = format!("{}/webhooks/woocommerce", h.public_url);
    h.woo.sim.add_webhook("order.created", &url, SECRET);
    let product = h.product();
    h.woo.sim.freeze_clock(Some(chrono::Utc::now()));
    for n in 0..3 {
        h.checkout(product, n);
    }
    assert!(h.woo.sim.settle(Duration::from_secs(30)).await);
    let ids: Vec<String> = sqlx::query("select delivery_id from webhook_deliveries where status = 'accepted'")
        .fetch_all(h.store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get(0).unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "every delivery is kept as accepted");
    assert!(ids.iter().all(|id| id == &ids[0] && id.len() == 32), "one shared 32-hex id: {ids:?}");
    assert_eq!(h.count("select count(distinct entity_key) from jobs where kind = 'woo.order'").await, 3);
    assert_eq!(h.count("select count(distinct wc_order_id) from order_units").await, 3, "each order's units in flight");
}

/// The sweep's list is ordered by modification time and orders move in it while it is read
/// (wns's own note on an order moves it to the end with HPOS): paging by key lists every order.
async fn an_order_modified_while_the_sweep_pages_skips_no_other_order(backend: Backend) {
    let h = harness(backend, 0.0).await;
    let product = h.product();
    let start = chrono::Utc::now() - chrono::Duration::hours(1);
    h.woo.sim.freeze_clock(Some(start));
    let mut ids = Vec::new();
    for n in 0..250 {
        h.checkout(product, n);
        h.woo.sim.advance_clock(Duration::from_secs(1));
    }
    ids.extend(h.woo.sim.order_ids());
    let client = WooClient::new(&h.settings(&h.public_url)).unwrap();
    let mut pages = wns::woo::sweep::ModifiedOrders::new(start - chrono::Duration::seconds(10));
    let mut listed: Vec<u64> = pages.next(&client).await.unwrap().unwrap().iter().map(|o| o.id).collect();
    assert_eq!(listed.len(), 100);
    // wns writes its note on an order of the first page: it moves to the end of the list.
    h.woo.sim.update_order_status(listed[4], "completed").unwrap();
    while let Some(orders) = pages.next(&client).await.unwrap() {
        listed.extend(orders.iter().map(|o| o.id));
    }
    let distinct: std::collections::BTreeSet<u64> = listed.iter().copied().collect();
    assert_eq!(distinct.len(), ids.len(), "every order listed; positional pages skip one here");
    assert_eq!(listed.len(), ids.len() + 1, "the moved order is listed again at its new time, nothing else twice");
}

async fn a_webhook_woocommerce_disabled_is_reenabled_and_reported(backend: Backend) {
    let h = harness(backend, 0.0).await;
    // wns's address as the store knows it is wrong for a while: every delivery fails.
    let unreachable = "http://127.0.0.1:9";
    let client = WooClient::new(&h.settings(unreachable)).unwrap();
    let created =
        health::ensure_webhooks(&client, &h.store, &format!("{unreachable}/webhooks/woocommerce"), 0).await.unwrap();
    assert_eq!(created.created.len(), health::TOPICS.len());
    let product = h.product();
    for n in 0..10 {
        h.checkout(product, n);
    }
    until("WooCommerce disables a webhook", || h.woo.sim.counters().webhooks_disabled > 0).await;

    let report =
        health::ensure_webhooks(&client, &h.store, &format!("{unreachable}/webhooks/woocommerce"), 1).await.unwrap();
    assert!(!report.reenabled.is_empty(), "{report:?}");
    for (id, _) in &report.reenabled {
        assert_eq!(h.woo.sim.webhook_status(*id).as_deref(), Some("active"));
    }
    let open = exceptions::open(&h.store, Some(exceptions::ExceptionKind::WebhookDisabled)).await.unwrap();
    assert_eq!(open.len(), report.reenabled.len());
    assert!(open[0].message.contains("re-enabled"), "{}", open[0].message);
    let healthy =
        health::ensure_webhooks(&client, &h.store, &format!("{unreachable}/webhooks/woocommerce"), 2).await.unwrap();
    assert!(healthy.created.is_empty() && healthy.reenabled.is_empty(), "{healthy:?}");
}

#[tokio::test]
async fn the_client_finds_products_batches_stock_reads_refunds_payouts_and_writes_tracking() {
    let h = harness(Backend::Sqlite, 0.0).await;
    let product = h.product();
    let client = WooClient::new(&h.settings(&h.public_url)).unwrap();

    let found = client.products_by_sku("WNS-MUG").await.unwrap();
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), vec![product]);
    assert!(client.products_by_sku("NO-SUCH-SKU").await.unwrap().is_empty());

    let updates = vec![
        serde_json::json!({ "id": product, "manage_stock": true, "stock_quantity": 17 }),
        serde_json::json!({ "id": 999_999, "manage_stock": true, "stock_quantity": 1 }),
    ];
    let items = client.batch_update(None, &updates).await.unwrap();
    assert_eq!(items[0].result.as_ref().unwrap().stock_quantity, Some(17));
    assert!(items[1].result.is_err(), "the bad item fails alone");
    assert_eq!(h.woo.sim.stock_of(product), Some(17));
    let too_many: Vec<_> = (0..101).map(|i| serde_json::json!({ "id": i })).collect();
    assert!(client.batch_update(None, &too_many).await.is_err(), "over 100 is refused before sending");

    h.checkout(product, 1);
    let order = h.woo.sim.order_ids()[0];
    h.woo.sim.refund(order, Some(Decimal::new(500, 2)), &[], "damaged").unwrap();
    let refunds = client.refunds(order).await.unwrap();
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0].amount, Decimal::new(500, 2));

    let payout = h.woo.sim.create_payout(wns_sim::woo::PayoutSpec::default()).unwrap();
    let deposits = client.deposits(1).await.unwrap();
    let deposit = deposits.iter().find(|d| d.id == payout).expect("the payout is listed");
    let txns = client.deposit_transactions(&deposit.id, 1).await.unwrap();
    let net: i64 = txns.iter().map(|t| t.net).sum();
    assert_eq!(net, deposit.amount, "a deposit is the sum of its transactions, in cents");

    client.set_order_status(order, "completed").await.unwrap();
    client.add_order_note(order, "Posted to NetSuite as SO1001", false).await.unwrap();
    assert_eq!(h.woo.sim.order(order).unwrap()["status"], "completed");

    let item = wns::woo::model::TrackingItem {
        tracking_provider: "UPS".into(),
        custom_tracking_provider: String::new(),
        custom_tracking_link: String::new(),
        tracking_number: "1Z999AA10123456784".into(),
        date_shipped: "1764201600".into(),
        tracking_id: "wns-fulfilment-101".into(),
    };
    client.set_tracking(order, std::slice::from_ref(&item)).await.unwrap();
    client.set_tracking(order, std::slice::from_ref(&item)).await.unwrap();
    let meta = h.woo.sim.order(order).unwrap()["meta_data"].clone();
    let tracking: Vec<_> =
        meta.as_array().unwrap().iter().filter(|m| m["key"] == "_wc_shipment_tracking_items").collect();
    assert_eq!(tracking.len(), 1, "written twice, stored once");
    assert_eq!(tracking[0]["value"][0]["tracking_number"], "1Z999AA10123456784");
}

/// A delivery that fails the signature check is anyone's to forge: it is kept, raises one
/// counted exception, and makes wns write nothing to WooCommerce. A webhook whose secret was
/// changed by hand is fixed by deleting it: wns creates it again with its own secret.
async fn unsigned_deliveries_cause_no_write_and_a_deleted_webhook_comes_back_with_wns_secret(backend: Backend) {
    let h = harness(backend, 0.0).await;
    let url = format!("{}/webhooks/woocommerce", h.public_url);
    let client = WooClient::new(&h.settings(&h.public_url)).unwrap();
    health::ensure_webhooks(&client, &h.store, &url, 0).await.unwrap();
    // Someone changed the secret of wns's order.created webhook by hand.
    let hooks = client.webhooks().await.unwrap();
    let created = hooks.iter().find(|w| w.topic == "order.created").unwrap().id;
    h.woo.sim.set_webhook_secret(created, "a-secret-typed-by-hand").unwrap();
    let product = h.product();
    h.checkout(product, 1);
    assert!(h.woo.sim.settle(Duration::from_secs(30)).await);
    assert!(h.count("select count(*) from webhook_deliveries where status = 'quarantined'").await > 0);
    let accepted_from =
        |id: u64| format!("select count(*) from webhook_deliveries where status = 'accepted' and webhook_id = '{id}'");
    assert_eq!(h.count(&accepted_from(created)).await, 0, "nothing unsigned is processed");
    let open = exceptions::open(&h.store, Some(exceptions::ExceptionKind::WebhookUnsigned)).await.unwrap();
    assert_eq!(open.len(), 1);
    assert!(open[0].message.contains(&format!("claiming webhook {created}")), "{}", open[0].message);

    let writes_before = writes(&h.woo.sim);
    let report = health::ensure_webhooks(&client, &h.store, &url, 1).await.unwrap();
    assert!(report.created.is_empty() && report.reenabled.is_empty(), "{report:?}");
    assert_eq!(writes(&h.woo.sim), writes_before, "no write to WooCommerce because of unsigned deliveries");

    // The fix the exception names: delete the webhook; wns creates it again with its secret.
    h.woo.sim.delete_webhook(created).unwrap();
    let report = health::ensure_webhooks(&client, &h.store, &url, 2).await.unwrap();
    assert_eq!(report.created, vec!["order.created".to_string()]);
    h.checkout(product, 2);
    assert!(h.woo.sim.settle(Duration::from_secs(30)).await);
    let recreated = client.webhooks().await.unwrap().iter().find(|w| w.topic == "order.created").unwrap().id;
    assert_eq!(h.count(&accepted_from(recreated)).await, 1, "the new webhook's delivery is signed with wns's secret");
}

fn writes(sim: &WooSim) -> u64 {
    let c = sim.counters();
    c.requests_by_route.iter().filter(|(route, _)| !route.starts_with("GET")).map(|(_, n)| *n).sum()
}

/// A re-enabled webhook keeps WooCommerce's failure count until a delivery succeeds: its
/// exception stays open and the webhook watched until wns accepts a delivery from it.
async fn a_reenabled_webhook_is_watched_until_a_delivery_from_it_arrives(backend: Backend) {
    let h = harness(backend, 0.0).await;
    let url = format!("{}/webhooks/woocommerce", h.public_url);
    let client = WooClient::new(&h.settings(&h.public_url)).unwrap();
    health::ensure_webhooks(&client, &h.store, &url, 0).await.unwrap();
    let id = client.webhooks().await.unwrap().iter().find(|w| w.topic == "order.created").unwrap().id;
    h.woo.sim.set_webhook_status(id, "disabled").unwrap();
    let report = health::ensure_webhooks(&client, &h.store, &url, 1_000).await.unwrap();
    assert_eq!(report.reenabled.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![id]);
    let open = exceptions::open(&h.store, Some(exceptions::ExceptionKind::WebhookDisabled)).await.unwrap();
    assert!(open[0].message.contains("single further failure disables it again"), "{}", open[0].message);
    let report = health::ensure_webhooks(&client, &h.store, &url, 2_000).await.unwrap();
    assert!(report.watching.contains(&id), "no delivery yet: {report:?}");
    assert_eq!(exceptions::open(&h.store, Some(exceptions::ExceptionKind::WebhookDisabled)).await.unwrap().len(), 1);

    h.checkout(h.product(), 1);
    assert!(h.woo.sim.settle(Duration::from_secs(30)).await);
    let report = health::ensure_webhooks(&client, &h.store, &url, h.queue.now()).await.unwrap();
    assert!(report.watching.is_empty(), "{report:?}");
    assert!(exceptions::open(&h.store, Some(exceptions::ExceptionKind::WebhookDisabled)).await.unwrap().is_empty());
}

on_both_databases!(
    with_20_percent_webhook_loss_every_order_reaches_the_queue_through_the_sweep,
    three_orders_in_one_second_share_a_delivery_id_and_each_is_queued,
    an_order_modified_while_the_sweep_pages_skips_no_other_order,
    a_webhook_woocommerce_disabled_is_reenabled_and_reported,
    unsigned_deliveries_cause_no_write_and_a_deleted_webhook_comes_back_with_wns_secret,
    a_reenabled_webhook_is_watched_until_a_delivery_from_it_arrives,
);
