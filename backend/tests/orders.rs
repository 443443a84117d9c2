//! A recorded WooCommerce order (coupon, shipping, fee and tax) posted to the NetSuite simulator as
//! a sales order: NetSuite's own total equals WooCommerce's to the cent, in both coupon modes, on
//! SQLite and PostgreSQL. An unmapped SKU is named, not guessed.

#[macro_use]
#[path = "support/both.rs"]
mod both;

use rust_decimal::Decimal;
use wns::{
    netsuite::{AuthSettings, ExternalId, Governor, Lane, NetSuiteClient, NetSuiteSettings, RecordKey, TbaCredentials},
    store::Backend,
    sync::{
        customers::{Buyer, CustomerSync},
        orders::{CouponMode, MappingError, OrderMapping, resolve_skus, sales_order},
        routing::Route,
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
    let blocked = Handlers::new().on("woo.order", |_| async {
        Outcome::Blocked { owner: Owner::Ecommerce, cause: "sku:WNS-MUG-2".into(), error: "unmapped".into() }
    });
    for n in 1..=2 {
        queue.enqueue(NewJob::new("woo.order", format!("order:{n}"), serde_json::json!({}))).await.unwrap();
    }
    queue.enqueue(NewJob::new("woo.order", "order:3", serde_json::json!({}))).await.unwrap();
    Worker::new(queue.clone(), blocked, WorkerOptions::new("t")).drain().await.unwrap();
    assert_eq!(queue.summary().await.unwrap().total(JobState::Blocked), 3);

    let requeued = wns::sync::orders::save_mapping(&queue, "WNS-MUG-2", "4711", "merch@shop").await.unwrap();
    assert_eq!(requeued, 3, "every order blocked on that SKU, and only those");
    assert_eq!(queue.summary().await.unwrap().total(JobState::Ready), 3);
    let source: String =
        sqlx::query_scalar("select source from sku_map where sku = 'WNS-MUG-2'").fetch_one(store.pool()).await.unwrap();
    assert_eq!(source, "merch@shop", "who mapped it is kept");
    assert_eq!(wns::sync::orders::save_mapping(&queue, "OTHER", "1", "merch@shop").await.unwrap(), 0);
}

on_both_databases!(
    the_recorded_order_posts_with_netsuites_total_equal_to_woocommerces,
    an_unmapped_sku_is_named_and_nothing_is_guessed,
    saving_a_mapping_requeues_the_orders_blocked_on_that_sku,
);
