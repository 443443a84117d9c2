//! Product writes: batches (limit over create+update+delete together, per-item errors in a 200),
//! absolute REST stock writes, and wns's own relative, idempotent stock-adjust route.

mod woo_support;

use rust_decimal::Decimal;
use wns_sim::woo::json::OJson;
use wns_sim::woo::{Address, Checkout, NewProduct};
use woo_support::*;

fn parse(s: &str) -> OJson {
    OJson::parse(s.as_bytes()).unwrap()
}

#[tokio::test]
async fn the_batch_limit_counts_create_update_and_delete_together() {
    let (_running, c) = start().await;
    let creates: Vec<String> = (0..50).map(|i| format!(r#"{{"name":"P{i}"}}"#)).collect();
    let deletes: Vec<String> = (0..51).map(|i| (1000 + i).to_string()).collect();
    let body = parse(&format!(r#"{{"create":[{}],"delete":[{}]}}"#, creates.join(","), deletes.join(",")));
    let a = c.post("/products/batch", &body).await;
    assert_eq!((a.status, a.json()), (413, fixture("products-batch-101-items").body));
}

#[tokio::test]
async fn a_batch_answers_200_with_an_error_in_the_slot_of_each_failed_item() {
    let (running, c) = start().await;
    let mug = running.sim.add_product(NewProduct::new("Mug", "WNS-MUG", Decimal::new(1250, 2)).stock(10));
    let body = parse(&format!(
        r#"{{"create":[{{"name":"Dup","sku":"WNS-MUG"}},{{"name":"New","sku":"NEW-1","regular_price":"3.00"}}],
            "update":[{{"id":{mug},"stock_quantity":7}},{{"id":999999,"stock_quantity":1}}],
            "delete":[999998]}}"#
    ));
    let a = c.post("/products/batch", &body).await;
    assert_eq!(a.status, 200);
    let j = a.json();
    let keys: Vec<&str> = j.as_object().unwrap().iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["create", "update", "delete"]);
    let create = j.get("create").and_then(OJson::as_array).unwrap();
    assert_eq!(create[0].get("id"), Some(&OJson::int(0)));
    assert_eq!(create[0].get("error").and_then(|e| e.get("code")), Some(&OJson::str("product_invalid_sku")));
    assert_eq!(create[1].get("sku"), Some(&OJson::str("NEW-1")));
    let update = j.get("update").and_then(OJson::as_array).unwrap();
    assert_eq!(update[0].get("stock_quantity"), Some(&OJson::int(7)));
    let recorded = fixture("products-batch-update-one-bad-id").body;
    let recorded_error = recorded.get("update").and_then(OJson::as_array).unwrap()[2].clone();
    assert_eq!(update[1], recorded_error);
    let delete = j.get("delete").and_then(OJson::as_array).unwrap();
    assert_eq!(
        delete[0].get("error").and_then(|e| e.get("code")),
        Some(&OJson::str("woocommerce_rest_product_invalid_id"))
    );
    assert_eq!(running.sim.counters().batch_requests, 1);
}

#[tokio::test]
async fn rest_stock_writes_are_absolute_and_need_managed_stock() {
    let (running, c) = start().await;
    let sim = &running.sim;
    let mug = sim.add_product(NewProduct::new("Mug", "WNS-MUG", Decimal::new(1250, 2)).stock(10));
    let loose = sim.add_product(NewProduct::new("Loose", "LOOSE", Decimal::ONE));
    sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 3)).unwrap();
    let a = c.put(&format!("/products/{mug}"), &parse(r#"{"stock_quantity":17}"#)).await.json();
    assert_eq!(a.get("stock_quantity"), Some(&OJson::int(17)), "the sale in between is overwritten");
    let a = c.put(&format!("/products/{loose}"), &parse(r#"{"stock_quantity":17}"#)).await.json();
    assert_eq!((a.get("manage_stock"), a.get("stock_quantity")), (Some(&OJson::Bool(false)), Some(&OJson::Null)));
    let zero = c.put(&format!("/products/{mug}"), &parse(r#"{"stock_quantity":0}"#)).await.json();
    assert_eq!(zero.get("stock_status"), Some(&OJson::str("outofstock")));
}

#[tokio::test]
async fn the_stock_adjust_route_applies_deltas_once_per_idempotency_key() {
    let (running, c) = start().await;
    let sim = &running.sim;
    let mug = sim.add_product(NewProduct::new("Mug", "WNS-MUG", Decimal::new(1250, 2)).stock(10));
    sim.add_product(NewProduct::new("Loose", "LOOSE", Decimal::ONE));
    let body = parse(
        r#"{"items":[{"sku":"WNS-MUG","delta":-3,"idempotency_key":"k1"},{"sku":"NOPE","delta":1,"idempotency_key":"k2"},
                     {"sku":"LOOSE","delta":1,"idempotency_key":"k3"}]}"#,
    );
    let first = c.post("/wp-json/wns/v1/stock/adjust", &body).await;
    assert_eq!(first.status, 200);
    let items = first.json().get("items").and_then(OJson::as_array).unwrap().to_vec();
    assert_eq!(items[0].get("stock_quantity"), Some(&OJson::int(7)));
    assert_eq!(items[0].get("replayed"), Some(&OJson::Bool(false)));
    assert_eq!(items[1].get("error").and_then(|e| e.get("code")), Some(&OJson::str("wns_unknown_sku")));
    assert_eq!(items[2].get("error").and_then(|e| e.get("code")), Some(&OJson::str("wns_stock_not_managed")));
    sim.checkout(Checkout::guest(Address::us_ca()).line(mug, 2)).unwrap();
    let again = c.post("/wp-json/wns/v1/stock/adjust", &body).await.json();
    let replay = &again.get("items").and_then(OJson::as_array).unwrap()[0];
    assert_eq!(
        (replay.get("stock_quantity"), replay.get("replayed")),
        (Some(&OJson::int(7)), Some(&OJson::Bool(true)))
    );
    assert_eq!(sim.stock_of(mug), Some(5), "the replay changed nothing; the sale was kept");
    let anonymous = c.http.post(format!("{}/wp-json/wns/v1/stock/adjust", c.base)).body("{}").send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn a_variation_sku_is_found_through_products_and_a_unicode_sku_matches_exactly() {
    let (_running, c) = start().await;
    let cat = recorded_catalogue(&c).await;
    let found = c.get("/products?sku=TSHIRT-L").await.json();
    let v = &found.as_array().unwrap()[0];
    assert_eq!(
        (v.get("id").and_then(OJson::as_u64), v.get("parent_id").and_then(OJson::as_u64)),
        (Some(cat.sizes[2]), Some(cat.tshirt))
    );
    assert_eq!(v.get("name"), Some(&OJson::str("Logo T-Shirt - L")));
    let beans = c.get("/products?sku=CAF%C3%89-CR%C3%88ME-1KG").await.json();
    assert_eq!(beans.as_array().unwrap()[0].get("id").and_then(OJson::as_u64), Some(cat.beans));
    let raw = c.get(&format!("/products/{}", cat.beans)).await.raw;
    assert!(String::from_utf8(raw).unwrap().contains(r#""name":"Caf\u00e9 Cr\u00e8me Beans 1kg""#));
}

#[tokio::test]
async fn slugs_are_unique_and_a_deleted_products_slug_is_free_again() {
    let (running, c) = start().await;
    let sim = &running.sim;
    let slug = |id: u64| sim.product(id).unwrap()["slug"].as_str().unwrap().to_owned();
    let ids: Vec<u64> =
        (0..3).map(|_| sim.add_product(NewProduct::new("Blue Mug", "", Decimal::new(1250, 2)))).collect();
    assert_eq!(ids.iter().map(|id| slug(*id)).collect::<Vec<_>>(), ["blue-mug", "blue-mug-2", "blue-mug-3"]);
    // Trashed, the product keeps its slug; deleted for good, it gives it up.
    assert_eq!(c.delete(&format!("/products/{}", ids[0])).await.status, 200);
    assert_eq!(slug(sim.add_product(NewProduct::new("Blue Mug", "", Decimal::ONE))), "blue-mug-4");
    assert_eq!(c.delete(&format!("/products/{}?force=true", ids[0])).await.status, 200);
    assert_eq!(slug(sim.add_product(NewProduct::new("Blue Mug", "", Decimal::ONE))), "blue-mug");
}

#[tokio::test]
async fn related_products_are_five_other_published_products_in_a_fixed_order() {
    let (running, _c) = start().await;
    let sim = &running.sim;
    let ids: Vec<u64> = (0..40)
        .map(|n| sim.add_product(NewProduct::new(&format!("P{n}"), &format!("REL-{n}"), Decimal::ONE)))
        .collect();
    let related = |id: u64| -> Vec<u64> {
        sim.product(id).unwrap()["related_ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect()
    };
    let mut sets = std::collections::BTreeSet::new();
    for &p in &ids {
        let r = related(p);
        let distinct: std::collections::BTreeSet<u64> = r.iter().copied().collect();
        assert_eq!((r.len(), distinct.len()), (5, 5), "{r:?}");
        assert!(r.iter().all(|id| *id != p && ids.contains(id)), "{r:?}");
        assert_eq!(related(p), r, "the same every time");
        sets.insert(r);
    }
    assert!(sets.len() > 10, "not the same five for every product");
}
