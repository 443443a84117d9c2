//! Webhook delivery as WooCommerce does it: signed JSON with the `X-WC-Webhook-*` headers, an
//! unsigned form ping at creation, loss as a configurable fault, and disabling after repeated
//! failures. Tests drain the simulator's queue (`settle`) instead of sleeping.

mod woo_support;

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use rust_decimal::Decimal;
use sha2::Sha256;
use wns_sim::woo::json::OJson;
use wns_sim::woo::{Address, Checkout, NewProduct, WebhookDelivery, WooConfig, WooSim};
use woo_support::*;

const SECRET: &str = "wns-fixture-secret-7f3a";
const SETTLE: Duration = Duration::from_secs(10);

fn signature(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn mug(sim: &WooSim) -> u64 {
    sim.add_product(NewProduct::new("Enamel Mug", "WNS-MUG", Decimal::new(1250, 2)).stock(1000))
}

fn one_mug(sim: &WooSim, product: u64) -> u64 {
    sim.checkout(Checkout::guest(Address::us_ca()).line(product, 1)).expect("checkout").id
}

#[tokio::test]
async fn an_order_delivery_is_signed_and_carries_woocommerces_headers() {
    let (running, c) = start().await;
    let receiver = Receiver::start().await;
    let body = OJson::obj([
        ("name", OJson::str("wns order.created")),
        ("topic", OJson::str("order.created")),
        ("delivery_url", OJson::str(&receiver.url)),
        ("secret", OJson::str(SECRET)),
    ]);
    let webhook = c.post("/webhooks", &body).await.json().get("id").and_then(OJson::as_u64).unwrap();
    let ping = &receiver.wait_for(1).await[0];
    assert_eq!(ping.body.as_ref(), format!("webhook_id={webhook}").as_bytes());
    assert_eq!(ping.header("content-type"), "application/x-www-form-urlencoded");
    assert!(ping.headers.keys().all(|k| !k.as_str().starts_with("x-wc-webhook")), "the ping is unsigned");

    let sim = &running.sim;
    let order = one_mug(sim, mug(sim));
    assert!(sim.settle(SETTLE).await);
    let d = &receiver.wait_for(2).await[1];
    assert_eq!(d.header("x-wc-webhook-signature"), signature(&d.body));
    assert_eq!(d.header("x-wc-webhook-topic"), "order.created");
    assert_eq!(d.header("x-wc-webhook-resource"), "order");
    assert_eq!(d.header("x-wc-webhook-event"), "created");
    assert_eq!(d.header("x-wc-webhook-id"), webhook.to_string());
    assert_eq!(d.header("x-wc-webhook-source"), format!("{}/", running.base_url));
    assert_eq!(d.header("x-wc-webhook-delivery-id").len(), 32);
    assert_eq!(d.header("user-agent"), "WooCommerce/7.9.0 Hookshot (WordPress/6.1.9)");
    assert_eq!(d.header("content-type"), "application/json");
    assert!(d.body.windows(2).any(|w| w == b"\\/"), "slashes are escaped as WordPress does");
    let payload = OJson::parse(&d.body).unwrap();
    assert_eq!(payload.to_value(), sim.order(order).unwrap());
    let recorded = OJson::parse(fixture_delivery("06-order-created-order-23").as_bytes()).unwrap();
    assert_same_shape("webhooks/06", &recorded, &payload);
}

fn fixture_delivery(name: &str) -> String {
    let path = fixtures_dir().join("webhooks").join(format!("{name}.json"));
    let f = OJson::parse(&std::fs::read(path).unwrap()).unwrap();
    f.get("raw_body").and_then(OJson::as_str).unwrap().to_owned()
}

#[tokio::test]
async fn one_checkout_fires_order_created_order_updated_and_product_updated() {
    let (running, _c) = start().await;
    let sim = &running.sim;
    let receiver = Receiver::start().await;
    for topic in ["order.created", "order.updated", "product.updated"] {
        sim.add_webhook(topic, &receiver.url, SECRET);
    }
    receiver.wait_for(3).await;
    let (parent, sizes) = sim.add_variable_product(wns_sim::woo::NewVariableProduct {
        name: "Logo T-Shirt".into(),
        sku: "TSHIRT".into(),
        attribute: "Size".into(),
        variations: vec![wns_sim::woo::NewVariation {
            option: "M".into(),
            sku: "TSHIRT-M".into(),
            regular_price: Decimal::new(2200, 2),
            manage_stock: true,
            stock_quantity: Some(8),
        }],
    });
    sim.checkout(Checkout::guest(Address::us_ca()).variation(parent, sizes[0], 2)).unwrap();
    assert!(sim.settle(SETTLE).await);
    let seen = receiver.wait_for(6).await;
    let topics: Vec<String> = seen[3..].iter().map(|d| d.header("x-wc-webhook-topic")).collect();
    assert_eq!(topics, ["order.created", "order.updated", "product.updated"]);
    let variation = OJson::parse(&seen[5].body).unwrap();
    assert_eq!(variation.get("type"), Some(&OJson::str("variation")));
    assert_eq!(variation.get("stock_quantity"), Some(&OJson::int(6)));
    let recorded = OJson::parse(fixture_delivery("13-product-updated-product-21").as_bytes()).unwrap();
    assert_same_shape("webhooks/13", &recorded, &variation);
}

#[tokio::test]
async fn trashing_and_restoring_an_order_fire_deleted_with_only_the_id_then_restored() {
    let (running, _c) = start().await;
    let sim = &running.sim;
    let receiver = Receiver::start().await;
    sim.add_webhook("order.deleted", &receiver.url, SECRET);
    sim.add_webhook("order.restored", &receiver.url, SECRET);
    receiver.wait_for(2).await;
    let order = one_mug(sim, mug(sim));
    sim.delete_order(order).unwrap();
    assert!(sim.settle(SETTLE).await);
    sim.restore_order(order).unwrap();
    assert!(sim.settle(SETTLE).await);
    let seen = receiver.wait_for(4).await;
    assert_eq!(seen[2].body.as_ref(), format!("{{\"id\":{order}}}").as_bytes());
    let restored = OJson::parse(&seen[3].body).unwrap();
    assert_eq!(restored.get("status"), Some(&OJson::str("processing")), "back to the status it had");
}

#[tokio::test]
async fn lost_deliveries_are_counted_and_never_sent() {
    let (running, _c) = start().await;
    let sim = &running.sim;
    let receiver = Receiver::start().await;
    sim.add_webhook("order.created", &receiver.url, SECRET);
    receiver.wait_for(1).await;
    sim.set_webhook_loss(0.3);
    let product = mug(sim);
    let orders: Vec<u64> = (0..60).map(|_| one_mug(sim, product)).collect();
    assert!(sim.settle(SETTLE).await);
    let n = sim.counters();
    assert_eq!(n.webhooks_queued, 60);
    assert_eq!(n.webhooks_dropped + n.webhooks_delivered, 60);
    assert!(n.webhooks_dropped > 5 && n.webhooks_dropped < 40, "about 30 % lost: {}", n.webhooks_dropped);
    assert_eq!(n.webhooks_dropped_by_topic.get("order.created"), Some(&n.webhooks_dropped));
    let delivered: Vec<u64> = receiver.seen()[1..]
        .iter()
        .map(|d| OJson::parse(&d.body).unwrap().get("id").and_then(OJson::as_u64).unwrap())
        .collect();
    let dropped: Vec<u64> = sim.dropped_deliveries().iter().map(|d| d.resource_id).collect();
    assert_eq!(delivered.len() as u64, n.webhooks_delivered);
    let mut all: Vec<u64> = delivered.iter().chain(&dropped).copied().collect();
    all.sort();
    assert_eq!(all, orders, "every order is either delivered or counted as dropped, never both");
}

#[tokio::test]
async fn a_webhook_is_disabled_after_too_many_consecutive_failures_and_re_enabling_keeps_the_count() {
    let (running, c) = start().await;
    let sim = &running.sim;
    let receiver = Receiver::start().await;
    let webhook = sim.add_webhook("order.created", &receiver.url, SECRET);
    receiver.wait_for(1).await;
    receiver.answer_with(500);
    let product = mug(sim);
    for i in 1..=7 {
        one_mug(sim, product);
        assert!(sim.settle(SETTLE).await);
        let expected = if i < 7 { "active" } else { "disabled" };
        assert_eq!(sim.webhook_status(webhook).as_deref(), Some(expected), "after failure {i}");
    }
    one_mug(sim, product);
    assert!(sim.settle(SETTLE).await);
    let n = sim.counters();
    assert_eq!(
        (n.webhooks_failed, n.webhooks_disabled, n.webhooks_queued),
        (7, 1, 7),
        "a disabled webhook gets nothing"
    );

    let listed = c.get("/webhooks?status=disabled").await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let enabled = c.put(&format!("/webhooks/{webhook}"), &OJson::obj([("status", OJson::str("active"))])).await;
    assert_eq!(enabled.json().get("status"), Some(&OJson::str("active")));
    one_mug(sim, product);
    assert!(sim.settle(SETTLE).await);
    assert_eq!(sim.webhook_status(webhook).as_deref(), Some("disabled"), "WooCommerce keeps the failure count");

    sim.set_webhook_status(webhook, "active").unwrap();
    receiver.answer_with(200);
    one_mug(sim, product);
    one_mug(sim, product);
    assert!(sim.settle(SETTLE).await);
    assert_eq!(sim.webhook_status(webhook).as_deref(), Some("active"));
    assert_eq!(sim.counters().webhooks_delivered, 2);
}

#[tokio::test]
async fn an_unreachable_receiver_counts_as_a_failure() {
    let (running, _c) = start().await;
    let sim = &running.sim;
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", closed.local_addr().unwrap());
    drop(closed);
    sim.add_webhook("order.created", &url, SECRET);
    one_mug(sim, mug(sim));
    assert!(sim.settle(SETTLE).await);
    assert_eq!((sim.counters().webhooks_sent, sim.counters().webhooks_failed), (1, 1));
}

#[tokio::test]
async fn changes_to_one_order_while_its_delivery_waits_are_coalesced() {
    let cfg = WooConfig {
        webhook_delivery: WebhookDelivery {
            delay: Duration::from_millis(150),
            ..WooConfig::for_tests().webhook_delivery
        },
        ..WooConfig::for_tests()
    };
    let running = WooSim::spawn(cfg).await.unwrap();
    let sim = &running.sim;
    let receiver = Receiver::start().await;
    sim.add_webhook("order.updated", &receiver.url, SECRET);
    receiver.wait_for(1).await;
    let order = one_mug(sim, mug(sim));
    sim.update_order_status(order, "completed").unwrap();
    assert!(sim.settle(SETTLE).await);
    let seen = receiver.wait_for(2).await;
    assert_eq!(seen.len(), 2, "one delivery for the creation and the completion");
    assert_eq!(OJson::parse(&seen[1].body).unwrap().get("status"), Some(&OJson::str("completed")), "built when sent");
    assert!(sim.counters().webhooks_coalesced >= 1);
}
