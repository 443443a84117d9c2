//! Inventory moves the way NetSuite moves it: saved sales orders commit stock at their lines'
//! locations (available falls, committed rises, the shortfall is backordered), closing lines or
//! deleting the order releases it, fulfilment ships committed units, and receipts and other
//! channels' sales move on hand and available — all visible to a stock sync reading
//! `inventoryitemlocations` by SuiteQL.

mod netsuite_support;

use std::time::Duration;

use netsuite_support::{Ns, created_id, json, start};
use reqwest::Method;
use serde_json::{Value, json};
use wns_sim::netsuite::{SeedItem, StockRow};

const ORDER: &str = "/services/rest/record/v1/salesOrder";

struct Shop {
    location: String,
    item: String,
    customer: String,
}

async fn shop(ns: &Ns, on_hand: i64) -> Shop {
    let location = ns.sim().seed_location("Main");
    let item = ns.sim().seed_item(SeedItem::new("MUG"));
    ns.sim().set_stock(&item, &location, on_hand, on_hand);
    let customer = ns.customer("Acme").await;
    Shop { location, item, customer }
}

impl Shop {
    /// One line of `quantity` at the shop's location, on the line.
    fn order(&self, quantity: i64) -> Value {
        json!({ "entity": { "id": self.customer }, "item": { "items": [
            { "item": { "id": self.item }, "quantity": quantity, "location": { "id": self.location } } ] } })
    }

    fn row(&self, ns: &Ns) -> StockRow {
        ns.sim().stock_row(&self.item, &self.location).expect("a stock row")
    }
}

fn row(on_hand: i64, available: i64, committed: i64, backordered: i64) -> StockRow {
    StockRow { on_hand, available, committed, backordered }
}

async fn put_order(ns: &Ns, eid: &str, body: &Value) -> String {
    let r = ns.put(&format!("{ORDER}/eid:{eid}"), body).await;
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
    created_id(&r)
}

/// The shop's row as a stock sync reads it, with `lastmodifieddate` to the microsecond.
async fn synced(ns: &Ns, shop: &Shop) -> Value {
    let q = format!(
        "SELECT item, location, quantityonhand, quantityavailable, quantitycommitted, quantitybackordered, \
         TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS.FF6') AS changed \
         FROM inventoryitemlocations WHERE item = {} AND location = {}",
        shop.item, shop.location
    );
    let page = json(ns.suiteql(&q, 10, 0).await).await;
    assert_eq!(page["count"], 1, "{page}");
    let changed = page["items"][0]["changed"].as_str().unwrap_or_default();
    assert!(changed.len() > "2026-01-01 00:00:00".len(), "to the microsecond: {page}");
    page["items"][0].clone()
}

/// (quantitycommitted, quantitybackordered) of an order's first line, from `transactionline`.
async fn line_figures(ns: &Ns, order: &str) -> (String, String) {
    let q = format!(
        "SELECT quantitycommitted, quantitybackordered FROM transactionline WHERE transaction = {order} AND mainline = 'F'"
    );
    let page = json(ns.suiteql(&q, 10, 0).await).await;
    let l = &page["items"][0];
    (l["quantitycommitted"].as_str().unwrap().into(), l["quantitybackordered"].as_str().unwrap().into())
}

async fn tick() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

#[tokio::test]
async fn an_upserted_order_commits_at_its_line_location_once() {
    let ns = start().await;
    let shop = shop(&ns, 10).await;
    let before = synced(&ns, &shop).await;
    assert_eq!((before["quantityavailable"].as_str(), before["quantitycommitted"].as_str()), (Some("10"), Some("0")));
    tick().await;

    let order = put_order(&ns, "wc-1", &shop.order(3)).await;
    assert_eq!(shop.row(&ns), row(10, 7, 3, 0));
    let after = synced(&ns, &shop).await;
    assert_eq!(after["item"], shop.item.as_str());
    assert_eq!(after["location"], shop.location.as_str());
    assert_eq!(
        (after["quantityonhand"].as_str(), after["quantityavailable"].as_str(), after["quantitycommitted"].as_str()),
        (Some("10"), Some("7"), Some("3"))
    );
    assert_ne!(after["changed"], before["changed"], "lastmodifieddate moves");
    assert_eq!(line_figures(&ns, &order).await, ("3".into(), "0".into()));

    // The same order again (a retried upsert): nothing more is committed, nothing moves.
    tick().await;
    assert_eq!(put_order(&ns, "wc-1", &shop.order(3)).await, order);
    assert_eq!(shop.row(&ns), row(10, 7, 3, 0));
    assert_eq!(synced(&ns, &shop).await["changed"], after["changed"], "an unchanged save leaves the row alone");

    // A changed quantity commits the difference.
    put_order(&ns, "wc-1", &shop.order(5)).await;
    assert_eq!(shop.row(&ns), row(10, 5, 5, 0));
}

#[tokio::test]
async fn a_pending_approval_order_commits_nothing_until_approved() {
    let ns = start().await;
    let shop = shop(&ns, 10).await;
    let mut body = shop.order(3);
    body["orderStatus"] = json!({ "id": "A" });
    let order = put_order(&ns, "wc-2", &body).await;
    assert_eq!(shop.row(&ns), row(10, 10, 0, 0));
    assert_eq!(line_figures(&ns, &order).await, ("0".into(), "0".into()));

    let r = ns.patch(&format!("{ORDER}/{order}"), &json!({ "orderStatus": { "id": "B" } })).await;
    assert_eq!(r.status(), 204);
    assert_eq!(shop.row(&ns), row(10, 7, 3, 0));
    let s = json(ns.get(&format!("{ORDER}/{order}")).await).await;
    assert_eq!(s["orderStatus"]["id"], "B");
}

#[tokio::test]
async fn closing_the_lines_or_deleting_the_order_releases_the_stock() {
    let ns = start().await;
    let shop = shop(&ns, 10).await;
    let closed = put_order(&ns, "wc-3", &shop.order(3)).await;
    // The second order names the location on its body only.
    let body = json!({ "entity": { "id": shop.customer }, "location": { "id": shop.location },
        "item": { "items": [{ "item": { "id": shop.item }, "quantity": 4 }] } });
    let deleted = put_order(&ns, "wc-4", &body).await;
    assert_eq!(shop.row(&ns), row(10, 3, 7, 0));

    let r = ns
        .patch(&format!("{ORDER}/{closed}"), &json!({ "item": { "items": [{ "line": 1, "isClosed": true }] } }))
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(json(ns.get(&format!("{ORDER}/{closed}")).await).await["orderStatus"]["id"], "H");
    assert_eq!(shop.row(&ns), row(10, 6, 4, 0));

    let r = ns.send(Method::DELETE, &format!("{ORDER}/{deleted}"), None, &[]).await;
    assert_eq!(r.status(), 204);
    assert_eq!(shop.row(&ns), row(10, 10, 0, 0));
}

#[tokio::test]
async fn more_than_available_commits_what_there_is_and_backorders_the_rest() {
    let ns = start().await;
    let shop = shop(&ns, 5).await;
    let first = put_order(&ns, "wc-5", &shop.order(8)).await;
    assert_eq!(shop.row(&ns), row(5, 0, 5, 3));
    let second = put_order(&ns, "wc-6", &shop.order(2)).await;
    assert_eq!(shop.row(&ns), row(5, 0, 5, 5));
    assert_eq!(line_figures(&ns, &first).await, ("5".into(), "3".into()));
    assert_eq!(line_figures(&ns, &second).await, ("0".into(), "2".into()));
    let s = synced(&ns, &shop).await;
    assert_eq!((s["quantityavailable"].as_str(), s["quantitybackordered"].as_str()), (Some("0"), Some("5")));

    // A receipt serves the oldest order first.
    ns.sim().receive_stock(&shop.item, &shop.location, 4);
    assert_eq!(shop.row(&ns), row(9, 0, 9, 1));
    assert_eq!(line_figures(&ns, &first).await, ("8".into(), "0".into()));
    assert_eq!(line_figures(&ns, &second).await, ("1".into(), "1".into()));
}

#[tokio::test]
async fn fulfilling_committed_units_lowers_on_hand_and_leaves_available() {
    let ns = start().await;
    let shop = shop(&ns, 10).await;
    let order = put_order(&ns, "wc-7", &shop.order(3)).await;
    assert_eq!(shop.row(&ns), row(10, 7, 3, 0));
    let body = json!({ "item": { "items": [{ "orderLine": 1, "quantity": 2 }] } });
    let r = ns.post(&format!("{ORDER}/{order}/!transform/itemFulfillment"), &body).await;
    assert_eq!(r.status(), 204);
    assert_eq!(shop.row(&ns), row(8, 7, 1, 0));
    ns.sim().fulfil(&order, &[]);
    assert_eq!(shop.row(&ns), row(7, 7, 0, 0));
    assert_eq!(line_figures(&ns, &order).await, ("0".into(), "0".into()));

    // A backordered line ships what it had committed; the rest stays backordered.
    let short = put_order(&ns, "wc-8", &shop.order(9)).await;
    assert_eq!(shop.row(&ns), row(7, 0, 7, 2));
    let body = json!({ "item": { "items": [{ "orderLine": 1, "quantity": 7 }] } });
    let r = ns.post(&format!("{ORDER}/{short}/!transform/itemFulfillment"), &body).await;
    assert_eq!(r.status(), 204);
    assert_eq!(shop.row(&ns), row(0, 0, 0, 2));
}

#[tokio::test]
async fn only_located_inventory_lines_commit() {
    let ns = start().await;
    let shop = shop(&ns, 10).await;
    let service = ns.sim().seed_item(SeedItem { item_type: "Service".into(), ..SeedItem::new("GIFTWRAP") });
    let body = json!({ "entity": { "id": shop.customer }, "item": { "items": [
        { "item": { "id": shop.item }, "quantity": 2 },
        { "item": { "id": service }, "quantity": 1, "location": { "id": shop.location } } ] } });
    put_order(&ns, "wc-9", &body).await;
    assert_eq!(shop.row(&ns), row(10, 10, 0, 0), "no location on the line or the order");
    assert_eq!(ns.sim().stock_row(&service, &shop.location), None, "services keep no stock");
}

#[tokio::test]
async fn receipts_and_sales_elsewhere_move_on_hand_and_available() {
    let ns = start().await;
    let shop = shop(&ns, 0).await;
    let before = synced(&ns, &shop).await;
    tick().await;
    ns.sim().receive_stock(&shop.item, &shop.location, 5);
    assert_eq!(shop.row(&ns), row(5, 5, 0, 0));
    let received = synced(&ns, &shop).await;
    assert_ne!(received["changed"], before["changed"]);
    put_order(&ns, "wc-10", &shop.order(2)).await;
    tick().await;
    ns.sim().sell_elsewhere(&shop.item, &shop.location, 1);
    assert_eq!(shop.row(&ns), row(4, 2, 2, 0));
    let sold = synced(&ns, &shop).await;
    assert_eq!(sold["quantityavailable"], "2");
    assert_ne!(sold["changed"], received["changed"]);

    // The same through the control API, for simulators in another process.
    let other = ns.sim().seed_location("Other");
    let post = |path: &str, body: Value| ns.http.post(ns.url(path)).json(&body).send();
    let r = post("/_sim/stock/receive", json!({ "item": shop.item, "location": other, "quantity": 3 })).await.unwrap();
    assert_eq!(r.status(), 204);
    let r = post("/_sim/stock/sell", json!({ "item": shop.item, "location": other, "quantity": 1 })).await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(ns.sim().stock_row(&shop.item, &other), Some(row(2, 2, 0, 0)));
    let r = post("/_sim/stock/sell", json!({ "item": other, "location": other, "quantity": 1 })).await.unwrap();
    assert_eq!(r.status(), 400);
}

/// The account's time as a stock sync reads it: `lastmodifieddate` to the second.
fn stamped(row: &Value) -> chrono::NaiveDateTime {
    let text = row["changed"].as_str().unwrap();
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap()
}

#[tokio::test]
async fn the_accounts_clock_moves_when_told_and_requests_still_authenticate_on_the_wall_clock() {
    use chrono::Timelike;
    let ns = start().await;
    let shop = shop(&ns, 10).await;
    let before = stamped(&synced(&ns, &shop).await);

    // An hour on, without sleeping: a movement made through the simulator is stamped an hour later.
    ns.sim().advance_clock(Duration::from_secs(3600));
    ns.sim().receive_stock(&shop.item, &shop.location, 1);
    let received = stamped(&synced(&ns, &shop).await);
    assert!(received - before >= chrono::Duration::seconds(3600), "{before} → {received}");
    assert!(received - before < chrono::Duration::seconds(3660), "{before} → {received}");

    // A request signed with the wall clock's time is still inside NetSuite's five-minute skew
    // (authentication does not follow the account's clock), and what it writes is stamped with
    // the account's time: the order, and the stock row it commits.
    let order = put_order(&ns, "wc-clock", &shop.order(2)).await;
    assert_eq!(shop.row(&ns), row(11, 9, 2, 0));
    let committed = stamped(&synced(&ns, &shop).await);
    assert!(committed >= received, "{received} → {committed}");
    let saved = json(ns.get(&format!("{ORDER}/{order}")).await).await;
    let modified = chrono::DateTime::parse_from_rfc3339(saved["lastModifiedDate"].as_str().unwrap()).unwrap();
    assert!(modified.naive_utc() >= received.with_nanosecond(0).unwrap(), "{saved}");

    // Frozen, every change lands in the same second — plus the hour it was moved on.
    let at = chrono::NaiveDate::from_ymd_opt(2030, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
    ns.sim().freeze_clock(Some(at));
    ns.sim().sell_elsewhere(&shop.item, &shop.location, 1);
    assert_eq!(synced(&ns, &shop).await["changed"], "2030-01-01 01:00:00.000000");
    ns.sim().advance_clock(Duration::from_secs(1));
    ns.sim().set_stock(&shop.item, &shop.location, 20, 18);
    assert_eq!(synced(&ns, &shop).await["changed"], "2030-01-01 01:00:01.000000");
    assert_eq!(ns.sim().now(), at + chrono::Duration::seconds(3601));
}
