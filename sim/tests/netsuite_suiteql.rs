//! SuiteQL through REST: the page envelope, NetSuite's paging rules, joins over the analytics
//! tables, and literals that must stay literals whatever a shop puts in a SKU.

mod netsuite_support;

use netsuite_support::{Ns, error_of, json, start};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use wns_sim::netsuite::SeedItem;

fn seed_items(ns: &Ns, n: usize) -> Vec<String> {
    (1..=n)
        .map(|i| {
            ns.sim().seed_item(SeedItem {
                itemid: format!("SKU-{i:03}"),
                base_price: Decimal::new(i as i64 * 100 + 5, 2),
                ..SeedItem::default()
            })
        })
        .collect()
}

/// Oracle-style literal: quotes doubled, control characters as CHR(n) pieces.
fn literal(s: &str) -> String {
    let mut parts = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if c.is_control() {
            if !cur.is_empty() {
                parts.push(format!("'{}'", std::mem::take(&mut cur)));
            }
            parts.push(format!("CHR({})", c as u32));
        } else if c == '\'' {
            cur.push_str("''");
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() || parts.is_empty() {
        parts.push(format!("'{cur}'"));
    }
    parts.join(" || ")
}

#[tokio::test]
async fn a_page_has_the_documented_envelope_and_string_values() {
    let ns = start().await;
    seed_items(&ns, 3);
    let r = ns.suiteql("SELECT id, ItemId, displayname, baseprice, isinactive FROM item ORDER BY id", 1000, 0).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/vnd.oracle.resource+json; type=collection");
    let text = r.text().await.unwrap();
    assert!(text.starts_with(r#"{"links":[{"rel":"self","href":""#), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 6);
    assert_eq!(
        body["links"][0]["href"],
        format!("{}/services/rest/query/v1/suiteql?limit=1000&offset=0", ns.running.base_url)
    );
    assert_eq!(
        (body["count"].as_u64(), body["hasMore"].as_bool(), body["totalResults"].as_u64()),
        (Some(3), Some(false), Some(3))
    );
    let row = &body["items"][0];
    // Empty display names are NULL: the column is left out, not sent as "".
    assert_eq!(
        row,
        &json!({ "links": [], "id": row["id"], "itemid": "SKU-001", "baseprice": "1.05", "isinactive": "F" })
    );
    assert!(row["id"].is_string());
    assert!(text.contains(r#"{"links":[],"id":""#), "rows start with links: {text}");
}

#[tokio::test]
async fn paging_follows_limit_offset_and_next_links() {
    let ns = start().await;
    seed_items(&ns, 25);
    let q = "SELECT id, itemid FROM item ORDER BY itemid";
    let first = json(ns.suiteql(q, 10, 0).await).await;
    assert_eq!(
        (first["count"].as_u64(), first["hasMore"].as_bool(), first["totalResults"].as_u64()),
        (Some(10), Some(true), Some(25))
    );
    let rels: Vec<&str> = first["links"].as_array().unwrap().iter().map(|l| l["rel"].as_str().unwrap()).collect();
    assert_eq!(rels, ["first", "next", "last", "self"]);
    let next = first["links"][1]["href"].as_str().unwrap();
    assert!(next.ends_with("/services/rest/query/v1/suiteql?limit=10&offset=10"), "{next}");
    assert!(first["links"][2]["href"].as_str().unwrap().ends_with("offset=20"));

    let last = json(ns.suiteql(q, 10, 20).await).await;
    assert_eq!(
        (last["count"].as_u64(), last["hasMore"].as_bool(), last["offset"].as_u64()),
        (Some(5), Some(false), Some(20))
    );
    assert!(last["links"].as_array().unwrap().iter().all(|l| l["rel"] != "next"));
    assert_eq!(last["items"][4]["itemid"], "SKU-025");
}

#[tokio::test]
async fn paging_parameters_outside_the_rules_are_refused() {
    let ns = start().await;
    seed_items(&ns, 2);
    for (limit, offset) in [(10, 5), (0, 0), (1001, 0), (1000, 100_000), (500, 99_999 - 99_999 % 500 + 500)] {
        let (status, code, _) = error_of(ns.suiteql("SELECT id FROM item", limit, offset).await).await;
        assert_eq!((status, code.as_str()), (400, "INVALID_PARAMETER"), "limit {limit} offset {offset}");
    }
    assert_eq!(ns.suiteql("SELECT id FROM item", 1000, 99_000).await.status(), 200);
    let r = ns
        .send(Method::POST, "/services/rest/query/v1/suiteql", Some(&json!({ "q": "SELECT id FROM item" })), &[])
        .await;
    assert_eq!(error_of(r).await.0, 400, "Prefer: transient is required");
}

#[tokio::test]
async fn hostile_literals_match_exactly_and_never_escape() {
    let ns = start().await;
    let long = "Ä'-".repeat(100);
    let hostile =
        ["O'Brien -- x", "'; DROP TABLE item; --", "SKU-1' OR '1'='1", "ünïcødé-雪-🦀", "tab\there", long.as_str()];
    for sku in hostile {
        ns.sim().seed_item(SeedItem { itemid: sku.into(), ..SeedItem::default() });
    }
    ns.sim().seed_item(SeedItem { itemid: "SKU-1".into(), ..SeedItem::default() });
    for sku in hostile {
        let q = format!("SELECT id, itemid FROM item WHERE itemid IN ({}, 'nothing')", literal(sku));
        let body = json(ns.suiteql(&q, 1000, 0).await).await;
        assert_eq!(body["count"], 1, "{sku:?} via {q}");
        assert_eq!(body["items"][0]["itemid"], sku);
    }
    let (status, code, _) = error_of(ns.suiteql("SELECT id FROM item WHERE itemid = 'O'Brien'", 10, 0).await).await;
    assert_eq!((status, code.as_str()), (400, "USER_ERROR"));
}

#[tokio::test]
async fn joins_filters_and_functions_over_stock() {
    let ns = start().await;
    let items = seed_items(&ns, 3);
    let (a, b) = (ns.sim().seed_location("East"), ns.sim().seed_location("West"));
    ns.sim().set_stock(&items[0], &a, 10, 8);
    ns.sim().set_stock(&items[0], &b, 4, 4);
    ns.sim().set_stock(&items[1], &a, 1, 0);
    let q = "SELECT iil.item, i.itemid, iil.location, BUILTIN.DF(iil.location) AS location_name, iil.quantityonhand, iil.quantityavailable \
             FROM inventoryitemlocations iil JOIN item i ON i.id = iil.item \
             WHERE LOWER(i.itemid) = LOWER('sku-001') AND iil.quantityavailable >= 4 ORDER BY location_name DESC";
    let body = json(ns.suiteql(q, 100, 0).await).await;
    let rows = body["items"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{body}");
    assert_eq!(rows[0]["location_name"], "West");
    assert_eq!((rows[1]["quantityonhand"].as_str(), rows[1]["quantityavailable"].as_str()), (Some("10"), Some("8")));

    let since = "SELECT item, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS changed FROM inventoryitemlocations \
                 WHERE lastmodifieddate >= TO_TIMESTAMP('2020-11-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS') ORDER BY item";
    let body = json(ns.suiteql(since, 100, 0).await).await;
    assert_eq!(body["count"], 3);
    assert_eq!(body["items"][0]["changed"].as_str().unwrap().len(), 19);

    let count = json(
        ns.suiteql("SELECT COUNT(*) AS n FROM item WHERE displayname IS NULL AND id IN (1, 2, 1000)", 10, 0).await,
    )
    .await;
    assert_eq!(count["items"][0]["n"], "0");
}

#[tokio::test]
async fn unknown_tables_columns_and_statements_are_search_errors() {
    let ns = start().await;
    for q in [
        "SELECT nope FROM item",
        "SELECT id FROM nowhere",
        "DELETE FROM item",
        "SELECT id FROM item i JOIN location l ON l.id = i.nope",
    ] {
        let (status, code, detail) = error_of(ns.suiteql(q, 10, 0).await).await;
        assert_eq!((status, code.as_str()), (400, "USER_ERROR"), "{q}");
        assert!(detail.starts_with("Invalid search query."), "{detail}");
    }
}
