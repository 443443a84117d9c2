//! `/api/v1/products/status` after a real stock cycle through both simulators, on SQLite and
//! PostgreSQL: mapped, unmapped, without SKU and unknown products in one request; NetSuite's
//! figure per location and in total, wns's figure, WooCommerce's, and freshness by the clock.

use crate::support;
use std::sync::Arc;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use rust_decimal::Decimal;
use serde_json::json;
use tower::ServiceExt;
use wns::{
    api::{
        AppState,
        auth::{Cap, create_key},
        products::{self, StockLimits},
        router,
    },
    metrics::Metrics,
    store::Backend,
    sync::inventory::{StockSettings, StockSync},
};
use wns_api_types::{Freshness, MappingState, ProductStatus, ProductStatusRequest};
use wns_sim::{netsuite::SeedItem, woo::NewProduct};

async fn one_request_tells_mapping_locations_figures_and_freshness(b: Backend) {
    let f = support::flow(b, |_, _| {}).await;
    let [east, central, _] = f.locations.clone();
    let mug = f.woo.sim.add_product(NewProduct::new("Mug", "PS-MUG", Decimal::new(1000, 2)).stock(0));
    let item = f.ns.sim.seed_item(SeedItem::new("PS-MUG"));
    f.ns.sim.set_stock(&item, &east, 7, 7);
    f.ns.sim.set_stock(&item, &central, 3, 3);
    let settings = StockSettings { buffer: 1, ..StockSettings::new(vec![east.clone(), central.clone()]) };
    let stock = StockSync::new(f.client.clone(), support::woo_client(&f.woo.base_url), f.queue.clone(), settings);
    stock.cycle(true).await.unwrap();

    let key = create_key(&f.store, "v", &[Cap::View].into_iter().collect(), f.queue.now()).await.unwrap();
    let app = router(AppState::new(f.queue.clone(), Arc::new(Metrics::new())));
    let req = json!({ "ids": [mug, 987_654], "skus": ["PS-MUG", "", "PS-NOPE"] });
    let res = app
        .clone()
        .oneshot(
            Request::post("/api/v1/products/status")
                .header(header::AUTHORIZATION, format!("Bearer {key}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(req.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let got: Vec<ProductStatus> = serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(got.len(), 5, "one answer per id and SKU asked");

    let by_id = &got[0];
    assert_eq!(
        (by_id.product_id, by_id.sku.as_deref(), by_id.mapping),
        (Some(mug), Some("PS-MUG"), MappingState::Mapped)
    );
    assert_eq!(by_id.netsuite_item_id.as_deref(), Some(item.as_str()));
    let mut locations: Vec<(String, i64)> = by_id.locations.iter().map(|l| (l.location.clone(), l.available)).collect();
    locations.sort();
    let mut expected = vec![(east.clone(), 7), (central.clone(), 3)];
    expected.sort();
    assert_eq!(locations, expected);
    assert_eq!((by_id.netsuite_total, by_id.wns_figure, by_id.woocommerce_stock), (Some(10), Some(9), Some(9)));
    assert_eq!(by_id.freshness, Freshness::Fresh);
    assert!(by_id.written_at.is_some() && by_id.drift.is_none());
    assert_eq!(got[2], ProductStatus { product_id: Some(mug), ..by_id.clone() }, "the same product by SKU");
    assert_eq!(got[1].mapping, MappingState::Unknown);
    assert_eq!(got[3].mapping, MappingState::NoSku);
    assert_eq!((got[4].mapping, got[4].freshness), (MappingState::Unmapped, Freshness::Never));

    // Freshness is the age of NetSuite's figure against the limits.
    let later = |secs: i64| f.queue.now() + secs * 1000;
    let limits = StockLimits { every_secs: 60, stale_after_secs: 900 };
    let ask = ProductStatusRequest { ids: vec![], skus: vec!["PS-MUG".into()] };
    let at = |now| {
        let (store, ask) = (f.store.clone(), ask.clone());
        async move { products::statuses(&store, &ask, now, limits).await.unwrap()[0].freshness }
    };
    assert_eq!(at(later(300)).await, Freshness::Late);
    assert_eq!(at(later(1000)).await, Freshness::Stale);

    let many = json!({ "ids": (0..501).collect::<Vec<u64>>() });
    let res = app
        .oneshot(
            Request::post("/api/v1/products/status")
                .header(header::AUTHORIZATION, format!("Bearer {key}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(many.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

on_both_databases!(one_request_tells_mapping_locations_figures_and_freshness);
