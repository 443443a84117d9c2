//! Stock from NetSuite to WooCommerce through both simulators, on SQLite and PostgreSQL: delta
//! reads with the overlap window, in-flight reservation without double counting, safety buffer,
//! variations, one bad SKU in a batch, drift.

#[macro_use]
#[path = "support/both.rs"]
mod both;

#[path = "support/flow.rs"]
mod support;

use std::time::Duration;

use rust_decimal::Decimal;
use wns::{
    clock::{Clock, ManualClock, SystemClock},
    monitor::exceptions::{self, ExceptionKind},
    queue::{Queue, RetryPolicy},
    store::Backend,
    sync::inventory::{DriftCheck, StockSettings, StockSync, WriteMode},
};
use wns_sim::{
    latency::Latency,
    netsuite::SeedItem,
    woo::{Address, Checkout, NewProduct, NewVariableProduct, NewVariation},
};

fn stock(f: &support::Flow, tweak: impl FnOnce(&mut StockSettings)) -> StockSync {
    stock_with(f, f.queue.clone(), tweak)
}

/// wns's clock for the tests of its own time limits (`stale_after_secs`, the drift grace): it
/// starts at the wall clock's time and moves only when the test moves it, so a limit passes
/// without sleeping.
fn wns_clock() -> ManualClock {
    ManualClock::new(SystemClock.now())
}

/// [`stock`] reading `clock` for its own times.
fn stock_on(f: &support::Flow, clock: &ManualClock, tweak: impl FnOnce(&mut StockSettings)) -> StockSync {
    let queue = Queue::new(f.store.clone(), std::sync::Arc::new(clock.clone()), RetryPolicy::default())
        .sharing_wake_with(&f.queue);
    stock_with(f, queue, tweak)
}

fn stock_with(f: &support::Flow, queue: Queue, tweak: impl FnOnce(&mut StockSettings)) -> StockSync {
    let mut s = StockSettings::new(vec![f.locations[0].clone(), f.locations[1].clone()]);
    tweak(&mut s);
    StockSync::new(f.client.clone(), support::woo_client(&f.woo.base_url), queue, s)
}

/// A stocked product in both systems: (WooCommerce id, NetSuite item id).
fn stocked(f: &support::Flow, sku: &str, woo_stock: i64) -> (u64, String) {
    let id = f.woo.sim.add_product(NewProduct::new(sku, sku, Decimal::new(1000, 2)).stock(woo_stock));
    (id, f.ns.sim.seed_item(SeedItem::new(sku)))
}

/// NetSuite's `lastmodifieddate` has whole seconds (as wns reads it): let a change land in a
/// later second, by moving the NetSuite simulator's clock on rather than sleeping.
fn next_second(f: &support::Flow) {
    f.ns.sim.advance_clock(Duration::from_secs(1));
}

async fn only_changes_are_read_and_written_and_the_overlap_rereads_without_rewriting(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let [east, central, _] = f.locations.clone();
    let (a, a_item) = stocked(&f, "ST-A", 0);
    let (bb, b_item) = stocked(&f, "ST-B", 0);
    f.ns.sim.set_stock(&a_item, &east, 7, 7);
    f.ns.sim.set_stock(&a_item, &central, 3, 3);
    f.ns.sim.set_stock(&b_item, &east, 5, 5);
    let s = stock(&f, |_| {});
    let r = s.cycle(true).await.unwrap();
    assert_eq!((r.skus_changed, r.pushed), (2, 2));
    assert_eq!(f.woo.sim.stock_of(a), Some(10), "east + central");
    assert_eq!(f.woo.sim.stock_of(bb), Some(5));

    next_second(&f);
    f.ns.sim.set_stock(&b_item, &east, 9, 9);
    let r = s.cycle(false).await.unwrap();
    assert_eq!((r.skus_changed, r.pushed, r.woo_requests), (1, 1, 1), "only B changed");
    assert_eq!(f.woo.sim.stock_of(bb), Some(9));
    // The overlap reads B's row again; its value did not change, so nothing is written.
    let r = s.cycle(false).await.unwrap();
    assert!(r.rows_read >= 1, "the overlap window re-reads recent rows");
    assert_eq!((r.skus_changed, r.pushed, r.woo_requests), (0, 0, 0));
    // A location the web store does not sell from changes nothing.
    next_second(&f);
    f.ns.sim.set_stock(&a_item, &f.locations[2], 50, 50);
    assert_eq!(s.cycle(false).await.unwrap().pushed, 0);
    assert_eq!(f.woo.sim.stock_of(a), Some(10));
}

async fn an_order_on_its_way_keeps_its_units_reserved_without_counting_them_twice(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let east = f.locations[0].clone();
    let (mug, item) = stocked(&f, "ST-MUG", 0);
    f.ns.sim.set_stock(&item, &east, 10, 10);
    let s = stock(&f, |s| s.write = WriteMode::Absolute);
    s.cycle(true).await.unwrap();
    assert_eq!(f.woo.sim.stock_of(mug), Some(10));

    // A checkout: WooCommerce takes 3 off itself; NetSuite does not know yet.
    let order = f.woo.sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 3)).unwrap();
    assert_eq!(f.woo.sim.stock_of(mug), Some(7));
    // wns has seen the order (its job read it) but not posted it: the units are in flight.
    wns::store::order_units::record(&f.store, order.id, &[("ST-MUG".into(), 3)], true, f.queue.now()).await.unwrap();
    // A receipt of 2 in NetSuite makes wns write an absolute value: 12 − 3 in flight.
    next_second(&f);
    f.ns.sim.receive_stock(&item, &east, 2);
    let r = s.cycle(false).await.unwrap();
    assert_eq!((r.skus_changed, r.pushed), (1, 1));
    assert_eq!(f.woo.sim.stock_of(mug), Some(9), "12 in NetSuite − 3 in flight; without the reservation 12");

    // The order is posted; NetSuite commits the 3 (available 9) and reflects them: 9, not 6.
    f.enqueue(order.id).await;
    f.settle(Duration::from_secs(20)).await;
    assert!(f.sales_order(order.id).is_some());
    assert_eq!(f.ns.sim.stock(&item, &east), Some((12, 9)), "NetSuite committed the order's units");
    next_second(&f);
    let r = s.cycle(false).await.unwrap();
    assert_eq!(r.skus_changed, 1, "the commitment moved NetSuite's row");
    let figures = s.figures(&[item.clone()].into(), f.queue.now()).await.unwrap();
    assert_eq!((figures[0].ns_available, figures[0].in_flight), (9, 0));
    assert_eq!(figures[0].target(true), 9, "no double count once NetSuite shows the order");
    assert_eq!(f.woo.sim.stock_of(mug), Some(9));
}

async fn an_orders_units_are_in_flight_from_the_moment_its_webhook_is_stored(b: Backend) {
    use base64::Engine;
    use hmac::{KeyInit, Mac};
    let f = support::flow(b, |_, _| {}).await;
    let east = f.locations[0].clone();
    let (mug, item) = stocked(&f, "ST-HOOK", 10);
    f.ns.sim.set_stock(&item, &east, 10, 10);
    let order = f.woo.sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 4)).unwrap();
    let body = serde_json::to_vec(&f.woo.sim.order(order.id).unwrap()).unwrap();
    let secret = "wns-inventory-test-secret";
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(&body);
    let h = wns::woo::webhook::DeliveryHeaders {
        signature: Some(base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())),
        topic: Some("order.created".into()),
        delivery_id: Some("d-1".into()),
        ..Default::default()
    };
    let receiver = wns::woo::webhook::Receiver::new(f.queue.clone());
    let verdict = receiver.receive(&h, &body, Some(&secret.to_string().into())).await.unwrap();
    assert!(matches!(verdict, wns::woo::webhook::Verdict::Accepted { .. }), "{verdict:?}");
    // No job has run: the units are in flight already, and the first (absolute) write of the
    // SKU leaves them out: 10 − 4, which is what WooCommerce itself has after the checkout.
    let s = stock(&f, |_| {});
    s.cycle(true).await.unwrap();
    assert_eq!(f.woo.sim.stock_of(mug), Some(6));
    let figures = s.figures(&[item].into(), f.queue.now()).await.unwrap();
    assert_eq!((figures[0].ns_available, figures[0].in_flight, figures[0].target(true)), (10, 4, 6));
}

/// Orders WooCommerce took before wns first started (or while it was down) have reached neither
/// NetSuite nor wns's ledger; the first write must not offer their units again.
async fn the_first_write_waits_for_orders_taken_before_the_first_start(b: Backend) {
    for mode in [WriteMode::Adjust, WriteMode::Absolute] {
        let f = support::flow(b, |_, _| {}).await;
        let east = f.locations[0].clone();
        let (mug, item) = stocked(&f, "ST-EARLY", 10);
        let (cup, cup_item) = stocked(&f, "ST-EARLY-2", 5);
        f.ns.sim.set_stock(&item, &east, 10, 10);
        f.ns.sim.set_stock(&cup_item, &east, 5, 5);
        f.woo.sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 2)).unwrap();
        f.woo.sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 1).line(cup, 2)).unwrap();
        assert_eq!(f.woo.sim.stock_of(mug), Some(7));
        let s = stock(&f, |s| s.write = mode);
        s.cycle(true).await.unwrap();
        assert_eq!(f.woo.sim.stock_of(mug), Some(7), "{mode:?}: 10 in NetSuite − 3 on orders NetSuite lacks, not 10");
        assert_eq!(f.woo.sim.stock_of(cup), Some(3), "{mode:?}");
        let figures = s.figures(&[item].into(), f.queue.now()).await.unwrap();
        assert_eq!((figures[0].ns_available, figures[0].in_flight), (10, 3), "{mode:?}");
    }
}

/// A real store has no `wns/v1` route until wns's plugin is installed: the default
/// `write = "adjust"` then writes absolute figures (with the reservation) instead of failing.
async fn without_wns_plugin_in_the_store_stock_is_written_absolute_instead_of_failing(b: Backend) {
    let mut o = support::Options::default();
    o.woo.wns_plugin = false;
    let f = support::flow_with(b, o, |_, _| {}).await;
    let east = f.locations[0].clone();
    let (mug, item) = stocked(&f, "ST-NOPLUGIN", 0);
    f.ns.sim.set_stock(&item, &east, 10, 10);
    let s = stock(&f, |s| assert_eq!(s.write, WriteMode::Adjust, "the default"));
    s.cycle(true).await.unwrap();
    assert_eq!(s.write_mode().await.unwrap(), WriteMode::Absolute);
    assert_eq!(f.woo.sim.stock_of(mug), Some(10));
    next_second(&f);
    f.ns.sim.receive_stock(&item, &east, 4);
    let r = s.cycle(false).await.unwrap();
    assert_eq!((r.pushed, r.rejected), (1, 0));
    assert_eq!(f.woo.sim.stock_of(mug), Some(14));
    let routes = f.woo.sim.counters().requests_by_route;
    assert!(!routes.keys().any(|r| r.contains("stock/adjust")), "never tried the missing route: {routes:?}");
}

async fn deltas_keep_checkouts_made_while_wns_computed(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let east = f.locations[0].clone();
    let (mug, item) = stocked(&f, "ST-RACE", 0);
    f.ns.sim.set_stock(&item, &east, 10, 10);
    let s = stock(&f, |_| {});
    s.cycle(true).await.unwrap();
    assert_eq!(f.woo.sim.stock_of(mug), Some(10));
    // Two checkouts wns has not seen at all, then a receipt of 5 in NetSuite.
    f.woo.sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 2)).unwrap();
    f.woo.sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 1)).unwrap();
    next_second(&f);
    f.ns.sim.receive_stock(&item, &east, 5);
    let r = s.cycle(false).await.unwrap();
    assert_eq!(r.pushed, 1);
    assert_eq!(f.woo.sim.stock_of(mug), Some(12), "10 − 3 sold + 5 received: the sales survive the write");
}

async fn a_read_between_netsuite_saving_an_order_and_wns_noting_it_is_corrected_next_cycle(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let east = f.locations[0].clone();
    let (mug, item) = stocked(&f, "ST-GAP", 0);
    f.ns.sim.set_stock(&item, &east, 10, 10);
    let s = stock(&f, |_| {});
    s.cycle(true).await.unwrap();
    let order = f.woo.sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 3)).unwrap();
    f.enqueue(order.id).await;
    f.settle(Duration::from_secs(20)).await;
    assert_eq!(f.ns.sim.stock(&item, &east), Some((10, 7)), "NetSuite committed the 3");
    // As if the read started after NetSuite saved the order but before wns noted it: the order
    // looks in flight while NetSuite's figure already shows it — 3 too few, for one cycle.
    sqlx::query("update order_units set posted_at = null, posted_quantity = 0 where wc_order_id = $1")
        .bind(order.id as i64)
        .execute(f.store.pool())
        .await
        .unwrap();
    next_second(&f);
    s.cycle(false).await.unwrap();
    assert_eq!(f.woo.sim.stock_of(mug), Some(4), "undersold for a moment, never oversold");
    // wns notes the posting; the next cycle computes the SKU again although NetSuite's row did
    // not move since the last read.
    wns::store::order_units::posted(&f.store, order.id, f.queue.now()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    let r = s.cycle(false).await.unwrap();
    assert_eq!(r.pushed, 1);
    assert_eq!(f.woo.sim.stock_of(mug), Some(7));
}

async fn a_movement_that_repeats_an_earlier_one_is_written_again(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let east = f.locations[0].clone();
    let (mug, item) = stocked(&f, "ST-AGAIN", 0);
    f.ns.sim.set_stock(&item, &east, 10, 10);
    let s = stock(&f, |_| {});
    s.cycle(true).await.unwrap();
    // 10 → 13 → 10 → 13: the last movement is the first one again, not a retry of it.
    for (receive, expected) in [(true, 13), (false, 10), (true, 13)] {
        next_second(&f);
        if receive {
            f.ns.sim.receive_stock(&item, &east, 3);
        } else {
            f.ns.sim.sell_elsewhere(&item, &east, 3);
        }
        assert_eq!(s.cycle(false).await.unwrap().pushed, 1);
        assert_eq!(f.woo.sim.stock_of(mug), Some(expected));
    }
}

async fn an_absolute_write_follows_a_receipt_that_leaves_the_target_as_it_was(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let east = f.locations[0].clone();
    let (mug, item) = stocked(&f, "ST-ABS", 0);
    f.ns.sim.set_stock(&item, &east, 1, 1);
    let s = stock(&f, |s| s.write = WriteMode::Absolute);
    s.cycle(true).await.unwrap();
    assert_eq!(f.woo.sim.stock_of(mug), Some(1));
    // The last unit sells on the web and its sales order is posted; then a receipt of 1. One
    // read sees both: NetSuite 1 available, nothing in flight — the figure wns wrote last, but
    // WooCommerce took the sale off since and shows 0.
    let order = f.woo.sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 1)).unwrap();
    f.enqueue(order.id).await;
    f.settle(Duration::from_secs(20)).await;
    f.ns.sim.receive_stock(&item, &east, 1);
    assert_eq!(f.woo.sim.stock_of(mug), Some(0));
    next_second(&f);
    assert_eq!(s.cycle(false).await.unwrap().pushed, 1);
    assert_eq!(f.woo.sim.stock_of(mug), Some(1), "the received unit reaches WooCommerce");
}

async fn a_safety_buffer_holds_units_back(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let east = f.locations[0].clone();
    let (a, a_item) = stocked(&f, "ST-BUF", 0);
    let (c, c_item) = stocked(&f, "ST-LOW", 0);
    f.ns.sim.set_stock(&a_item, &east, 10, 10);
    f.ns.sim.set_stock(&c_item, &east, 1, 1);
    let s = stock(&f, |s| {
        s.buffer = 2;
        s.buffers.insert("ST-BUF".into(), 4);
    });
    s.cycle(true).await.unwrap();
    assert_eq!(f.woo.sim.stock_of(a), Some(6), "the SKU's own buffer");
    assert_eq!(f.woo.sim.stock_of(c), Some(0), "never below zero");
}

async fn category_buffers_come_from_the_catalogue_and_a_skus_own_buffer_wins(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let east = f.locations[0].clone();
    let (a, a_item) = stocked(&f, "ST-CAT", 0);
    let (c, c_item) = stocked(&f, "ST-CAT-OWN", 0);
    f.ns.sim.set_stock(&a_item, &east, 10, 10);
    f.ns.sim.set_stock(&c_item, &east, 10, 10);
    // The simulator files every product under WooCommerce's default category.
    let s = stock(&f, |s| {
        s.category_buffers.insert("uncategorized".into(), 3);
        s.buffers.insert("ST-CAT-OWN".into(), 1);
    });
    let r = s.cycle(true).await.unwrap();
    assert!(r.woo_requests >= 2, "the full pass lists the catalogue: {r:?}");
    assert_eq!(f.woo.sim.stock_of(a), Some(7), "the category's buffer");
    assert_eq!(f.woo.sim.stock_of(c), Some(9), "the SKU's own buffer wins");
}

async fn the_reconciliation_compares_woocommerces_stock_and_queues_a_second_look(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let east = f.locations[0].clone();
    let (a, item) = stocked(&f, "ST-REC", 0);
    f.ns.sim.set_stock(&item, &east, 12, 12);
    let s = stock(&f, |_| {});
    assert_eq!(s.cycle(true).await.unwrap().drift_suspects, 0);
    // Someone types 40 in wp-admin; no webhook reaches wns (say it was lost).
    f.woo.sim.set_stock(a, 40).unwrap();
    let r = s.cycle(true).await.unwrap();
    assert_eq!(r.drift_suspects, 1);
    let queued: i64 = sqlx::query_scalar("select count(*) from jobs where kind = 'woo.product' and entity_key = $1")
        .bind(format!("product:{a}"))
        .fetch_one(f.store.pool())
        .await
        .unwrap();
    assert_eq!(queued, 1, "a second look after the grace period, as for a product webhook");
}

async fn variations_are_written_by_their_own_sku_in_both_write_modes(b: Backend) {
    for mode in [WriteMode::Adjust, WriteMode::Absolute] {
        let f = support::flow(b, |_, _| {}).await;
        let east = f.locations[0].clone();
        let variation = |option: &str, sku: &str| NewVariation {
            option: option.into(),
            sku: sku.into(),
            regular_price: Decimal::new(2500, 2),
            manage_stock: true,
            stock_quantity: Some(0),
        };
        let (_, vars) = f.woo.sim.add_variable_product(NewVariableProduct {
            name: "Tee".into(),
            sku: "TEE".into(),
            attribute: "Size".into(),
            variations: vec![variation("S", "TEE-S"), variation("M", "TEE-M")],
        });
        let (simple, simple_item) = stocked(&f, "ST-SIMPLE", 0);
        for (sku, q) in [("TEE-S", 4), ("TEE-M", 6)] {
            let item = f.ns.sim.seed_item(SeedItem::new(sku));
            f.ns.sim.set_stock(&item, &east, q, q);
        }
        f.ns.sim.set_stock(&simple_item, &east, 3, 3);
        let s = stock(&f, |s| s.write = mode);
        let r = s.cycle(true).await.unwrap();
        assert_eq!(r.pushed, 3, "{mode:?}");
        assert_eq!((f.woo.sim.stock_of(vars[0]), f.woo.sim.stock_of(vars[1])), (Some(4), Some(6)), "{mode:?}");
        assert_eq!(f.woo.sim.stock_of(simple), Some(3));
    }
}

async fn one_bad_sku_is_an_exception_and_the_rest_is_written(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let east = f.locations[0].clone();
    let (good, good_item) = stocked(&f, "ST-GOOD", 0);
    let orphan = f.ns.sim.seed_item(SeedItem::new("ST-NOT-IN-WOO"));
    f.ns.sim.set_stock(&good_item, &east, 8, 8);
    f.ns.sim.set_stock(&orphan, &east, 2, 2);
    for mode in [WriteMode::Absolute, WriteMode::Adjust] {
        let s = stock(&f, |s| s.write = mode);
        let r = s.cycle(true).await.unwrap();
        assert_eq!((r.pushed, r.rejected), (if mode == WriteMode::Absolute { 1 } else { 0 }, 1), "{mode:?}");
    }
    assert_eq!(f.woo.sim.stock_of(good), Some(8));
    let open = exceptions::open(&f.store, Some(ExceptionKind::StockItemRejected)).await.unwrap();
    assert_eq!(
        (open.len(), open[0].owner.as_str(), open[0].entity_key.as_str()),
        (1, "ecommerce", "sku:ST-NOT-IN-WOO")
    );
}

async fn a_refused_sku_is_written_again_every_cycle_and_goes_stale_alone(b: Backend) {
    for mode in [WriteMode::Absolute, WriteMode::Adjust] {
        let f = support::flow(b, |_, _| {}).await;
        let east = f.locations[0].clone();
        let (good, good_item) = stocked(&f, "ST-FINE", 0);
        let late = f.ns.sim.seed_item(SeedItem::new("ST-LATE"));
        f.ns.sim.set_stock(&good_item, &east, 4, 4);
        f.ns.sim.set_stock(&late, &east, 6, 6);
        let clock = wns_clock();
        let s = stock_on(&f, &clock, |s| {
            s.write = mode;
            s.stale_after_secs = 1;
        });
        s.cycle(true).await.unwrap();
        assert_eq!(f.woo.sim.stock_of(good), Some(4), "{mode:?}");
        s.check_freshness().await.unwrap();
        assert!(exceptions::open(&f.store, Some(ExceptionKind::StockStale)).await.unwrap().is_empty(), "not yet");
        // Every cycle succeeds, NetSuite does not move: the refused SKU is tried again each time…
        clock.advance(Duration::from_millis(1001));
        let r = s.cycle(false).await.unwrap();
        assert_eq!((r.skus_changed, r.rejected), (1, 1), "{mode:?}");
        // … and once refused for longer than the limit it is stale on its own, the stock is not.
        assert!(!s.check_freshness().await.unwrap(), "{mode:?}: cycles succeed");
        let stale = exceptions::open(&f.store, Some(ExceptionKind::StockStale)).await.unwrap();
        assert_eq!(stale.len(), 1, "{mode:?}");
        assert_eq!((stale[0].entity_key.as_str(), stale[0].owner.as_str()), ("sku:ST-LATE", "operations"));
        assert!(stale[0].message.contains("wns's figure is 6"), "{}", stale[0].message);
        // The product is created in WooCommerce: the next cycle writes it without any NetSuite
        // change, and both exceptions close.
        let id = f.woo.sim.add_product(NewProduct::new("Late", "ST-LATE", Decimal::new(500, 2)).stock(0));
        let r = s.cycle(false).await.unwrap();
        assert_eq!((r.pushed, r.rejected), (1, 0), "{mode:?}");
        assert_eq!(f.woo.sim.stock_of(id), Some(6), "{mode:?}");
        for kind in [ExceptionKind::StockStale, ExceptionKind::StockItemRejected] {
            assert!(exceptions::open(&f.store, Some(kind)).await.unwrap().is_empty(), "{mode:?} {kind:?}");
        }
    }
}

/// A write that fails as a whole (WooCommerce answers 500) is not forgotten: NetSuite's new
/// figure is already stored, yet the next cycle writes the SKU again; a SKU unconfirmed for
/// longer than the limit is stale on its own.
async fn a_stock_write_that_fails_is_written_again_until_woocommerce_confirms_it(b: Backend) {
    for (mode, route) in [(WriteMode::Adjust, "/wns/v1/stock/adjust"), (WriteMode::Absolute, "/products/batch")] {
        let f = support::flow(b, |_, _| {}).await;
        let east = f.locations[0].clone();
        let (mug, item) = stocked(&f, "ST-FAIL", 0);
        f.ns.sim.set_stock(&item, &east, 10, 10);
        let clock = wns_clock();
        let s = stock_on(&f, &clock, |s| {
            s.write = mode;
            s.stale_after_secs = 1;
        });
        s.cycle(true).await.unwrap();
        assert_eq!(f.woo.sim.stock_of(mug), Some(10), "{mode:?}");
        next_second(&f);
        f.ns.sim.receive_stock(&item, &east, 5);
        f.woo.sim.fail_next(route, 1);
        assert!(s.cycle(false).await.is_err(), "{mode:?}: the write failed");
        assert_eq!(f.woo.sim.stock_of(mug), Some(10), "{mode:?}");
        // NetSuite does not move again; the SKU is written anyway.
        let r = s.cycle(false).await.unwrap();
        assert_eq!((r.pushed, r.rejected), (1, 0), "{mode:?}");
        assert_eq!(f.woo.sim.stock_of(mug), Some(15), "{mode:?}");
        assert_eq!(s.cycle(false).await.unwrap().pushed, 0, "{mode:?}: confirmed, nothing left to write");

        // Failing for longer than stale_after_secs: stale for this SKU, closed by the next success.
        next_second(&f);
        f.ns.sim.receive_stock(&item, &east, 1);
        f.woo.sim.fail_next(route, 2);
        assert!(s.cycle(false).await.is_err());
        s.check_freshness().await.unwrap();
        let stale = exceptions::open(&f.store, Some(ExceptionKind::StockStale)).await.unwrap();
        assert!(stale.iter().all(|e| e.entity_key != "sku:ST-FAIL"), "{mode:?}: not yet: {stale:?}");
        clock.advance(Duration::from_millis(1001));
        assert!(s.cycle(false).await.is_err(), "{mode:?}: still failing");
        s.check_freshness().await.unwrap();
        let stale = exceptions::open(&f.store, Some(ExceptionKind::StockStale)).await.unwrap();
        let sku = stale.iter().find(|e| e.entity_key == "sku:ST-FAIL").expect("the SKU is stale");
        assert_eq!(sku.owner, "operations");
        assert!(sku.message.contains("wns's figure is 16"), "{}", sku.message);
        s.cycle(false).await.unwrap();
        assert_eq!(f.woo.sim.stock_of(mug), Some(16), "{mode:?}");
        let left = exceptions::open(&f.store, Some(ExceptionKind::StockStale)).await.unwrap();
        assert!(left.iter().all(|e| e.entity_key != "sku:ST-FAIL"), "{mode:?}: {left:?}");
    }
}

async fn a_hand_edit_in_woocommerce_is_drift_with_both_values(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let east = f.locations[0].clone();
    let (a, item) = stocked(&f, "ST-DRIFT", 0);
    f.ns.sim.set_stock(&item, &east, 12, 12);
    let clock = wns_clock();
    let s = stock_on(&f, &clock, |s| s.drift_grace_secs = 1);
    s.cycle(true).await.unwrap();
    assert_eq!(s.check_drift(a).await.unwrap(), DriftCheck::InStep);
    // A difference seen once is a suspect (a checkout's order webhook may still be on its way)…
    f.woo.sim.set_stock(a, 40).unwrap();
    assert_eq!(s.check_drift(a).await.unwrap(), DriftCheck::Suspect(28));
    assert!(exceptions::open(&f.store, Some(ExceptionKind::StockDrift)).await.unwrap().is_empty());
    // … still one just before the grace is over…
    clock.advance(Duration::from_millis(999));
    assert_eq!(s.check_drift(a).await.unwrap(), DriftCheck::Suspect(28));
    // … and the same difference once the grace is over is drift, with both values.
    clock.advance(Duration::from_millis(1));
    assert_eq!(s.check_drift(a).await.unwrap(), DriftCheck::Drift(28));
    let open = exceptions::open(&f.store, Some(ExceptionKind::StockDrift)).await.unwrap();
    assert!(open[0].message.contains("40") && open[0].message.contains("12"), "{}", open[0].message);
    // A passing difference that goes away is never drift.
    f.woo.sim.set_stock(a, 11).unwrap();
    assert_eq!(s.check_drift(a).await.unwrap(), DriftCheck::Suspect(-1));
    f.woo.sim.set_stock(a, 12).unwrap();
    assert_eq!(s.check_drift(a).await.unwrap(), DriftCheck::InStep);
    assert!(exceptions::open(&f.store, Some(ExceptionKind::StockDrift)).await.unwrap().is_empty(), "resolved");
    // With correction on, wns writes its figure back.
    let fix = stock_on(&f, &clock, |s| {
        s.correct_drift = true;
        s.drift_grace_secs = 0;
    });
    f.woo.sim.set_stock(a, 40).unwrap();
    assert_eq!(fix.check_drift(a).await.unwrap(), DriftCheck::Suspect(28));
    assert_eq!(fix.check_drift(a).await.unwrap(), DriftCheck::Drift(28));
    assert_eq!(f.woo.sim.stock_of(a), Some(12));
}

/// The first write of a SKU must not overwrite a checkout that lands while wns computes it: an
/// absolute write did, and WooCommerce went on showing 3 units NetSuite no longer had (the
/// demo's `stock_drift` exceptions with nobody editing stock).
async fn the_first_write_keeps_a_checkout_made_while_wns_computed_it(b: Backend) {
    let mut o = support::Options::default();
    o.woo.latency = Latency::new(Duration::from_millis(150), Duration::from_millis(150));
    let f = support::flow_with(b, o, |_, _| {}).await;
    let east = f.locations[0].clone();
    let (mug, item) = stocked(&f, "ST-FIRST-RACE", 12);
    f.ns.sim.set_stock(&item, &east, 10, 10);
    let s = stock(&f, |_| {});
    let cycle = tokio::spawn(async move { s.cycle(true).await.map(|_| ()) });
    // The full pass lists the catalogue, then computes and writes; the checkout lands in between.
    let listed = |f: &support::Flow| {
        f.woo
            .sim
            .counters()
            .requests_by_route
            .iter()
            .any(|(r, n)| *n > 0 && r.contains("/wc/v3/products") && !r.contains("batch") && !r.contains('{'))
    };
    while !listed(&f) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    f.woo.sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 3)).unwrap();
    cycle.await.unwrap().unwrap();
    assert_eq!(
        f.woo.sim.stock_of(mug),
        Some(7),
        "10 in NetSuite − 3 sold while wns computed (an absolute write leaves 10: the sale is lost)"
    );
}

/// NetSuite's figure in wns is the last read's: an order posted after that read is still in it,
/// so the drift check counts the order in flight instead of seeing 3 units missing.
async fn the_drift_check_counts_in_flight_as_of_netsuites_read(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let east = f.locations[0].clone();
    let (a, item) = stocked(&f, "ST-DRIFT-READ", 0);
    f.ns.sim.set_stock(&item, &east, 10, 10);
    let clock = wns_clock();
    let s = stock_on(&f, &clock, |_| {});
    s.cycle(true).await.unwrap();
    let order = f.woo.sim.checkout(Checkout::guest(Address::us_ca()).line(a, 3)).unwrap();
    clock.advance(Duration::from_millis(10));
    wns::store::order_units::record(&f.store, order.id, &[("ST-DRIFT-READ".into(), 3)], true, clock.now())
        .await
        .unwrap();
    assert_eq!(s.check_drift(a).await.unwrap(), DriftCheck::InStep, "in flight");
    // Posted after the last read: NetSuite's figure in wns (10) does not show it yet.
    clock.advance(Duration::from_millis(10));
    wns::store::order_units::posted(&f.store, order.id, clock.now()).await.unwrap();
    clock.advance(Duration::from_millis(10));
    assert_eq!(s.check_drift(a).await.unwrap(), DriftCheck::InStep, "10 read − 3 not in that read = 7");
}

on_both_databases!(
    the_first_write_keeps_a_checkout_made_while_wns_computed_it,
    the_drift_check_counts_in_flight_as_of_netsuites_read,
    only_changes_are_read_and_written_and_the_overlap_rereads_without_rewriting,
    an_order_on_its_way_keeps_its_units_reserved_without_counting_them_twice,
    deltas_keep_checkouts_made_while_wns_computed,
    a_safety_buffer_holds_units_back,
    variations_are_written_by_their_own_sku_in_both_write_modes,
    one_bad_sku_is_an_exception_and_the_rest_is_written,
    a_hand_edit_in_woocommerce_is_drift_with_both_values,
    an_orders_units_are_in_flight_from_the_moment_its_webhook_is_stored,
    a_read_between_netsuite_saving_an_order_and_wns_noting_it_is_corrected_next_cycle,
    a_movement_that_repeats_an_earlier_one_is_written_again,
    an_absolute_write_follows_a_receipt_that_leaves_the_target_as_it_was,
    category_buffers_come_from_the_catalogue_and_a_skus_own_buffer_wins,
    the_reconciliation_compares_woocommerces_stock_and_queues_a_second_look,
    a_refused_sku_is_written_again_every_cycle_and_goes_stale_alone,
    a_stock_write_that_fails_is_written_again_until_woocommerce_confirms_it,
    the_first_write_waits_for_orders_taken_before_the_first_start,
    without_wns_plugin_in_the_store_stock_is_written_absolute_instead_of_failing,
);
