//! The OpenAPI document against the router it describes: served without a credential, OpenAPI
//! 3.1, every `$ref` resolves, and every documented operation exists, is protected (401 without a
//! token, as documented) and answers a caller with a key with a status the document lists.
//! (Schemathesis checks the answers' bodies against the schemas in `cargo xtask test`.)

use crate::api;
use std::{collections::BTreeSet, sync::Arc};

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use wns::{
    api::{
        AppState,
        auth::{Cap, create_key},
        router,
    },
    clock::ManualClock,
    metrics::Metrics,
    queue::{Queue, RetryPolicy},
    store::Backend,
    testing::TestDb,
};

fn refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.insert(r.clone());
            }
            m.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

async fn the_document_describes_the_routes_that_exist(b: Backend) {
    wns::testing::init_logs();
    let db = TestDb::new(b).await;
    let store = db.store(4).await;
    let queue = Queue::new(store.clone(), Arc::new(ManualClock::new(1_764_000_000_000)), RetryPolicy::default());
    let all: BTreeSet<Cap> = Cap::ALL.into_iter().collect();
    let key = create_key(&store, "all", &all, queue.now()).await.unwrap();
    let app = router(AppState::new(queue, Arc::new(Metrics::new())));

    let res = app.clone().oneshot(Request::get("/api/v1/openapi.json").body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the document needs no credential");
    let doc: Value = serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."), "{}", doc["openapi"]);

    let mut found = BTreeSet::new();
    refs(&doc, &mut found);
    assert!(found.len() > 10, "the operations refer to their schemas: {found:?}");
    for r in &found {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(doc["components"]["schemas"].get(name).is_some(), "{r} is not in components.schemas");
    }

    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        assert!(path.starts_with("/api/v1/"), "{path}");
        // Path parameters: ids and SKUs that exist nowhere.
        let concrete = path.replace("{id}", "424242").replace("{sku}", "NO-SUCH-SKU");
        for (method, op) in item.as_object().unwrap() {
            if !["get", "put", "post", "delete"].contains(&method.as_str()) {
                continue;
            }
            operations += 1;
            let method = method.to_uppercase();
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("401") && responses.contains_key("200"), "{method} {path}");
            let (status, body) = api::call(&app, "not-a-key", &method, &concrete, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} without a valid credential: {body}");
            let body = match (method.as_str(), op.get("requestBody")) {
                (_, None) => None,
                ("POST", Some(_)) if path.ends_with("/ignore") => Some(json!({ "reason": "test" })),
                ("PUT", Some(_)) => Some(json!({ "netsuite_item_id": "1" })),
                (_, Some(_)) => Some(json!({ "ids": [1] })),
            };
            let query = if path.ends_with("/search") {
                "?q=mug"
            } else if path.ends_with("/audit") {
                "?entity=sku:MUG"
            } else {
                ""
            };
            let (status, body) = api::call(&app, &key, &method, &format!("{concrete}{query}"), body).await;
            assert!(
                responses.contains_key(status.as_str()),
                "{method} {path} answered {status}, which the document does not list: {body}"
            );
        }
    }
    assert!(operations >= 18, "{operations} operations documented");

    // What the fuzzer found first: axum's own rejections were plain text, and ids past 2^63 wrapped.
    let (status, body) = api::call(&app, &key, "GET", "/api/v1/jobs/abc", None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")), "{body}");
    let big = json!({ "ids": [9_223_372_036_854_775_808u64] });
    let (status, body) = api::call(&app, &key, "POST", "/api/v1/orders/status", Some(big)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("is not a WooCommerce id"), "{body}");
    let (status, body) = api::call(&app, &key, "POST", "/api/v1/products/status", Some(json!([]))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an array is not the object the document asks for: {body}");
    let (status, body) = api::call(&app, &key, "POST", "/api/v1/orders/status", Some(json!({ "ids": [7, 8.0] }))).await;
    assert_eq!((status, body.as_array().map(Vec::len)), (StatusCode::OK, Some(2)), "8.0 is a whole number: {body}");
}

on_both_databases!(the_document_describes_the_routes_that_exist);
