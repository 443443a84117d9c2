//! The contract tests, each a function of the store it runs against (see `main.rs`).

use std::time::Duration;

use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sqlx::Row;
use wns::{
    clock,
    monitor::exceptions::{self, ExceptionKind},
    queue::{JobKind, Queue, RetryPolicy},
    store::Backend,
    testing::TestDb,
    woo::{
        WooClient, WooError, health,
        model::Order,
        sweep::{SweepOptions, sweep},
        webhook::signature_valid,
    },
};

use crate::target::{ACTION_SCHEDULER, Received, Target, WEBHOOK_SECRET, receiver, until};
use wns::woo::catalog::StockDelta;

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

pub async fn products_and_variations_by_sku_over_oauth(t: Target) {
    let woo = t.client();
    let (mug, mug_sku) = t.product("MUG", "12.00", 50).await;
    let found = woo.products_by_sku(&mug_sku).await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].id, found[0].stock_quantity), (mug, Some(50)));

    let tee_sku = format!("TEE-{}", t.tag);
    let tee = t
        .rest(
            Method::POST,
            "products",
            Some(json!({
                "name": "Contract Tee", "type": "variable", "sku": tee_sku, "status": "publish",
                "attributes": [{ "name": "Size", "options": ["S", "M", "L"], "variation": true, "visible": true }]
            })),
        )
        .await["id"]
        .as_u64()
        .unwrap();
    for size in ["S", "M", "L"] {
        t.rest(
            Method::POST,
            &format!("products/{tee}/variations"),
            Some(json!({
                "sku": format!("{tee_sku}-{size}"), "regular_price": "19.00", "manage_stock": true,
                "stock_quantity": 10, "attributes": [{ "name": "Size", "option": size }]
            })),
        )
        .await;
    }
    let variations = woo.variations(tee).await.unwrap();
    let mut skus: Vec<String> = variations.iter().map(|v| v.sku.clone()).collect();
    skus.sort();
    assert_eq!(skus, ["L", "M", "S"].map(|s| format!("{tee_sku}-{s}")));
    assert!(variations.iter().all(|v| v.stock_quantity == Some(10)), "{variations:?}");
    // WooCommerce 7.9's variations endpoint names neither a parent nor a type; the product search
    // by SKU does.
    assert!(variations.iter().all(|v| v.parent_id == 0 && v.kind.is_empty()), "{variations:?}");
    let tee_l = woo.products_by_sku(&format!("{tee_sku}-L")).await.unwrap();
    assert_eq!((tee_l[0].parent_id, tee_l[0].kind.as_str()), (tee, "variation"));

    let both = woo.products_by_skus(&[mug_sku.as_str(), &format!("{tee_sku}-L")]).await.unwrap();
    let mut ids: Vec<u64> = both.iter().map(|p| p.id).collect();
    ids.sort();
    let mut expected = vec![mug, tee_l[0].id];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(woo.products_by_sku(&format!("NONE-{}", t.tag)).await.unwrap().is_empty());
}

pub async fn basic_auth_over_https_behind_a_tls_proxy(t: Target) {
    let proxy = crate::tls_proxy::start(&t.base_url).await;
    let (id, sku) = t.product("TLS", "5.00", 3).await;

    // Without the proxy's CA the client refuses the certificate: the TLS is real.
    let untrusted = WooClient::new(&t.settings(&proxy.url)).unwrap();
    let refused = untrusted.products_by_sku(&sku).await.unwrap_err();
    assert!(matches!(refused, WooError::Transport { .. }), "{refused:?}");
    assert!(refused.to_string().contains("certificate"), "the message names the cause: {refused}");

    let mut settings = t.settings(&proxy.url);
    settings.ca_file = Some(proxy.ca_file.display().to_string());
    let woo = WooClient::new(&settings).unwrap();
    let found = woo.products_by_sku(&sku).await.unwrap();
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), [id], "read over https with Basic auth");
    let written = woo.batch_update(None, &[json!({ "id": id, "stock_quantity": 9 })]).await.unwrap();
    assert_eq!(written[0].result.as_ref().unwrap().stock_quantity, Some(9), "written over https with Basic auth");

    // The same keys signed as OAuth 1.0a are not what a store on https takes: wns picks Basic by
    // the scheme, and a wrong secret over https is refused as WooCommerce refuses it.
    let mut wrong = settings.clone();
    wrong.consumer_secret = "cs_wrong".to_string().into();
    let denied = WooClient::new(&wrong).unwrap().products_by_sku(&sku).await.unwrap_err();
    match denied {
        WooError::Api { status, code, .. } => {
            assert_eq!((status, code.as_str()), (401, "woocommerce_rest_authentication_error"))
        }
        other => panic!("{other:?}"),
    }
    let bad_ca = std::env::temp_dir().join(format!("wns-not-a-ca-{}.pem", t.tag));
    std::fs::write(&bad_ca, "not a certificate").unwrap();
    settings.ca_file = Some(bad_ca.display().to_string());
    let message = WooClient::new(&settings).unwrap_err();
    let _ = std::fs::remove_file(&bad_ca);
    assert!(message.starts_with("woocommerce.ca_file:") && message.contains("no certificate"), "{message}");
}

pub async fn paging_headers_count_and_link_the_pages(t: Target) {
    let mut skus = Vec::new();
    for n in 1..=5 {
        skus.push(t.product(&format!("PAGE{n}"), "1.00", 1).await.1);
    }
    let list = skus.join(",");
    let page = |n: u32| format!("products?sku={list}&per_page=2&page={n}&orderby=id&order=asc");
    let header = |h: &reqwest::header::HeaderMap, name: &str| {
        h.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    };
    let (status, h, first) = t.call(Method::GET, &page(1), None).await;
    assert_eq!(status, 200);
    assert_eq!((header(&h, "x-wp-total"), header(&h, "x-wp-totalpages")), ("5".into(), "3".into()));
    assert_eq!(first.as_array().unwrap().len(), 2);
    let link = header(&h, "link");
    assert!(link.contains("rel=\"next\"") && !link.contains("rel=\"prev\""), "{link}");
    let (_, h, last) = t.call(Method::GET, &page(3), None).await;
    assert_eq!(last.as_array().unwrap().len(), 1);
    let link = header(&h, "link");
    assert!(link.contains("rel=\"prev\"") && !link.contains("rel=\"next\""), "{link}");
    let (status, h, past) = t.call(Method::GET, &page(4), None).await;
    assert_eq!((status, past.clone(), header(&h, "x-wp-total")), (200, json!([]), "5".into()), "past the last page");

    // The client reads the same headers.
    let found = t.client().products_by_skus(&skus.iter().map(String::as_str).collect::<Vec<_>>()).await.unwrap();
    assert_eq!(found.len(), 5);
}

pub async fn an_order_with_a_coupon_a_fee_shipping_and_tax_reads_to_the_cent(t: Target) {
    let (mug, _) = t.product("ORDMUG", "12.00", 50).await;
    let (poster, _) = t.product("ORDPOSTER", "8.50", 50).await;
    let address = json!({
        "first_name": "Ada", "last_name": "Lovelace", "address_1": "1 Main St", "city": "San Francisco",
        "state": "CA", "postcode": "94103", "country": "US"
    });
    let mut billing = address.clone();
    billing["email"] = json!(format!("ada-{}@example.com", t.tag.to_lowercase()));
    let created = t
        .rest(
            Method::POST,
            "orders",
            Some(json!({
                "status": "processing", "payment_method": "bacs", "payment_method_title": "Bank transfer",
                "billing": billing, "shipping": address,
                "line_items": [{ "product_id": mug, "quantity": 2 }, { "product_id": poster, "quantity": 1 }],
                "coupon_lines": [{ "code": "tenoff" }],
                "shipping_lines": [{ "method_id": "flat_rate", "method_title": "Flat rate", "total": "5.00" }],
                "fee_lines": [{ "name": "Gift wrap", "total": "2.00", "tax_status": "taxable" }]
            })),
        )
        .await;
    let id = created["id"].as_u64().unwrap();
    let raw = t.client().order(id).await.unwrap();
    let order: Order = serde_json::from_value(raw.clone()).unwrap();

    // WooCommerce's own sums hold: the total is the lines after coupons, shipping, fees and tax.
    let lines: Decimal = order.line_items.iter().map(|l| l.total).sum();
    let shipping: Decimal = order.shipping_lines.iter().map(|s| s.total).sum();
    let fees: Decimal = order.fee_lines.iter().map(|f| f.total).sum();
    assert_eq!(lines + shipping + fees + order.total_tax, order.total, "{raw}");
    let subtotals: Decimal = order.line_items.iter().map(|l| l.subtotal).sum();
    assert_eq!(subtotals - lines, order.discount_total, "{raw}");

    // The figures, as the real WooCommerce 7.9 works them out (10 % off 32.50, CA 7.25 % on the
    // lines, the fee and shipping).
    let line = |pid: u64| order.line_items.iter().find(|l| l.product_id == pid).unwrap();
    assert_eq!((line(mug).subtotal, line(mug).total, line(mug).total_tax), (dec("24.00"), dec("21.60"), dec("1.57")));
    assert_eq!((line(poster).total, line(poster).total_tax), (dec("7.65"), dec("0.55")));
    assert_eq!(
        order.coupon_lines.iter().map(|c| (c.code.as_str(), c.discount)).collect::<Vec<_>>(),
        [("tenoff", dec("3.25"))]
    );
    assert_eq!((order.shipping_lines[0].total, order.shipping_lines[0].total_tax), (dec("5.00"), dec("0.36")));
    assert_eq!((order.fee_lines[0].name.as_str(), order.fee_lines[0].total_tax), ("Gift wrap", dec("0.15")));
    assert_eq!((order.discount_total, order.total_tax, order.total), (dec("3.25"), dec("2.63"), dec("38.88")));
}

pub async fn batch_stock_writes_fail_item_by_item(t: Target) {
    let woo = t.client();
    let (a, _) = t.product("BATCHA", "3.00", 5).await;
    let (b, _) = t.product("BATCHB", "3.00", 5).await;
    let missing = 987_654_321;
    let updates = [
        json!({ "id": a, "stock_quantity": 7 }),
        json!({ "id": missing, "stock_quantity": 1 }),
        json!({ "id": b, "stock_quantity": 0 }),
    ];
    let items = woo.batch_update(None, &updates).await.unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!((items[0].id, items[0].result.as_ref().unwrap().stock_quantity), (a, Some(7)));
    match &items[1].result {
        Err(WooError::Api { status, code, .. }) => {
            assert_eq!((items[1].id, *status, code.as_str()), (missing, 400, "woocommerce_rest_product_invalid_id"))
        }
        other => panic!("the unknown product is refused on its own: {other:?}"),
    }
    let zero = items[2].result.as_ref().unwrap();
    assert_eq!((zero.stock_quantity, zero.stock_status.as_str()), (Some(0), "outofstock"));
    assert_eq!(woo.product(a).await.unwrap().stock_quantity, Some(7), "the refused item stopped nothing");
}

pub async fn the_atomic_stock_route_applies_once_and_fails_item_by_item(t: Target) {
    let woo = t.client();
    let (poster, sku) = t.product("ATOMIC", "8.50", 20).await;
    assert!(woo.has_stock_adjust_route().await.unwrap(), "wns-sync's route is found in the namespace index");
    let key = format!("rust-{}", uuid::Uuid::new_v4());
    let items = [
        StockDelta { sku: sku.clone(), delta: -2, idempotency_key: key.clone() },
        StockDelta { sku: format!("NO-SUCH-{}", t.tag), delta: 1, idempotency_key: format!("{key}-x") },
    ];
    let first = woo.adjust_stock(&items).await.unwrap();
    assert_eq!(first[0].result, Ok(18));
    assert!(!first[0].replayed);
    assert_eq!(first[1].result.as_ref().unwrap_err().0, "wns_unknown_sku");

    let again = woo.adjust_stock(&items[..1]).await.unwrap();
    assert!(again[0].replayed);
    assert_eq!(again[0].result, Ok(18));
    assert_eq!(woo.product(poster).await.unwrap().stock_quantity, Some(18));
}

fn deliveries_of(got: &Received, hook: u64) -> Vec<(axum::http::HeaderMap, axum::body::Bytes)> {
    got.lock()
        .unwrap()
        .iter()
        .filter(|(h, _)| h.get("x-wc-webhook-id").and_then(|v| v.to_str().ok()) == Some(&hook.to_string()))
        .filter(|(h, _)| h.get("x-wc-webhook-signature").is_some())
        .cloned()
        .collect()
}

pub async fn a_webhook_is_created_pinged_unsigned_and_delivers_signed(t: Target) {
    let _queue = ACTION_SCHEDULER.lock().await;
    let woo = t.client();
    let (url, got) = receiver().await;
    let hook = woo.create_webhook("product.updated", &url).await.unwrap();
    assert_eq!((hook.status.as_str(), hook.topic.as_str()), ("active", "product.updated"));
    {
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 1, "the creation ping, synchronous");
        let (headers, body) = &got[0];
        assert_eq!(std::str::from_utf8(body).unwrap(), format!("webhook_id={}", hook.id));
        assert!(headers.get("x-wc-webhook-signature").is_none(), "the ping is not signed: {headers:?}");
    }
    assert!(woo.webhooks().await.unwrap().iter().any(|w| w.id == hook.id && w.delivery_url == url));

    let (poster, sku) = t.product("HOOK", "8.50", 20).await;
    let key = format!("rust-hook-{}", uuid::Uuid::new_v4());
    woo.adjust_stock(&[StockDelta { sku, delta: 1, idempotency_key: key }]).await.unwrap();
    until(&t, "a signed delivery", async || !deliveries_of(&got, hook.id).is_empty()).await;
    t.delete_webhook(hook.id).await;

    let (headers, body) = deliveries_of(&got, hook.id).remove(0);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(header("x-wc-webhook-topic"), "product.updated");
    assert_eq!(header("x-wc-webhook-resource"), "product");
    assert_eq!(header("x-wc-webhook-event"), "updated");
    assert!(!header("x-wc-webhook-delivery-id").is_empty(), "{headers:?}");
    assert!(header("user-agent").starts_with("WooCommerce/7.9.0 Hookshot (WordPress/6.1"), "{headers:?}");
    assert!(signature_valid(&WEBHOOK_SECRET.into(), &body, &header("x-wc-webhook-signature")), "signature");
    let product: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(product["id"].as_u64(), Some(poster));
}

/// A receiver that answers creation pings and refuses every delivery with 500, as a wns that is
/// down behind a proxy does.
async fn failing_receiver() -> String {
    use axum::{Router, body::Bytes, http::StatusCode, routing::post};
    let app = Router::new().route(
        "/hook",
        post(|body: Bytes| async move {
            if body.starts_with(b"webhook_id=") { StatusCode::OK } else { StatusCode::INTERNAL_SERVER_ERROR }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

pub async fn a_webhook_disabled_by_failed_deliveries_is_re_enabled_and_the_sweep_finds_its_orders(t: Target) {
    let _queue = ACTION_SCHEDULER.lock().await;
    let woo = t.client();
    let url = failing_receiver().await;
    let hook = woo.create_webhook("order.created", &url).await.unwrap();
    assert_eq!(hook.status, "active");

    // WooCommerce disables a webhook once more than 5 deliveries in a row failed.
    let (mug, _) = t.product("SWEEP", "4.00", 100).await;
    let mut orders = Vec::new();
    for n in 0..8 {
        let order = t
            .rest(
                Method::POST,
                "orders",
                Some(json!({
                    "status": "processing",
                    "billing": { "first_name": "Sam", "email": format!("sweep-{n}-{}@example.com", t.tag.to_lowercase()) },
                    "line_items": [{ "product_id": mug, "quantity": 1 }]
                })),
            )
            .await;
        orders.push(order["id"].as_u64().unwrap());
        t.deliver().await;
    }
    until(&t, "WooCommerce to disable the webhook", async || {
        woo.webhooks().await.unwrap().iter().any(|w| w.id == hook.id && w.status == "disabled")
    })
    .await;

    // wns's health check finds it and sets it active again, saying so.
    let db = TestDb::new(Backend::Sqlite).await;
    let queue = Queue::new(db.store(4).await, clock::system(), RetryPolicy::default());
    let report = health::ensure_webhooks(&woo, queue.store(), &url, queue.now()).await.unwrap();
    let ours: Vec<u64> = woo.webhooks().await.unwrap().iter().filter(|w| w.delivery_url == url).map(|w| w.id).collect();
    let status = woo.webhooks().await.unwrap().into_iter().find(|w| w.id == hook.id).unwrap().status;
    for id in &ours {
        t.delete_webhook(*id).await;
    }
    assert_eq!(report.reenabled, [(hook.id, "order.created".to_string())], "{report:?}");
    assert_eq!(report.created.len(), health::TOPICS.len() - 1, "{report:?}");
    assert_eq!(status, "active");
    let open = exceptions::open(queue.store(), Some(ExceptionKind::WebhookDisabled)).await.unwrap();
    assert_eq!(open.iter().map(|e| e.entity_key.clone()).collect::<Vec<_>>(), [format!("webhook:{}", hook.id)]);

    // Every order whose delivery failed is found by the sweep and queued.
    let opts = SweepOptions { grace: Duration::ZERO, ..SweepOptions::default() };
    let swept = sweep(&woo, &queue, None, &opts).await.unwrap();
    assert!(swept.missed >= orders.len(), "{swept:?}");
    let queued: Vec<String> = sqlx::query("select entity_key from jobs where kind = 'woo.order'")
        .fetch_all(queue.store().pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect();
    for order in &orders {
        assert!(queued.contains(&JobKind::WooOrder.key(*order)), "order {order} queued by the sweep: {queued:?}");
    }
}
