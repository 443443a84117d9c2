//! The order flow end to end through both simulators, on SQLite and PostgreSQL: checkouts in the
//! WooCommerce simulator, `woo.order` jobs run by a real worker, sales orders and customers in the
//! NetSuite simulator, counted by the simulators themselves.

#[macro_use]
#[path = "support/both.rs"]
mod both;

#[path = "support/flow.rs"]
mod support;

use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::Value;
use wns::{
    monitor::exceptions,
    store::Backend,
    sync::{
        order_flow::Synced,
        routing::RouteRule,
        sales_order::{CouponMode, TaxMode, save_mapping},
        sales_order_writer::BatchSettings,
    },
};
use wns_api_types::JobState;
use wns_sim::{
    netsuite::SeedItem,
    woo::{Address, Checkout, ShippingChoice},
};

const SETTLE: Duration = Duration::from_secs(20);

fn dec(v: &Value) -> Decimal {
    v.to_string().trim_matches('"').parse().unwrap()
}

fn meta(order: &Value, key: &str) -> Option<String> {
    order["meta_data"]
        .as_array()?
        .iter()
        .find(|m| m["key"] == key)
        .map(|m| m["value"].as_str().map(str::to_string).unwrap_or_else(|| m["value"].to_string()))
}

fn guest(email: &str) -> Address {
    Address { email: email.into(), ..Address::us_ca() }
}

async fn a_new_guest_then_the_order_and_a_repeat_costs_no_netsuite_write(backend: Backend) {
    let f = support::flow(backend, |_, _| {}).await;
    let (mug, _) = f.product("WNS-MUG", Decimal::new(1250, 2), true);
    let order = f.woo.sim.checkout(Checkout::guest(guest("sam@example.com")).line(mug, 2)).unwrap();
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;

    let so = f.sales_order(order.id).expect("the sales order exists by its external id");
    assert_eq!(dec(&so["total"]), order.total, "NetSuite's total is WooCommerce's");
    assert_eq!(f.ns.sim.record_count("customer"), 1);
    let customer = f.ns.sim.records("customer").pop().unwrap();
    assert_eq!(so["entity"]["id"], customer["id"], "the customer came first and the order is hers");
    assert_eq!(so["custbody_wc_order_id"], order.id.to_string());
    let wc = f.woo.sim.order(order.id).unwrap();
    assert_eq!(meta(&wc, "_netsuite_sales_order_id").as_deref(), so["id"].as_str());
    assert_eq!(meta(&wc, "_netsuite_sales_order_number").as_deref(), so["tranId"].as_str());
    assert_eq!(meta(&wc, "_wns_customer_match").as_deref(), Some("created"));
    let rule: String = sqlx::query_scalar("select customer_rule from order_links where wc_order_id = $1")
        .bind(order.id as i64)
        .fetch_one(f.store.pool())
        .await
        .unwrap();
    assert_eq!(rule, "created", "the rule that matched is recorded with the order");

    // The meta write makes WooCommerce send `order.updated`; a retry or a duplicate delivery is
    // the same job again. None of them writes to NetSuite.
    let writes = |c: &wns_sim::netsuite::Counters| {
        c.requests_by_op
            .iter()
            .filter(|(op, _)| op.starts_with("upsert") || op.starts_with("create") || op.starts_with("patch"))
            .map(|(_, n)| n)
            .sum::<u64>()
    };
    let before = writes(&f.ns.sim.counters());
    // wns's own write-back comes back as an echo: recognised without any NetSuite request, and
    // without writing the same meta and note to WooCommerce again.
    let all = |c: &wns_sim::netsuite::Counters| c.requests_by_op.values().sum::<u64>();
    let woo_writes = |c: &wns_sim::woo::WooCounters| {
        c.requests_by_route.iter().filter(|(r, _)| !r.starts_with("GET")).map(|(_, n)| *n).sum::<u64>()
    };
    let (ns_before, woo_before) = (all(&f.ns.sim.counters()), woo_writes(&f.woo.sim.counters()));
    assert_eq!(f.flow.sync_order(order.id).await.unwrap(), Synced::Unchanged);
    assert_eq!(all(&f.ns.sim.counters()), ns_before, "an echo costs no NetSuite request");
    assert_eq!(woo_writes(&f.woo.sim.counters()), woo_before, "nor a WooCommerce write");
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    assert_eq!(writes(&f.ns.sim.counters()), before, "a repeat writes nothing to NetSuite");
    assert_eq!(f.ns.sim.record_count("salesOrder"), 1);
}

async fn the_same_guest_twice_is_one_customer_and_a_registered_one_is_hers_by_external_id(backend: Backend) {
    let f = support::flow(backend, |_, _| {}).await;
    let (mug, _) = f.product("WNS-MUG", Decimal::new(1250, 2), true);
    let first = f.woo.sim.checkout(Checkout::guest(guest("Jane.Doe@Example.com")).line(mug, 1)).unwrap();
    let second = f.woo.sim.checkout(Checkout::guest(guest("jane.doe@example.com")).line(mug, 3)).unwrap();
    let uid = f.woo.sim.add_customer("Reg", "Istered", "reg@example.com");
    let third = f.woo.sim.checkout(Checkout::guest(guest("reg@example.com")).customer(uid).line(mug, 1)).unwrap();
    for o in [&first, &second, &third] {
        f.enqueue(o.id).await;
        f.settle(SETTLE).await;
    }
    assert_eq!(f.ns.sim.record_count("customer"), 2, "one guest (e-mail case ignored) and one registered");
    let (a, b) = (f.sales_order(first.id).unwrap(), f.sales_order(second.id).unwrap());
    assert_eq!(a["entity"]["id"], b["entity"]["id"]);
    let reg = f.ns.sim.find_by_external_id("customer", &format!("wc-shop-customer-{uid}")).expect("registered by id");
    assert_eq!(f.sales_order(third.id).unwrap()["entity"]["id"], reg["id"]);
    let wc = f.woo.sim.order(second.id).unwrap();
    assert_eq!(meta(&wc, "_wns_customer_match").as_deref(), Some("linked_id"));
}

async fn coupon_shipping_fee_and_tax_reach_netsuite_to_the_cent(backend: Backend) {
    for mode in [CouponMode::LineRates, CouponMode::DiscountItem] {
        let f = support::flow(backend, |s, _| s.orders.coupon_mode = mode).await;
        let (mug, _) = f.product("WNS-MUG", Decimal::new(1250, 2), true);
        let (tee, _) = f.product("TEE-BR", Decimal::new(1999, 2), true);
        f.woo.sim.add_coupon("TENOFF", "percent", "10");
        let c = Checkout::guest(guest("coupon@example.com"))
            .line(mug, 3)
            .line(tee, 1)
            .coupon("TENOFF")
            .shipping(ShippingChoice::flat_rate(Decimal::new(795, 2)))
            .fee("Gift wrap", Decimal::new(250, 2), true);
        let order = f.woo.sim.checkout(c).unwrap();
        assert!(order.total_tax > Decimal::ZERO, "California tax applies");
        f.enqueue(order.id).await;
        f.settle(SETTLE).await;
        let so = f.sales_order(order.id).unwrap_or_else(|| panic!("{mode:?}: no sales order"));
        assert_eq!(dec(&so["total"]), order.total, "{mode:?}: NetSuite's total equals WooCommerce's");
        assert_eq!(dec(&so["taxTotal"]), order.total_tax, "{mode:?}: and so does the tax");
    }
}

async fn orders_route_by_country_rule_and_by_stock(backend: Backend) {
    let f = support::flow(backend, |s, locations| {
        s.routing.rules.push(RouteRule {
            country: "GB".into(),
            regions: vec![],
            postcode_prefixes: vec![],
            location: locations[1].clone(),
        });
        // East, central, west: the order of preference.
        s.routing.locations = locations.to_vec();
    })
    .await;
    let [east, central, west] = f.locations.clone();
    let (mug, Some(mug_item)) = f.product("WNS-MUG", Decimal::new(1250, 2), true) else { unreachable!() };
    let (tee, Some(tee_item)) = f.product("TEE-BR", Decimal::new(1999, 2), true) else { unreachable!() };
    f.ns.sim.set_stock(&mug_item, &east, 1, 1);
    f.ns.sim.set_stock(&mug_item, &west, 10, 10);
    f.ns.sim.set_stock(&tee_item, &west, 1, 1);
    f.ns.sim.set_stock(&tee_item, &east, 5, 5);

    let uk = f.woo.sim.checkout(Checkout::guest(Address::gb()).line(mug, 2)).unwrap();
    let whole = f.woo.sim.checkout(Checkout::guest(guest("a@example.com")).line(mug, 2).line(tee, 1)).unwrap();
    let split = f.woo.sim.checkout(Checkout::guest(guest("b@example.com")).line(mug, 2).line(tee, 3)).unwrap();
    for o in [&uk, &whole, &split] {
        f.enqueue(o.id).await;
    }
    f.settle(SETTLE).await;
    let loc = |v: &Value| v["location"]["id"].as_str().map(str::to_string);
    assert_eq!(loc(&f.sales_order(uk.id).unwrap()).as_deref(), Some(central.as_str()), "the GB rule");
    assert_eq!(loc(&f.sales_order(whole.id).unwrap()).as_deref(), Some(west.as_str()), "west has it all");
    let so = f.sales_order(split.id).unwrap();
    let lines: Vec<Option<String>> = so["item"]["items"].as_array().unwrap().iter().take(2).map(loc).collect();
    assert_eq!(lines, vec![Some(west.clone()), Some(east.clone())], "nobody has it all: lines split");
}

async fn an_unmapped_sku_blocks_and_the_mapping_posts_it_with_no_manual_step(backend: Backend) {
    let f = support::flow(backend, |_, _| {}).await;
    let (odd, _) = f.product("ODD-SKU-1", Decimal::new(500, 2), false);
    let item = f.ns.sim.seed_item(wns_sim::netsuite::SeedItem::new("Oddity, large"));
    let order = f.woo.sim.checkout(Checkout::guest(guest("odd@example.com")).line(odd, 1)).unwrap();
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    assert!(f.sales_order(order.id).is_none());
    assert_eq!(f.queue.summary().await.unwrap().total(JobState::Blocked), 1, "blocked, not failed");
    let open = exceptions::open(&f.store, Some(exceptions::ExceptionKind::UnmappedSku)).await.unwrap();
    assert_eq!((open.len(), open[0].owner.as_str(), open[0].entity_key.as_str()), (1, "ecommerce", "sku:ODD-SKU-1"));

    assert_eq!(save_mapping(&f.queue, "ODD-SKU-1", &item, "merch@shop").await.unwrap(), 1);
    f.settle(SETTLE).await;
    let so = f.sales_order(order.id).expect("posted by itself after the mapping");
    assert_eq!(so["item"]["items"][0]["item"]["id"].as_str(), Some(item.as_str()));
    assert!(exceptions::open(&f.store, Some(exceptions::ExceptionKind::UnmappedSku)).await.unwrap().is_empty());
}

async fn cancelled_after_posting_closes_the_lines_restored_reopens_and_fulfilled_is_left_alone(backend: Backend) {
    let f = support::flow(backend, |_, _| {}).await;
    let (mug, _) = f.product("WNS-MUG", Decimal::new(1250, 2), true);
    let order = f.woo.sim.checkout(Checkout::guest(guest("c@example.com")).line(mug, 2)).unwrap();
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    assert!(f.sales_order(order.id).is_some());

    f.woo.sim.update_order_status(order.id, "cancelled").unwrap();
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    let so = f.sales_order(order.id).unwrap();
    assert_eq!(so["orderStatus"]["id"], "H", "closed");
    assert!(so["item"]["items"].as_array().unwrap().iter().all(|l| l["isClosed"] == true));

    // Back to processing (a restore): the whole body again, lines open.
    f.woo.sim.update_order_status(order.id, "processing").unwrap();
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    let so = f.sales_order(order.id).unwrap();
    assert_eq!(so["orderStatus"]["id"], "B", "open again");
    assert_eq!(f.ns.sim.record_count("salesOrder"), 1);

    // Fulfilled in NetSuite, then cancelled in WooCommerce: an exception, not a silent edit.
    f.ns.sim.fulfil(so["id"].as_str().unwrap(), &["1Z999"]);
    f.woo.sim.update_order_status(order.id, "cancelled").unwrap();
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    let so = f.sales_order(order.id).unwrap();
    assert!(so["item"]["items"].as_array().unwrap().iter().all(|l| l["isClosed"] != true), "left as it is");
    let open = exceptions::open(&f.store, Some(exceptions::ExceptionKind::ChangedAfterFulfilment)).await.unwrap();
    assert_eq!((open.len(), open[0].owner.as_str()), (1, "operations"));
}

async fn a_deleted_order_closes_its_sales_order(backend: Backend) {
    let f = support::flow(backend, |_, _| {}).await;
    let (mug, _) = f.product("WNS-MUG", Decimal::new(1250, 2), true);
    let order = f.woo.sim.checkout(Checkout::guest(guest("d@example.com")).line(mug, 1)).unwrap();
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    f.woo.sim.delete_order(order.id).unwrap();
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    assert_eq!(f.sales_order(order.id).unwrap()["orderStatus"]["id"], "H", "trashed → closed");
    f.woo.sim.restore_order(order.id).unwrap();
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    assert_eq!(f.sales_order(order.id).unwrap()["orderStatus"]["id"], "B", "restored → open");
}

async fn a_line_edit_before_fulfilment_updates_the_sales_order_and_after_fulfilment_raises(backend: Backend) {
    let f = support::flow(backend, |_, _| {}).await;
    let (mug, _) = f.product("WNS-MUG", Decimal::new(1250, 2), true);
    let (tee, _) = f.product("TEE-BR", Decimal::new(1999, 2), true);
    let order = f.woo.sim.checkout(Checkout::guest(guest("e@example.com")).line(mug, 1)).unwrap();
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    // An edit in wp-admin, through the REST API as WooCommerce's own apps send it: the mug's
    // quantity 1 → 2 (with its amounts, which WooCommerce does not reprice by itself), a tee added.
    let line = f.woo.sim.order(order.id).unwrap()["line_items"][0]["id"].as_u64().unwrap();
    f.edit_order(
        order.id,
        serde_json::json!({ "line_items": [
            { "id": line, "quantity": 2, "subtotal": "25.00", "total": "25.00" },
            { "product_id": tee, "quantity": 1 },
        ] }),
    )
    .await;
    let edited = f.woo.sim.order(order.id).unwrap();
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    assert_eq!(f.ns.sim.record_count("salesOrder"), 1, "the same sales order, updated");
    let so = f.sales_order(order.id).unwrap();
    let lines = so["item"]["items"].as_array().unwrap();
    assert_eq!((lines[0]["quantity"].as_i64(), lines[1]["quantity"].as_i64()), (Some(2), Some(1)));
    assert_eq!(dec(&so["total"]), dec(&edited["total"]), "NetSuite's total follows WooCommerce's new total");
    // Repeating the edit's webhook changes nothing more.
    assert_eq!(f.flow.sync_order(order.id).await.unwrap(), Synced::Unchanged);

    f.ns.sim.fulfil(so["id"].as_str().unwrap(), &[]);
    f.edit_order(
        order.id,
        serde_json::json!({ "line_items": [{ "id": line, "quantity": 3, "subtotal": "37.50", "total": "37.50" }] }),
    )
    .await;
    assert_eq!(f.flow.sync_order(order.id).await.unwrap(), Synced::Frozen);
    assert_eq!(f.sales_order(order.id).unwrap()["item"]["items"][0]["quantity"].as_i64(), Some(2), "not edited");
    let open = exceptions::open(&f.store, Some(exceptions::ExceptionKind::ChangedAfterFulfilment)).await.unwrap();
    assert_eq!((open.len(), open[0].owner.as_str()), (1, "operations"));
}

async fn a_backlog_goes_in_async_batches_and_one_bad_record_fails_alone(backend: Backend) {
    let o = support::Options { workers: 16, ..support::Options::default() };
    let f = support::flow_with(backend, o, |s, _| {
        // Every upsert beyond none under way synchronously joins a batch: all of them here.
        s.batch =
            BatchSettings { enabled: true, sync_slots: 0, linger_ms: 400, poll_ms: 50, ..BatchSettings::default() };
    })
    .await;
    let (mug, _) = f.product("BATCH-MUG", Decimal::new(1250, 2), true);
    let item = f.ns.sim.seed_item(SeedItem { subsidiaries: vec!["2".into()], ..SeedItem::new("BATCH-UK") });
    let (uk, _) = f.product("BATCH-UK", Decimal::new(900, 2), false);
    let mut orders = Vec::new();
    for n in 0..12 {
        let line = if n == 5 { uk } else { mug };
        let order = f.woo.sim.checkout(Checkout::guest(guest(&format!("b{n}@example.com"))).line(line, 1)).unwrap();
        f.enqueue(order.id).await;
        orders.push(order);
    }
    f.settle(SETTLE).await;

    let counts = f.ns.sim.counters().requests_by_op;
    assert_eq!(counts.get("upsert salesOrder"), None, "no synchronous sales-order upsert: {counts:?}");
    assert!(counts.get("async batch").is_some_and(|n| *n >= 1), "{counts:?}");
    assert!(
        (1..=3).contains(&f.flow.batches_submitted()),
        "12 orders in a few batches: {}",
        f.flow.batches_submitted()
    );
    for (n, order) in orders.iter().enumerate() {
        let so = f.sales_order(order.id);
        if n == 5 {
            assert!(so.is_none(), "the bad record is not posted");
        } else {
            let so = so.unwrap_or_else(|| panic!("order {n} is posted"));
            assert_eq!(dec(&so["total"]), order.total);
            let posted = f.woo.sim.order(order.id).unwrap();
            assert_eq!(meta(&posted, "_netsuite_sales_order_id").as_deref(), so["id"].as_str(), "order {n}");
        }
    }
    assert_eq!(f.ns.sim.record_count("salesOrder"), 11);
    // The bad one is blocked with the exception a synchronous refusal raises, and only it.
    let open = exceptions::open(&f.store, Some(exceptions::ExceptionKind::ItemNotSellable)).await.unwrap();
    assert_eq!((open.len(), open[0].entity_key.clone()), (1, format!("item:{item}")));
    assert!(open[0].message.contains("for subsidiary 1"), "NetSuite's words: {}", open[0].message);
    let summary = f.queue.summary().await.unwrap();
    assert_eq!((summary.total(JobState::Blocked), summary.total(JobState::Dead)), (1, 0));
}

async fn an_item_not_sold_in_the_subsidiary_blocks_until_netsuite_fixes_it(backend: Backend) {
    let f = support::flow(backend, |_, _| {}).await;
    let item = f.ns.sim.seed_item(SeedItem { subsidiaries: vec!["2".into()], ..SeedItem::new("UK-ONLY") });
    let (p, _) = f.product("UK-ONLY", Decimal::new(900, 2), false);
    let order = f.woo.sim.checkout(Checkout::guest(guest("sub@example.com")).line(p, 1)).unwrap();
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    assert!(f.sales_order(order.id).is_none());
    let open = exceptions::open(&f.store, Some(exceptions::ExceptionKind::ItemNotSellable)).await.unwrap();
    assert_eq!((open.len(), open[0].owner.as_str()), (1, "ecommerce"));
    assert_eq!(open[0].entity_key, format!("item:{item}"));
    assert!(open[0].message.contains("for subsidiary 1"), "NetSuite's words: {}", open[0].message);

    // The recheck looks at each newly blocked item once, then only when NetSuite says it changed.
    let mut seen = std::collections::BTreeMap::new();
    assert_eq!(f.flow.recheck(&mut seen).await.unwrap(), 1);
    f.settle(SETTLE).await;
    assert_eq!(f.flow.recheck(&mut seen).await.unwrap(), 0, "unchanged item: left alone");
    assert_eq!(f.queue.summary().await.unwrap().total(JobState::Blocked), 1);

    f.ns.sim.set_item_subsidiaries(&item, &["1", "2"]);
    // NetSuite's lastmodifieddate has a resolution of a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    f.ns.sim.set_item_subsidiaries(&item, &["1", "2"]);
    assert_eq!(f.flow.recheck(&mut seen).await.unwrap(), 1, "the fixed item requeues its orders");
    f.settle(SETTLE).await;
    assert!(f.sales_order(order.id).is_some(), "posted with no manual step");
}

async fn customer_data_netsuite_rejects_waits_for_customer_service_and_the_corrected_order_posts(backend: Backend) {
    let f = support::flow(backend, |_, _| {}).await;
    let (mug, _) = f.product("WNS-MUG", Decimal::new(1250, 2), true);
    let order = f.woo.sim.checkout(Checkout::guest(guest("jane doe@example.com")).line(mug, 1)).unwrap();
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    assert!(f.sales_order(order.id).is_none());
    let open = exceptions::open(&f.store, Some(exceptions::ExceptionKind::CustomerRejected)).await.unwrap();
    assert_eq!((open.len(), open[0].owner.as_str()), (1, "customer_service"));
    assert!(open[0].message.contains("valid email"), "{}", open[0].message);
    assert_eq!(f.queue.summary().await.unwrap().total(JobState::Blocked), 1, "blocked, not failed");

    // Customer service corrects the order; WooCommerce's order.updated webhook is the requeue.
    f.edit_order(order.id, serde_json::json!({ "billing": { "email": "jane.doe@example.com" } })).await;
    f.enqueue(order.id).await;
    f.settle(SETTLE).await;
    assert!(f.sales_order(order.id).is_some());
    assert!(exceptions::open(&f.store, Some(exceptions::ExceptionKind::CustomerRejected)).await.unwrap().is_empty());
}

async fn netsuite_tax_within_tolerance_is_approved_and_beyond_it_waits_for_finance(backend: Backend) {
    let f = support::flow(backend, |s, _| s.orders.tax_mode = TaxMode::Netsuite).await;
    let (mug, _) = f.product("WNS-MUG", Decimal::new(1250, 2), true);
    let ship = ShippingChoice::flat_rate(Decimal::new(500, 2));
    // NetSuite's tax engine with California's rate: the same tax as WooCommerce's.
    f.ns.sim.set_tax_rate(Some(Decimal::new(725, 4)));
    let ok = f.woo.sim.checkout(Checkout::guest(guest("t1@example.com")).line(mug, 3).shipping(ship.clone())).unwrap();
    f.enqueue(ok.id).await;
    f.settle(SETTLE).await;
    let so = f.sales_order(ok.id).unwrap();
    assert!(so["item"]["items"][0]["taxAmount"].is_number(), "NetSuite calculated the tax");
    assert!((dec(&so["total"]) - ok.total).abs() <= Decimal::new(1, 2));
    assert_eq!(so["orderStatus"]["id"], "B", "approved");

    // A wrong rate in NetSuite: the order waits in Pending Approval and finance is told.
    f.ns.sim.set_tax_rate(Some(Decimal::new(5, 2)));
    let off = f.woo.sim.checkout(Checkout::guest(guest("t2@example.com")).line(mug, 3).shipping(ship)).unwrap();
    f.enqueue(off.id).await;
    f.settle(SETTLE).await;
    assert_eq!(f.sales_order(off.id).unwrap()["orderStatus"]["id"], "A");
    let open = exceptions::open(&f.store, Some(exceptions::ExceptionKind::TaxDifference)).await.unwrap();
    assert_eq!((open.len(), open[0].owner.as_str()), (1, "finance"));
    assert_eq!(f.queue.summary().await.unwrap().total(JobState::Blocked), 1);

    // Finance fixes the rate; the recheck sends the order again and it is approved.
    f.ns.sim.set_tax_rate(Some(Decimal::new(725, 4)));
    assert_eq!(f.flow.recheck(&mut Default::default()).await.unwrap(), 1);
    f.settle(SETTLE).await;
    assert_eq!(f.sales_order(off.id).unwrap()["orderStatus"]["id"], "B");
    assert!(exceptions::open(&f.store, Some(exceptions::ExceptionKind::TaxDifference)).await.unwrap().is_empty());
}

on_both_databases!(
    a_new_guest_then_the_order_and_a_repeat_costs_no_netsuite_write,
    the_same_guest_twice_is_one_customer_and_a_registered_one_is_hers_by_external_id,
    coupon_shipping_fee_and_tax_reach_netsuite_to_the_cent,
    orders_route_by_country_rule_and_by_stock,
    an_unmapped_sku_blocks_and_the_mapping_posts_it_with_no_manual_step,
    cancelled_after_posting_closes_the_lines_restored_reopens_and_fulfilled_is_left_alone,
    a_deleted_order_closes_its_sales_order,
    a_line_edit_before_fulfilment_updates_the_sales_order_and_after_fulfilment_raises,
    an_item_not_sold_in_the_subsidiary_blocks_until_netsuite_fixes_it,
    a_backlog_goes_in_async_batches_and_one_bad_record_fails_alone,
    customer_data_netsuite_rejects_waits_for_customer_service_and_the_corrected_order_posts,
    netsuite_tax_within_tolerance_is_approved_and_beyond_it_waits_for_finance,
);
