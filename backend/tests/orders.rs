//! A recorded WooCommerce order (coupon, shipping, fee and tax) posted to the NetSuite simulator as
//! a sales order: NetSuite's own total equals WooCommerce's to the cent, in both coupon modes, on
//! SQLite and PostgreSQL. Every order recorded in `fixtures/woocommerce/` maps to a body whose
//! Σ line amounts + Σ tax is the recorded `total`, without the simulator's arithmetic in between.
//! An unmapped SKU is named, not guessed.

#[macro_use]
#[path = "support/both.rs"]
mod both;

use rust_decimal::Decimal;
use wns::{
    netsuite::{AuthSettings, ExternalId, Governor, Lane, NetSuiteClient, NetSuiteSettings, RecordKey, TbaCredentials},
    store::Backend,
    sync::{
        customers::{Buyer, CustomerSync},
        routing::Route,
        sales_order::{CouponMode, MappingError, OrderMapping, resolve_skus, sales_order},
    },
    testing::TestDb,
    woo::model::Order,
};
use wns_sim::netsuite::{self as sim, NetSuiteConfig, NetSuiteSim, SeedItem};

fn recorded_order() -> Order {
    let raw = include_str!("../../fixtures/woocommerce/order-create-guest-coupon-shipping-fee-tax.json");
    let v: serde_json::Value = serde_json::from_str(raw).unwrap();
    serde_json::from_value(v["response"]["body"].clone()).unwrap()
}

fn client(base_url: &str) -> NetSuiteClient {
    let auth = AuthSettings::Tba(TbaCredentials::new(
        sim::TEST_CONSUMER_KEY,
        sim::TEST_CONSUMER_SECRET,
        sim::TEST_TOKEN_ID,
        sim::TEST_TOKEN_SECRET,
    ));
    let settings = NetSuiteSettings {
        base_url: Some(base_url.into()),
        request_timeout_secs: 5,
        ..NetSuiteSettings::new("1234567_SB1", auth)
    };
    NetSuiteClient::new(&settings, Governor::local(&settings.governor)).unwrap()
}

async fn the_recorded_order_posts_with_netsuites_total_equal_to_woocommerces(backend: Backend) {
    wns::testing::init_logs();
    let db = TestDb::new(backend).await;
    let store = db.store(4).await;
    let ns = NetSuiteSim::spawn(NetSuiteConfig::for_tests()).await.unwrap();
    for sku in ["WNS-MUG", "TEE-BR", "CAFÉ-CRÈME-1KG"] {
        ns.sim.seed_item(SeedItem::new(sku));
    }
    let typed = |sku: &str, t: &str| ns.sim.seed_item(SeedItem { item_type: t.into(), ..SeedItem::new(sku) });
    let (shipping, fee, discount) =
        (typed("Shipping", "OthCharge"), typed("Fee", "OthCharge"), typed("Web discount", "Discount"));
    let c = client(&ns.base_url);

    let order = recorded_order();
    assert_eq!(order.total, Decimal::new(7464, 2));
    let skus: Vec<&str> = order.line_items.iter().map(|l| l.sku.as_str()).collect();
    let items = resolve_skus(&c, &store, &skus, 1).await.unwrap();
    assert_eq!(items.len(), 3, "matched by NetSuite itemid, unicode included");
    let buyer = Buyer {
        email: order.billing.email.clone(),
        first_name: order.billing.first_name.clone(),
        last_name: order.billing.last_name.clone(),
        ..Buyer::default()
    };
    let customer = CustomerSync::new(c.clone(), store.clone(), "shop", "1").ensure(&buyer, 1).await.unwrap();

    for (mode, eid) in [(CouponMode::LineRates, "wc-shop-order-23"), (CouponMode::DiscountItem, "wc-shop-order-23-d")] {
        let mapping = OrderMapping {
            coupon_mode: mode,
            discount_item: Some(discount.clone()),
            ..OrderMapping::new("shop", "1", &shipping, &fee)
        };
        let body = sales_order(&order, &customer.netsuite_id, &items, &mapping, &Route::Unrouted).unwrap();
        let so = c.upsert(Lane::Orders, "salesOrder", &ExternalId::parse(eid).unwrap(), &body).await.unwrap();
        let got = c.get(Lane::Orders, "salesOrder", &RecordKey::Internal(so.id), false).await.unwrap().unwrap();
        let total: Decimal = got["total"].to_string().parse().unwrap();
        assert_eq!(total, order.total, "{mode:?}: NetSuite {total} vs WooCommerce {}", order.total);
        assert_eq!(got["custbody_wc_order_number"], "23");
    }
}

async fn an_unmapped_sku_is_named_and_nothing_is_guessed(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store(2).await;
    let ns = NetSuiteSim::spawn(NetSuiteConfig::for_tests()).await.unwrap();
    ns.sim.seed_item(SeedItem::new("WNS-MUG"));
    let c = client(&ns.base_url);
    let err = resolve_skus(&c, &store, &["WNS-MUG", "WNS-MUG-2"], 1).await.unwrap_err();
    assert!(matches!(&err, MappingError::Unmapped(s) if s == "WNS-MUG-2"), "{err}");
    assert!(err.to_string().contains("map it in the SKU mapping screen"), "{err}");
    let mapped: i64 = sqlx::query_scalar("select count(*) from sku_map").fetch_one(store.pool()).await.unwrap();
    assert_eq!(mapped, 1, "the SKU NetSuite knows is remembered");
}

async fn saving_a_mapping_requeues_the_orders_blocked_on_that_sku(backend: Backend) {
    use wns::queue::{Handlers, NewJob, Outcome, Queue, RetryPolicy, Worker, WorkerOptions};
    use wns_api_types::{JobState, Owner};
    let db = TestDb::new(backend).await;
    let store = db.store(2).await;
    let queue = Queue::new(store.clone(), wns::clock::system(), RetryPolicy::default());
    // Orders 1–3 wait for WNS-MUG-2; order 4 waits for another SKU and must stay where it is.
    let blocked = Handlers::new().on("woo.order", |job| async move {
        let sku = if job.entity_key == "order:4" { "WNS-TEE-9" } else { "WNS-MUG-2" };
        Outcome::Blocked { owner: Owner::Ecommerce, cause: format!("sku:{sku}"), error: "unmapped".into() }
    });
    let mut ids = Vec::new();
    for n in 1..=4 {
        ids.push(queue.enqueue(NewJob::new("woo.order", format!("order:{n}"), serde_json::json!({}))).await.unwrap());
    }
    Worker::new(queue.clone(), blocked, WorkerOptions::new("t")).drain().await.unwrap();
    assert_eq!(queue.summary().await.unwrap().total(JobState::Blocked), 4);
    let other = queue.get(ids[3]).await.unwrap().unwrap();
    assert_eq!(other.blocked_cause.as_deref(), Some("sku:WNS-TEE-9"));

    let requeued = wns::sync::sales_order::save_mapping(&queue, "WNS-MUG-2", "4711", "merch@shop").await.unwrap();
    assert_eq!(requeued, 3, "every order blocked on that SKU, and only those");
    assert_eq!(queue.summary().await.unwrap().total(JobState::Ready), 3);
    for id in &ids[..3] {
        let job = queue.get(*id).await.unwrap().unwrap();
        assert_eq!((job.state, job.blocked_cause), (JobState::Ready, None), "{}", job.entity_key);
    }
    let other = queue.get(ids[3]).await.unwrap().unwrap();
    assert_eq!(other.state, JobState::Blocked, "an order blocked on another SKU does not move");
    assert_eq!(other.blocked_cause.as_deref(), Some("sku:WNS-TEE-9"));
    assert_eq!(queue.summary().await.unwrap().total(JobState::Blocked), 1);
    let source: String =
        sqlx::query_scalar("select source from sku_map where sku = 'WNS-MUG-2'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(source, "merch@shop", "who mapped it is kept");
    assert_eq!(wns::sync::sales_order::save_mapping(&queue, "OTHER", "1", "merch@shop").await.unwrap(), 0);
    assert_eq!(queue.get(ids[3]).await.unwrap().unwrap().state, JobState::Blocked);
}

/// Every order WooCommerce sent in `fixtures/woocommerce/` — REST responses (single orders and
/// list pages) and the bodies of order webhook deliveries — with where it was found.
fn recorded_orders() -> Vec<(String, serde_json::Value)> {
    fn walk(at: &str, v: &serde_json::Value, out: &mut Vec<(String, serde_json::Value)>) {
        match v {
            serde_json::Value::Object(o) if o.contains_key("line_items") && o.contains_key("total") => {
                out.push((at.to_string(), v.clone()))
            }
            serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| walk(&format!("{at}.{k}"), x, out)),
            serde_json::Value::Array(a) => a.iter().enumerate().for_each(|(i, x)| walk(&format!("{at}[{i}]"), x, out)),
            _ => {}
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/woocommerce");
    let mut files: Vec<_> = ["", "webhooks"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap().map(|e| e.unwrap().path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        walk(&name, &v["response"]["body"], &mut out);
        if let Some(Ok(body)) = v["raw_body"].as_str().map(serde_json::from_str::<serde_json::Value>) {
            walk(&name, &body, &mut out);
        }
    }
    out
}

fn cents(v: &serde_json::Value) -> Decimal {
    match v {
        serde_json::Value::String(s) => s.parse().unwrap(),
        serde_json::Value::Number(n) => n.to_string().parse().unwrap(),
        other => panic!("not an amount: {other}"),
    }
}

#[test]
fn every_recorded_order_maps_to_lines_and_tax_that_add_up_to_its_woocommerce_total() {
    let orders = recorded_orders();
    let ids: std::collections::BTreeSet<u64> = orders.iter().map(|(_, o)| o["id"].as_u64().unwrap()).collect();
    assert_eq!(ids.into_iter().collect::<Vec<_>>(), [23, 24, 25, 26, 27], "the recorded orders");
    assert!(orders.len() >= 30, "only {} recorded orders found", orders.len());
    let (shipping, fee, discount) = ("901", "902", "903");
    for (at, raw) in &orders {
        let order: Order = serde_json::from_value(raw.clone()).unwrap_or_else(|e| panic!("{at}: {e}"));
        let items = order.line_items.iter().enumerate().map(|(n, l)| (l.sku.clone(), (100 + n).to_string())).collect();
        let (total, total_tax, discount_total) =
            (cents(&raw["total"]), cents(&raw["total_tax"]), cents(&raw["discount_total"]));
        for mode in [CouponMode::LineRates, CouponMode::DiscountItem] {
            let mapping = OrderMapping {
                coupon_mode: mode,
                discount_item: Some(discount.into()),
                ..OrderMapping::new("shop", "1", shipping, fee)
            };
            let body = sales_order(&order, "7", &items, &mapping, &Route::Unrouted).unwrap();
            let lines = body["item"]["items"].as_array().unwrap();
            let amount: Decimal = lines.iter().map(|l| cents(&l["amount"])).sum();
            let tax: Decimal = lines.iter().map(|l| cents(&l["taxAmount"])).sum();
            assert_eq!(
                amount + tax,
                total,
                "{at} ({mode:?}): Σ amount {amount} + Σ tax {tax} vs WooCommerce's total {total}"
            );
            assert_eq!(tax, total_tax, "{at} ({mode:?}): Σ tax vs WooCommerce's total_tax");
            let of = |item: &str| lines.iter().filter(|l| l["item"]["id"] == item).count();
            let charges = raw["shipping_lines"].as_array().unwrap().len() + raw["fee_lines"].as_array().unwrap().len();
            assert_eq!(of(shipping) + of(fee), charges, "{at} ({mode:?}): one line per shipping and fee line");
            let discount_lines: Vec<_> = lines.iter().filter(|l| l["item"]["id"] == discount).collect();
            if mode == CouponMode::DiscountItem && !discount_total.is_zero() {
                assert_eq!(discount_lines.len(), 1, "{at}: the coupons' line");
                assert_eq!(cents(&discount_lines[0]["amount"]), -discount_total, "{at}: the coupons' amount");
            } else {
                assert!(discount_lines.is_empty(), "{at} ({mode:?}): no discount line");
            }
        }
    }
}

on_both_databases!(
    the_recorded_order_posts_with_netsuites_total_equal_to_woocommerces,
    an_unmapped_sku_is_named_and_nothing_is_guessed,
    saving_a_mapping_requeues_the_orders_blocked_on_that_sku,
);
