//! Record REST: create, upsert by external id, get, patch, delete, the errors NetSuite gives
//! for bad references and missing fields, and the write whose answer never arrives.

mod netsuite_support;

use netsuite_support::{created_id, error_of, json, start, start_with};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::json;
use wns_sim::netsuite::{Faults, NetSuiteConfig, SeedItem};

const CUSTOMER: &str = "/services/rest/record/v1/customer";
const ORDER: &str = "/services/rest/record/v1/salesOrder";

#[tokio::test]
async fn create_answers_204_with_the_location_and_get_shows_the_record() {
    let ns = start().await;
    let r = ns
        .post(
            CUSTOMER,
            &json!({ "companyname": "Acme", "email": "a@acme.test", "externalId": "wc-1", "subsidiary": { "id": 1 } }),
        )
        .await;
    assert_eq!(r.status(), 204);
    let id = created_id(&r);
    assert_eq!(r.headers()["location"], format!("{}{CUSTOMER}/{id}", ns.running.base_url).as_str());
    assert!(r.text().await.unwrap().is_empty());

    let r = ns.get(&format!("{CUSTOMER}/{id}")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/vnd.oracle.resource+json; type=singular");
    let text = r.text().await.unwrap();
    assert!(text.starts_with(r#"{"links":[{"rel":"self","href":""#), "{text}");
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["companyName"], "Acme");
    assert_eq!(body["isPerson"], false);
    assert_eq!(body["subsidiary"]["id"], "1");
    assert_eq!(
        body["subsidiary"]["links"][0]["href"],
        format!("{}/services/rest/record/v1/subsidiary/1", ns.running.base_url)
    );

    let by_eid = json(ns.get(&format!("{CUSTOMER}/eid:wc-1")).await).await;
    assert_eq!(by_eid["id"], id.as_str());
    assert_eq!(ns.sim().find_by_external_id("customer", "wc-1").unwrap()["email"], "a@acme.test");
}

#[tokio::test]
async fn record_types_are_case_insensitive_and_unknown_ones_are_404() {
    let ns = start().await;
    let id = ns.customer("Acme").await;
    assert_eq!(ns.get(&format!("/services/rest/record/v1/CUSTOMER/{id}")).await.status(), 200);
    let (status, code, _) = error_of(ns.get("/services/rest/record/v1/notARecord/1").await).await;
    assert_eq!((status, code.as_str()), (404, "INVALID_RECORD_TYPE"));
    let (status, code, detail) = error_of(ns.get(&format!("{CUSTOMER}/999999")).await).await;
    assert_eq!((status, code.as_str()), (404, "NONEXISTENT_ID"));
    assert_eq!(detail, "The record instance does not exist. Provide a valid record instance ID.");
}

#[tokio::test]
async fn a_second_create_with_the_same_external_id_is_refused() {
    let ns = start().await;
    let body = json!({ "companyName": "Acme", "externalId": "wc-7" });
    assert_eq!(ns.post(CUSTOMER, &body).await.status(), 204);
    let (status, code, detail) = error_of(ns.post(CUSTOMER, &body).await).await;
    assert_eq!(
        (status, code.as_str(), detail.as_str()),
        (400, "USER_ERROR", "Error while accessing a resource. This entity already exists.")
    );
    assert_eq!(ns.sim().record_count("customer"), 1);
}

#[tokio::test]
async fn upserting_twice_leaves_one_record_with_the_latest_fields() {
    let ns = start().await;
    let first = ns.put(&format!("{CUSTOMER}/eid:CID002"), &json!({ "firstName": "John", "lastName": "Smith" })).await;
    assert_eq!(first.status(), 204);
    let second =
        ns.put(&format!("{CUSTOMER}/eid:CID002"), &json!({ "firstName": "Johnny", "lastName": "Smith" })).await;
    assert_eq!(second.status(), 204);
    assert_eq!(created_id(&first), created_id(&second));
    assert_eq!(ns.sim().record_count("customer"), 1);
    let c = ns.sim().find_by_external_id("customer", "CID002").unwrap();
    assert_eq!((c["firstName"].as_str(), c["isPerson"].as_bool()), (Some("Johnny"), Some(true)));
    assert_eq!(ns.sim().counters().requests_by_op.get("upsert customer"), Some(&2));
}

#[tokio::test]
async fn upsert_needs_an_external_id_in_the_url_made_of_safe_characters() {
    let ns = start().await;
    let id = ns.customer("Acme").await;
    let (status, code, _) = error_of(ns.put(&format!("{CUSTOMER}/{id}"), &json!({ "companyName": "B" })).await).await;
    assert_eq!((status, code.as_str()), (400, "INVALID_PARAMETER"));
    let (status, _, detail) =
        error_of(ns.put(&format!("{CUSTOMER}/eid:a%20b"), &json!({ "companyName": "B" })).await).await;
    assert_eq!(status, 400);
    assert!(detail.contains("letters, digits, underscores and hyphens"), "{detail}");
}

#[tokio::test]
async fn missing_names_give_the_recorded_required_fields_error() {
    let ns = start().await;
    let r = ns.post(CUSTOMER, &json!({ "isPerson": true })).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"type":"https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1","title":"Bad Request","status":400,"o:errorDetails":[{"detail":"Error while accessing a resource. Please enter value(s) for: First Name, Last Name.","o:errorCode":"USER_ERROR"}]}"#
    );
    let (_, _, detail) = error_of(ns.post(CUSTOMER, &json!({ "email": "x@y.z" })).await).await;
    assert_eq!(detail, "Error while accessing a resource. Please enter value(s) for: Company Name.");
}

async fn shop(ns: &netsuite_support::Ns) -> (String, String, String) {
    let location = ns.sim().seed_location("Main");
    let item = ns.sim().seed_item(SeedItem {
        itemid: "SKU-1".into(),
        base_price: Decimal::new(1999, 2),
        ..SeedItem::default()
    });
    (ns.customer("Acme").await, item, location)
}

#[tokio::test]
async fn sales_orders_check_their_references_and_total_exactly() {
    let ns = start().await;
    let (customer, item, location) = shop(&ns).await;
    let inactive = ns.sim().seed_item(SeedItem { itemid: "OLD".into(), is_inactive: true, ..SeedItem::default() });

    let bad_entity =
        json!({ "entity": { "id": "99999" }, "item": { "items": [{ "item": { "id": item }, "quantity": 1 }] } });
    let r = ns.post(ORDER, &bad_entity).await;
    let body = json(r).await;
    assert_eq!(
        body["o:errorDetails"][0],
        json!({ "detail": "Invalid Field Value 99999 for the following field: entity", "o:errorCode": "INVALID_KEY_OR_REF", "o:errorPath": "entity" })
    );

    let bad_line = json!({ "entity": { "id": customer }, "item": { "items": [
        { "item": { "id": item }, "quantity": 1 }, { "item": { "id": inactive }, "quantity": 1 } ] } });
    let body = json(ns.post(ORDER, &bad_line).await).await;
    assert_eq!(body["o:errorDetails"][0]["o:errorPath"], "item.items[1].item");
    assert_eq!(ns.sim().record_count("salesOrder"), 0);

    let order = json!({ "entity": { "id": customer }, "shippingCost": 0.1, "externalId": "shop-1001",
        "item": { "items": [{ "item": { "id": item }, "quantity": 3, "location": { "id": location } }] } });
    let r = ns.post(ORDER, &order).await;
    assert_eq!(r.status(), 204);
    let so = json(ns.get(&format!("{ORDER}/{}?expandSubResources=true", created_id(&r))).await).await;
    assert_eq!(so["total"], json!(60.07));
    assert_eq!(so["item"]["items"][0]["amount"], json!(59.97));
    assert_eq!(so["item"]["items"][0]["line"], json!(1));
    assert_eq!(so["entity"]["refName"], "Acme");
    assert_eq!(so["orderStatus"], json!({ "id": "B", "refName": "Pending Fulfillment" }));
    assert!(so["tranId"].as_str().unwrap().starts_with("SO"));
}

#[tokio::test]
async fn sublists_are_links_unless_expanded() {
    let ns = start().await;
    let (customer, item, _) = shop(&ns).await;
    let r = ns
        .post(ORDER, &json!({ "entity": { "id": customer }, "item": { "items": [{ "item": { "id": item } }] } }))
        .await;
    let url = format!("{ORDER}/{}", created_id(&r));
    let so = json(ns.get(&url).await).await;
    assert_eq!(
        so["item"],
        json!({ "links": [{ "rel": "self", "href": format!("{}{url}/item", ns.running.base_url) }] })
    );
    let lines = json(ns.get(&format!("{url}/item")).await).await;
    assert_eq!(lines["items"][0]["item"]["refName"], "SKU-1");
}

#[tokio::test]
async fn patch_updates_lines_by_key_adds_new_ones_and_replace_drops_the_rest() {
    let ns = start().await;
    let (customer, item, _) = shop(&ns).await;
    let r = ns
        .post(
            ORDER,
            &json!({ "entity": { "id": customer }, "item": { "items": [
        { "item": { "id": item }, "quantity": 1 }, { "item": { "id": item }, "quantity": 2 } ] } }),
        )
        .await;
    let url = format!("{ORDER}/{}", created_id(&r));
    let r = ns.patch(&url, &json!({ "memo": "closed one", "item": { "items": [{ "line": 1, "isclosed": true }, { "item": { "id": item }, "quantity": 5 }] } })).await;
    assert_eq!(r.status(), 204);
    let so = json(ns.get(&format!("{url}?expandSubResources=true")).await).await;
    let lines = so["item"]["items"].as_array().unwrap();
    assert_eq!(lines.len(), 3);
    assert_eq!((lines[0]["isClosed"].as_bool(), lines[2]["line"].as_i64()), (Some(true), Some(3)));
    assert_eq!(so["memo"], "closed one");

    let r =
        ns.patch(&format!("{url}?replace=item"), &json!({ "item": { "items": [{ "line": 2, "quantity": 4 }] } })).await;
    assert_eq!(r.status(), 204);
    let so = json(ns.get(&format!("{url}?expandSubResources=true")).await).await;
    let lines = so["item"]["items"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!((lines[0]["line"].as_i64(), lines[0]["quantity"].as_i64()), (Some(2), Some(4)));
}

#[tokio::test]
async fn delete_removes_the_record() {
    let ns = start().await;
    let id = ns.customer("Acme").await;
    let r = ns.send(Method::DELETE, &format!("{CUSTOMER}/{id}"), None, &[]).await;
    assert_eq!(r.status(), 204);
    assert_eq!(ns.get(&format!("{CUSTOMER}/{id}")).await.status(), 404);
}

#[tokio::test]
async fn a_lost_response_commits_the_write_but_the_client_sees_an_error() {
    let ns = start().await;
    ns.sim().set_faults(Faults { lost_response_rate: 1.0, ..Faults::default() });
    let url = ns.url(CUSTOMER);
    let header = ns.sig().header(&Method::POST, &url);
    let sent = ns
        .http
        .post(url)
        .header("Authorization", header)
        .json(&json!({ "companyName": "Acme", "externalId": "lost-1" }))
        .send()
        .await;
    assert!(sent.is_err(), "expected a transport error, got {:?}", sent.map(|r| r.status()));
    assert_eq!(ns.sim().record_count("customer"), 1);
    assert!(ns.sim().find_by_external_id("customer", "lost-1").is_some());
    assert_eq!(ns.sim().counters().responses_lost, 1);
    // Reads never lose their answer.
    assert_eq!(ns.get("/services/rest/system/v1/governanceLimits").await.status(), 200);
}

#[tokio::test]
async fn injected_server_errors_write_nothing() {
    let ns = start().await;
    ns.sim().set_faults(Faults { server_error_rate: 1.0, ..Faults::default() });
    let (status, code, detail) = error_of(ns.post(CUSTOMER, &json!({ "companyName": "Acme" })).await).await;
    assert_eq!((status, code.as_str()), (500, "UNEXPECTED_ERROR"));
    assert!(detail.starts_with("An unexpected error occurred. Error ID: "));
    assert_eq!(ns.sim().record_count("customer"), 0);
}

#[tokio::test]
async fn an_item_not_sold_in_the_orders_subsidiary_is_refused_until_someone_fixes_the_item() {
    let ns = start().await;
    let customer = ns.customer("Acme").await;
    let everywhere = ns.sim().seed_item(SeedItem::new("ANY"));
    let uk_only = ns.sim().seed_item(SeedItem { subsidiaries: vec!["2".into()], ..SeedItem::new("UK-ONLY") });
    let order = |subsidiary: u64| {
        json!({ "entity": { "id": customer }, "subsidiary": { "id": subsidiary }, "item": { "items": [
            { "item": { "id": everywhere }, "quantity": 1 }, { "item": { "id": uk_only }, "quantity": 1 } ] } })
    };

    let r = ns.post(ORDER, &order(1)).await;
    assert_eq!(r.status(), 400);
    let body = json(r).await;
    assert_eq!(
        body["o:errorDetails"][0],
        json!({ "detail": format!("Invalid item reference key {uk_only} for subsidiary 1."),
                "o:errorCode": "INVALID_KEY_OR_REF", "o:errorPath": "item.items[1].item" })
    );
    assert_eq!(ns.sim().record_count("salesOrder"), 0);
    assert_eq!(ns.post(ORDER, &order(2)).await.status(), 204, "sold in subsidiary 2");

    // SuiteQL sees the edit: the cached item table is rebuilt and lastmodifieddate moves.
    let edited = "SELECT id FROM item WHERE lastmodifieddate > createddate";
    assert_eq!(json(ns.suiteql(edited, 10, 0).await).await["count"], 0);
    ns.sim().set_item_subsidiaries(&uk_only, &["1", "2"]);
    let body = json(ns.suiteql(edited, 10, 0).await).await;
    assert_eq!(body["items"][0]["id"], uk_only.as_str(), "{body}");
    assert_eq!(body["count"], 1);
    assert_eq!(ns.post(ORDER, &order(1)).await.status(), 204);
}

#[tokio::test]
async fn a_tax_rate_taxes_each_line_without_tax_amount_rounding_half_away_from_zero() {
    let mut cfg = NetSuiteConfig::for_tests();
    cfg.tax_rate = Some(Decimal::new(1, 1));
    let ns = start_with(cfg).await;
    let (customer, item, _) = shop(&ns).await;
    let order = json!({ "entity": { "id": customer }, "item": { "items": [
        { "item": { "id": item }, "quantity": 3 },
        { "item": { "id": item }, "rate": 0.05 },
        { "item": { "id": item }, "amount": 10, "taxAmount": 1.23 },
        { "item": { "id": item }, "amount": -0.05 } ] } });
    let r = ns.post(ORDER, &order).await;
    assert_eq!(r.status(), 204);
    let so = json(ns.get(&format!("{ORDER}/{}?expandSubResources=true", created_id(&r))).await).await;
    let taxes: Vec<&serde_json::Value> =
        so["item"]["items"].as_array().unwrap().iter().map(|l| &l["taxAmount"]).collect();
    // 5.997 → 6.00; 0.005 → 0.01 (not banker's 0.00); given 1.23 kept; -0.005 → -0.01.
    assert_eq!(taxes, [&json!(6), &json!(0.01), &json!(1.23), &json!(-0.01)]);
    assert_eq!((&so["subtotal"], &so["taxTotal"], &so["total"]), (&json!(69.97), &json!(7.23), &json!(77.2)));

    // The invoice made from the order keeps the order's tax; a cash sale is taxed itself.
    let r = ns.post(&format!("{ORDER}/{}/!transform/invoice", created_id(&r)), &json!({})).await;
    assert_eq!(r.status(), 204);
    let invoice = json(ns.get(&format!("/services/rest/record/v1/invoice/{}", created_id(&r))).await).await;
    assert_eq!(invoice["taxTotal"], json!(7.23));
    let sale = json!({ "entity": { "id": customer }, "item": { "items": [{ "item": { "id": item } }] } });
    let r = ns.post("/services/rest/record/v1/cashSale", &sale).await;
    let cash = json(ns.get(&format!("/services/rest/record/v1/cashSale/{}", created_id(&r))).await).await;
    assert_eq!((&cash["taxTotal"], &cash["total"]), (&json!(2), &json!(21.99)));

    // Turned off while running: no tax computed, given tax still counts.
    ns.sim().set_tax_rate(None);
    let r = ns.post(ORDER, &order).await;
    let so = json(ns.get(&format!("{ORDER}/{}?expandSubResources=true", created_id(&r))).await).await;
    assert!(so["item"]["items"][0].get("taxAmount").is_none(), "{so}");
    assert_eq!((&so["taxTotal"], &so["total"]), (&json!(1.23), &json!(71.2)));
}

#[tokio::test]
async fn a_customer_email_must_be_a_plausible_address() {
    let ns = start().await;
    for bad in ["acme.test", "@acme.test", "orders@", "or ders@acme.test", "orders@acme.test\tx"] {
        let r = ns.post(CUSTOMER, &json!({ "companyName": "Acme", "email": bad })).await;
        assert_eq!(r.status(), 400, "{bad:?}");
        assert_eq!(
            json(r).await["o:errorDetails"][0],
            json!({ "detail": "Error while accessing a resource. Please enter a valid email address.",
                    "o:errorCode": "USER_ERROR", "o:errorPath": "email" }),
            "{bad:?}"
        );
    }
    assert_eq!(ns.sim().record_count("customer"), 0);
    for good in ["", "orders@acme.test", "o'brien+shop@mail.acme.co.uk"] {
        let r = ns.post(CUSTOMER, &json!({ "companyName": "Acme", "email": good })).await;
        assert_eq!(r.status(), 204, "{good:?}");
    }
    let id = ns.customer("Beta").await;
    let (status, code, _) = error_of(ns.patch(&format!("{CUSTOMER}/{id}"), &json!({ "email": "beta" })).await).await;
    assert_eq!((status, code.as_str()), (400, "USER_ERROR"));
}
