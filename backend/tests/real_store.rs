//! The backend's WooCommerce client against a **real** WordPress 6.1 + WooCommerce 7.9 + wns-sync
//! (the one `cargo xtask wp` starts), over plain http with OAuth 1.0a signatures as wns sends
//! them there. Ignored in a plain `cargo test`: `cargo xtask test` (and `cargo xtask test-php`)
//! start the store and run these with `--ignored` and `WNS_REAL_WOO` = the store's store.json.

use serde_json::Value;
use wns::woo::{WooClient, WooSettings, catalog::StockDelta};

fn real_store() -> (Value, WooClient) {
    let file = std::env::var("WNS_REAL_WOO")
        .expect("WNS_REAL_WOO must name a running test store's store.json: run these with `cargo xtask test-php`");
    let info: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("reading store.json")).unwrap();
    let text = |k: &str| info[k].as_str().unwrap().to_string();
    let settings = WooSettings {
        base_url: text("url"),
        consumer_key: text("consumer_key"),
        consumer_secret: text("consumer_secret").into(),
        webhook_secret: "wns-test-webhook-secret".into(),
        webhook_max_body_bytes: 2 * 1024 * 1024,
        public_url: "http://127.0.0.1:9".into(),
        sweep_every_secs: 300,
        webhook_check_every_secs: 300,
    };
    let client = WooClient::new(&settings).unwrap();
    (info, client)
}

fn id(info: &Value, sku: &str) -> u64 {
    info["products"][sku].as_u64().unwrap()
}

#[tokio::test]
#[ignore = "needs a real store: cargo xtask test-php"]
async fn products_and_variations_by_sku_over_oauth() {
    let (info, woo) = real_store();
    let found = woo.products_by_sku("WNS-MUG").await.unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].id, id(&info, "WNS-MUG"));
    assert!(found[0].stock_quantity.is_some());

    let variations = woo.variations(id(&info, "WNS-TEE")).await.unwrap();
    let mut skus: Vec<&str> = variations.iter().map(|v| v.sku.as_str()).collect();
    skus.sort();
    assert_eq!(skus, ["WNS-TEE-L", "WNS-TEE-M", "WNS-TEE-S"]);
    // WooCommerce's variations endpoint names no parent (nor does the simulator's); the product
    // search by SKU does.
    assert!(variations.iter().all(|v| v.parent_id == 0), "{variations:?}");
    let tee_l = woo.products_by_sku("WNS-TEE-L").await.unwrap();
    assert_eq!((tee_l[0].parent_id, tee_l[0].kind.as_str()), (id(&info, "WNS-TEE"), "variation"));

    let both = woo.products_by_skus(&["WNS-POSTER", "WNS-TEE-L"]).await.unwrap();
    let mut ids: Vec<u64> = both.iter().map(|p| p.id).collect();
    ids.sort();
    assert_eq!(ids, [id(&info, "WNS-POSTER"), id(&info, "WNS-TEE-L")]);
}

#[tokio::test]
#[ignore = "needs a real store: cargo xtask test-php"]
async fn the_atomic_stock_route_applies_once_and_fails_item_by_item() {
    let (info, woo) = real_store();
    assert!(woo.has_stock_adjust_route().await.unwrap(), "wns-sync's route is found in the namespace index");
    let before = woo.product(id(&info, "WNS-POSTER")).await.unwrap().stock_quantity.unwrap();
    let key = format!("rust-{}", uuid::Uuid::new_v4());
    let items = [
        StockDelta { sku: "WNS-POSTER".into(), delta: -2, idempotency_key: key.clone() },
        StockDelta { sku: "NO-SUCH-SKU".into(), delta: 1, idempotency_key: format!("{key}-x") },
    ];
    let first = woo.adjust_stock(&items).await.unwrap();
    assert_eq!(first[0].result, Ok(before - 2));
    assert!(!first[0].replayed);
    assert_eq!(first[1].result.as_ref().unwrap_err().0, "wns_unknown_sku");

    let again = woo.adjust_stock(&items[..1]).await.unwrap();
    assert!(again[0].replayed);
    assert_eq!(again[0].result, Ok(before - 2));
    assert_eq!(woo.product(id(&info, "WNS-POSTER")).await.unwrap().stock_quantity, Some(before - 2));
}
