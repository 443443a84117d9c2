//! Exceptions that manage themselves, through both simulators on SQLite and PostgreSQL: each kind
//! closes when its cause is gone, and the row says how it ended (`exceptions.resolution`).

#[macro_use]
#[path = "support/both.rs"]
mod both;

#[path = "support/flow.rs"]
mod support;

use std::time::Duration;

use rust_decimal::Decimal;
use wns::{
    clock::{Clock, ManualClock, SystemClock},
    monitor::exceptions::{self, Exception, ExceptionKind},
    queue::{Queue, RetryPolicy},
    store::{Backend, Store},
    sync::{
        inventory::{DriftCheck, StockSettings, StockSync, WriteMode},
        sales_order::save_mapping,
    },
    woo::webhook::{DeliveryHeaders, Receiver, Verdict},
};
use wns_api_types::JobState;
use wns_sim::{
    netsuite::SeedItem,
    woo::{Address, Checkout, NewProduct},
};

const SETTLE: Duration = Duration::from_secs(20);

async fn is_open(store: &Store, kind: ExceptionKind, entity: &str) -> bool {
    exceptions::open(store, Some(kind)).await.unwrap().iter().any(|e| e.entity_key == entity)
}

/// How the latest closed exception of `kind` on `entity` ended.
async fn ended(store: &Store, kind: ExceptionKind, entity: &str) -> Option<String> {
    exceptions::resolution(store, kind, entity).await.unwrap()
}

fn guest(email: &str) -> Address {
    Address { email: email.into(), ..Address::us_ca() }
}

/// An order of one unit of product `p`, run by the worker as its webhook would have it.
async fn order_of(f: &support::Flow, p: u64, email: &str) -> u64 {
    let order = f.woo.sim.checkout(Checkout::guest(guest(email)).line(p, 1)).unwrap();
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    order.id
}

async fn an_unmapped_sku_exception_resolves_itself_when_the_sku_is_mapped_and_the_order_posts(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let price = Decimal::new(700, 2);

    // NetSuite gets an item named after the SKU (no mapping saved): the order's next run finds
    // it, posts, and the exception says the SKU was mapped.
    let (late, _) = f.product("NEW-SKU-1", price, false);
    let first = order_of(&f, late, "a@example.com").await;
    assert!(f.sales_order(first).is_none());
    assert!(is_open(&f.store, ExceptionKind::UnmappedSku, "sku:NEW-SKU-1").await, "blocked on the SKU");
    f.ns.sim.seed_item(SeedItem::new("NEW-SKU-1"));
    f.enqueue(first).await;
    f.settle(SETTLE).await;
    assert!(f.sales_order(first).is_some(), "posted once NetSuite has the item");
    assert!(!is_open(&f.store, ExceptionKind::UnmappedSku, "sku:NEW-SKU-1").await, "closed by itself");
    assert_eq!(ended(&f.store, ExceptionKind::UnmappedSku, "sku:NEW-SKU-1").await.as_deref(), Some("sku_mapped"));

    // A person saves a mapping in the SKU mapping screen.
    let (odd, _) = f.product("NEW-SKU-2", price, false);
    let item = f.ns.sim.seed_item(SeedItem::new("Oddity, large"));
    let second = order_of(&f, odd, "b@example.com").await;
    assert!(is_open(&f.store, ExceptionKind::UnmappedSku, "sku:NEW-SKU-2").await);
    assert_eq!(save_mapping(&f.queue, "NEW-SKU-2", &item, "merch@shop").await.unwrap(), 1);
    assert_eq!(ended(&f.store, ExceptionKind::UnmappedSku, "sku:NEW-SKU-2").await.as_deref(), Some("sku_mapped"));
    f.settle(SETTLE).await;
    assert!(f.sales_order(second).is_some());

    // A mapping that reached `sku_map` some other way (an import, or an order's run that raced
    // the saved mapping and raised the exception again): the order that posts with the SKU
    // closes it.
    let (third_p, _) = f.product("NEW-SKU-3", price, false);
    let third_item = f.ns.sim.seed_item(SeedItem::new("Third thing"));
    let third = order_of(&f, third_p, "c@example.com").await;
    assert!(is_open(&f.store, ExceptionKind::UnmappedSku, "sku:NEW-SKU-3").await);
    sqlx::query("insert into sku_map (sku, netsuite_item_id, source, updated_at) values ($1, $2, 'import', $3)")
        .bind("NEW-SKU-3")
        .bind(&third_item)
        .bind(f.queue.now())
        .execute(f.store.pool())
        .await
        .unwrap();
    f.enqueue(third).await;
    f.settle(SETTLE).await;
    assert!(f.sales_order(third).is_some());
    assert!(!is_open(&f.store, ExceptionKind::UnmappedSku, "sku:NEW-SKU-3").await, "the posted order closed it");
    assert_eq!(ended(&f.store, ExceptionKind::UnmappedSku, "sku:NEW-SKU-3").await.as_deref(), Some("order_posted"));
    assert!(exceptions::open(&f.store, None).await.unwrap().is_empty(), "nothing left open");
}

async fn what_blocked_an_order_resolves_itself_when_the_order_posts(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    // NetSuite refused the login a while ago; any order that posts since proves it works.
    Exception::new(ExceptionKind::NetSuiteLogin, "netsuite", "refused", "fix the credentials")
        .raise(&f.store, f.queue.now())
        .await
        .unwrap();

    // An item NetSuite does not sell in the web store's subsidiary, fixed in NetSuite; the
    // order's next run (its webhook here, the recheck in production) posts it.
    let item = f.ns.sim.seed_item(SeedItem { subsidiaries: vec!["2".into()], ..SeedItem::new("UK-ONLY") });
    let (uk, _) = f.product("UK-ONLY", Decimal::new(900, 2), false);
    let order = order_of(&f, uk, "sub@example.com").await;
    let entity = format!("item:{item}");
    assert!(is_open(&f.store, ExceptionKind::ItemNotSellable, &entity).await);
    // The sweep had found the order without a webhook (information only).
    Exception::new(ExceptionKind::WebhookMiss, format!("order:{order}"), "missed", "nothing to do")
        .raise(&f.store, f.queue.now())
        .await
        .unwrap();
    f.ns.sim.set_item_subsidiaries(&item, &["1", "2"]);
    f.enqueue(order).await;
    f.settle(SETTLE).await;
    assert!(f.sales_order(order).is_some());
    assert_eq!(ended(&f.store, ExceptionKind::ItemNotSellable, &entity).await.as_deref(), Some("order_posted"));
    let key = format!("order:{order}");
    assert_eq!(ended(&f.store, ExceptionKind::WebhookMiss, &key).await.as_deref(), Some("order_posted"));
    assert_eq!(ended(&f.store, ExceptionKind::NetSuiteLogin, "netsuite").await.as_deref(), Some("order_posted"));

    // Customer details NetSuite refuses, corrected by customer service.
    let (mug, _) = f.product("WNS-MUG", Decimal::new(1250, 2), true);
    let order = order_of(&f, mug, "jane doe@example.com").await;
    let key = format!("order:{order}");
    assert!(is_open(&f.store, ExceptionKind::CustomerRejected, &key).await);
    f.edit_order(order, serde_json::json!({ "billing": { "email": "jane.doe@example.com" } })).await;
    f.enqueue(order).await;
    f.settle(SETTLE).await;
    assert!(f.sales_order(order).is_some());
    assert_eq!(ended(&f.store, ExceptionKind::CustomerRejected, &key).await.as_deref(), Some("order_posted"));
    assert!(exceptions::open(&f.store, None).await.unwrap().is_empty(), "nothing left open");
}

async fn a_cancelled_order_closes_what_blocked_it_and_a_processed_one_closes_the_sweeps_miss(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    // A line without a SKU blocks the order; the shop cancels it instead of fixing the product.
    let (wrap, _) = f.product("", Decimal::new(300, 2), false);
    let order = order_of(&f, wrap, "gift@example.com").await;
    let key = format!("order:{order}");
    assert!(is_open(&f.store, ExceptionKind::MissingSku, &key).await);
    f.woo.sim.update_order_status(order, "cancelled").unwrap();
    f.enqueue(order).await;
    f.settle(SETTLE).await;
    assert!(!is_open(&f.store, ExceptionKind::MissingSku, &key).await, "nothing left to post");
    assert_eq!(ended(&f.store, ExceptionKind::MissingSku, &key).await.as_deref(), Some("order_cancelled"));

    // An order the sweep found, in a status wns does not sync: processed, so the miss closes.
    let (mug, _) = f.product("WNS-MUG", Decimal::new(1250, 2), true);
    let held = f.woo.sim.checkout(Checkout::guest(guest("held@example.com")).line(mug, 1)).unwrap();
    f.woo.sim.update_order_status(held.id, "on-hold").unwrap();
    let key = format!("order:{}", held.id);
    Exception::new(ExceptionKind::WebhookMiss, key.clone(), "missed", "nothing to do")
        .raise(&f.store, f.queue.now())
        .await
        .unwrap();
    f.enqueue(held.id).await;
    f.settle(SETTLE).await;
    assert!(f.sales_order(held.id).is_none(), "on-hold is not synced");
    assert_eq!(ended(&f.store, ExceptionKind::WebhookMiss, &key).await.as_deref(), Some("order_processed"));
    assert_eq!(f.queue.summary().await.unwrap().total(JobState::Blocked), 0);
}

/// wns's clock for the drift grace: it moves only when the test moves it.
fn wns_clock() -> ManualClock {
    ManualClock::new(SystemClock.now())
}

fn stock_on(f: &support::Flow, clock: &ManualClock, tweak: impl FnOnce(&mut StockSettings)) -> StockSync {
    let queue = Queue::new(f.store.clone(), std::sync::Arc::new(clock.clone()), RetryPolicy::default())
        .sharing_wake_with(&f.queue);
    let mut s = StockSettings::new(vec![f.locations[0].clone(), f.locations[1].clone()]);
    tweak(&mut s);
    StockSync::new(f.client.clone(), support::woo_client(&f.woo.base_url), queue, s)
}

/// Someone types 40 in wp-admin where wns's figure is 12: drift once the grace is over.
async fn drift(f: &support::Flow, s: &StockSync, clock: &ManualClock, product: u64) {
    f.woo.sim.set_stock(product, 40).unwrap();
    assert_eq!(s.check_drift(product).await.unwrap(), DriftCheck::Suspect(28));
    clock.advance(Duration::from_millis(1000));
    assert_eq!(s.check_drift(product).await.unwrap(), DriftCheck::Drift(28));
}

async fn a_stock_drift_exception_resolves_itself_when_woocommerce_shows_wns_figure_again(b: Backend) {
    for mode in [WriteMode::Absolute, WriteMode::Adjust] {
        let f = support::flow(b, |_, _| {}).await;
        let east = f.locations[0].clone();
        let sku = "ST-DRIFT-FIX";
        let entity = format!("sku:{sku}");
        let a = f.woo.sim.add_product(NewProduct::new(sku, sku, Decimal::new(1000, 2)).stock(0));
        let item = f.ns.sim.seed_item(SeedItem::new(sku));
        f.ns.sim.set_stock(&item, &east, 12, 12);
        let clock = wns_clock();
        let s = stock_on(&f, &clock, |s| {
            s.write = mode;
            s.drift_grace_secs = 1;
        });
        s.cycle(true).await.unwrap();
        assert_eq!(f.woo.sim.stock_of(a), Some(12), "{mode:?}");

        // Put back by hand, and no webhook reaches wns: the reconciliation sees wns's figure.
        drift(&f, &s, &clock, a).await;
        assert!(is_open(&f.store, ExceptionKind::StockDrift, &entity).await, "{mode:?}");
        f.woo.sim.set_stock(a, 12).unwrap();
        s.cycle(true).await.unwrap();
        assert!(!is_open(&f.store, ExceptionKind::StockDrift, &entity).await, "{mode:?}: closed by the full pass");
        assert_eq!(ended(&f.store, ExceptionKind::StockDrift, &entity).await.as_deref(), Some("stock_corrected"));

        // Drift again, then NetSuite receives 3 and wns writes the SKU.
        drift(&f, &s, &clock, a).await;
        f.ns.sim.advance_clock(Duration::from_secs(1));
        f.ns.sim.receive_stock(&item, &east, 3);
        assert_eq!(s.cycle(false).await.unwrap().pushed, 1, "{mode:?}");
        match mode {
            // An absolute write puts wns's figure in WooCommerce: the drift is gone.
            WriteMode::Absolute => {
                assert_eq!(f.woo.sim.stock_of(a), Some(15));
                assert_eq!(ended(&f.store, ExceptionKind::StockDrift, &entity).await.as_deref(), Some("stock_written"));
            }
            // A delta keeps the hand-typed difference (43, wns 15): still drift, still open, until
            // a drift check (the product webhook of the next hand edit) sees wns's figure.
            WriteMode::Adjust => {
                assert_eq!(f.woo.sim.stock_of(a), Some(43));
                assert!(is_open(&f.store, ExceptionKind::StockDrift, &entity).await, "the cause is still there");
                f.woo.sim.set_stock(a, 15).unwrap();
                assert_eq!(s.check_drift(a).await.unwrap(), DriftCheck::InStep);
                assert_eq!(
                    ended(&f.store, ExceptionKind::StockDrift, &entity).await.as_deref(),
                    Some("stock_corrected")
                );
            }
        }
        assert!(!is_open(&f.store, ExceptionKind::StockDrift, &entity).await, "{mode:?}");
    }
}

async fn a_malformed_delivery_resolves_itself_when_its_webhook_delivers_again(b: Backend) {
    use base64::Engine;
    use hmac::{KeyInit, Mac};
    let db = wns::testing::TestDb::new(b).await;
    let store = db.store(4).await;
    let queue = Queue::new(store.clone(), wns::clock::system(), RetryPolicy::default());
    let secret = "wns-exceptions-test-secret";
    let deliver = |webhook: &str, topic: &str, body: &[u8]| {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        DeliveryHeaders {
            signature: Some(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())),
            topic: Some(topic.into()),
            webhook_id: Some(webhook.into()),
            ..Default::default()
        }
    };
    let receiver = Receiver::new(queue.clone());
    let key = Some(secret.to_string().into());
    // A plugin prints a warning into two webhooks' payloads.
    let broken = b"<br />\n<b>Warning</b>: Undefined index{\"id\":23".to_vec();
    for webhook in ["7", "9"] {
        let verdict = receiver.receive(&deliver(webhook, "order.updated", &broken), &broken, key.as_ref()).await;
        assert_eq!(verdict.unwrap(), Verdict::Malformed);
    }
    let id_of = |webhook: &'static str| {
        let store = store.clone();
        async move {
            let id: i64 =
                sqlx::query_scalar("select id from webhook_deliveries where status = 'malformed' and webhook_id = $1")
                    .bind(webhook)
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
            format!("delivery:{id}")
        }
    };
    let (seven, nine) = (id_of("7").await, id_of("9").await);
    assert!(is_open(&store, ExceptionKind::WebhookMalformed, &seven).await);

    // Webhook 7 delivers a whole payload again: its exception closes, webhook 9's stays.
    let body = br#"{"id":24,"status":"processing"}"#;
    let verdict = receiver.receive(&deliver("7", "order.updated", body), body, key.as_ref()).await.unwrap();
    assert!(matches!(verdict, Verdict::Accepted { .. }), "{verdict:?}");
    // Closed after the answer: wait for it.
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while is_open(&store, ExceptionKind::WebhookMalformed, &seven).await && std::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ended(&store, ExceptionKind::WebhookMalformed, &seven).await.as_deref(), Some("webhook_delivered"));
    assert!(is_open(&store, ExceptionKind::WebhookMalformed, &nine).await, "another webhook proves nothing");
    let body = br#"{"id":25,"status":"processing"}"#;
    receiver.receive(&deliver("9", "order.updated", body), body, key.as_ref()).await.unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while is_open(&store, ExceptionKind::WebhookMalformed, &nine).await && std::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ended(&store, ExceptionKind::WebhookMalformed, &nine).await.as_deref(), Some("webhook_delivered"));
}

on_both_databases!(
    an_unmapped_sku_exception_resolves_itself_when_the_sku_is_mapped_and_the_order_posts,
    what_blocked_an_order_resolves_itself_when_the_order_posts,
    a_cancelled_order_closes_what_blocked_it_and_a_processed_one_closes_the_sweeps_miss,
    a_stock_drift_exception_resolves_itself_when_woocommerce_shows_wns_figure_again,
    a_malformed_delivery_resolves_itself_when_its_webhook_delivers_again,
);
