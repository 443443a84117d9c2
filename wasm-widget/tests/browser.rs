//! The widget in a real browser (headless Chromium through wasm-bindgen-test-runner; `cargo xtask
//! test` runs these): the DOM it writes from recorded API answers, one request per kind per
//! screen, the backend-down state, the SKU fixer used from the keyboard's point of view (typing,
//! focus, a button), and the token renewed before it expires.
//!
//! `fetch` is replaced by a recorder that answers from a table, so each test sees every request the
//! widget makes. Every test talks to a backend URL of its own; a widget left running by an earlier
//! test gets no answer at all (a promise that never settles), so it cannot touch a later test's page.

#![cfg(target_arch = "wasm32")]

use serde_json::{Value, json};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// `answers`: `"METHOD /path"` → `[status, body]`, or `"down"` for a network failure.
fn fake_backend(host: &str, answers: Value) {
    let script = format!(
        r#"
        window.__wnsLive = {host:?};
        window.wnsSync = {{ t: function (s) {{ return s; }} }};
        window.__wnsCalls = [];
        window.__wnsAnswers = {answers};
        window.fetch = function (url, init) {{
            const u = new URL(String(url), location.href);
            const method = (init && init.method) || 'GET';
            if (u.pathname !== '/token' && u.host !== window.__wnsLive) {{
                return new Promise(function () {{}});
            }}
            const key = method + ' ' + u.pathname;
            window.__wnsCalls.push({{ key: key, search: u.search, body: init && init.body ? String(init.body) : null }});
            const a = window.__wnsAnswers[key];
            if (a === 'down') {{
                return Promise.reject(new TypeError('Failed to fetch'));
            }}
            const [status, body] = a || [404, {{ error: {{ code: 'not_found', message: 'no route ' + key }} }}];
            return Promise.resolve(new Response(JSON.stringify(body), {{ status: status, headers: {{ 'Content-Type': 'application/json' }} }}));
        }};
        "#
    );
    js_sys::eval(&script).unwrap();
}

fn calls(key: &str) -> Vec<Value> {
    let all = js_sys::JSON::stringify(&js_sys::eval("window.__wnsCalls").unwrap()).unwrap();
    let all: Vec<Value> = serde_json::from_str(&String::from(all)).unwrap();
    all.into_iter().filter(|c| c["key"] == key).collect()
}

/// The test's placeholders in a container of their own (the runner reports through elements of
/// its own in the page's body, which must stay).
fn page(html: &str) -> web_sys::Document {
    let doc = web_sys::window().unwrap().document().unwrap();
    if let Some(old) = doc.get_element_by_id("wns-test") {
        old.remove();
    }
    let container = doc.create_element("div").unwrap();
    container.set_id("wns-test");
    container.set_inner_html(html);
    doc.body().unwrap().append_child(&container).unwrap();
    doc
}

fn start(host: &str) {
    let config = json!({ "backendUrl": format!("http://{host}"), "tokenUrl": "/token", "nonce": "n0nce" });
    let config = js_sys::JSON::parse(&config.to_string()).unwrap();
    // As the loader passes it: `window.wnsSync`, the translator function included.
    let translator = js_sys::Function::new_with_args("s", "return s;");
    js_sys::Reflect::set(&config, &"t".into(), &translator).unwrap();
    wns_widget::start(config);
}

async fn settle(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

fn text(doc: &web_sys::Document, css: &str) -> String {
    doc.query_selector(css).unwrap().unwrap_or_else(|| panic!("no {css}")).text_content().unwrap_or_default()
}

fn token(caps: &[&str], life_secs: i64) -> Value {
    let now = (js_sys::Date::now() / 1000.0) as i64;
    json!([200, { "token": "t", "issued_at": now, "expires_at": now + life_secs, "caps": caps }])
}

/// The plugin's translator (its own script) with `table` as the site's language.
fn speak(table: Value) {
    js_sys::eval(&format!("window.wnsSync = {{ l10n: {table} }};")).unwrap();
    js_sys::eval(include_str!("../../wp-plugin/wns-sync/assets/wns-sync-l10n.js")).unwrap();
}

#[wasm_bindgen_test]
async fn every_word_goes_through_the_plugins_translator_patterns_too() {
    let host = "wns-l10n.test";
    fake_backend(
        host,
        json!({
            "POST /token": token(&["view"], 900),
            "POST /api/v1/orders/status": [200, [
                { "order_id": 3, "state": "waiting", "netsuite_id": null, "netsuite_number": null, "netsuite_url": null,
                  "next_attempt_at": null, "blocked": null, "last_error": null },
                { "order_id": 4, "state": "blocked", "netsuite_id": null, "netsuite_number": null, "netsuite_url": null,
                  "next_attempt_at": null, "last_error": null,
                  "blocked": { "cause": "sku:X", "owner": "finance", "message": "m", "fix": "f" } }
            ]],
            "POST /api/v1/products/status": [200, [
                { "product_id": 5, "sku": "MUG", "mapping": "mapped", "netsuite_item_id": "5",
                  "locations": [], "netsuite_total": 12, "wns_figure": 12,
                  "woocommerce_stock": 9, "read_at": 1, "written_at": 1, "freshness": "fresh", "age_secs": 180, "drift": null }
            ]]
        }),
    );
    speak(json!({
        "Waiting": "En attente",
        "wns has the order and posts it to NetSuite shortly.": "wns l’envoie bientôt à NetSuite.",
        "Blocked · %s": "Bloquée · %s",
        "Finance": "Finances",
        "%s in NetSuite · %s here": "Ici %2$s, dans NetSuite %1$s",
        "Fresh: read from NetSuite %s.": "À jour : lu dans NetSuite %s.",
        "%s min ago": "il y a %s min",
        "%s in NetSuite": "%s in NetSuite"
    }));
    let doc = page(
        r#"<span class="wns-sync-status" data-wns-order="3"></span>
           <span class="wns-sync-status" data-wns-order="4"></span>
           <span class="wns-sync-status" data-wns-product="5"></span>"#,
    );
    start(host);
    settle(400).await;
    assert_eq!(text(&doc, "[data-wns-order='3'] .wns-sync-badge"), "En attente");
    let waiting = doc.query_selector("[data-wns-order='3'] .wns-sync-badge").unwrap().unwrap();
    assert_eq!(waiting.get_attribute("title").unwrap(), "wns l’envoie bientôt à NetSuite.");
    assert_eq!(
        text(&doc, "[data-wns-order='4'] .wns-sync-badge"),
        "Bloquée · Finances",
        "a pattern, its part translated"
    );
    assert_eq!(text(&doc, "[data-wns-product='5'] .wns-sync-badge"), "Ici 9, dans NetSuite 12", "parts reordered");
    let cell = doc.query_selector("[data-wns-product='5'] .wns-sync-badge").unwrap().unwrap();
    assert_eq!(cell.get_attribute("title").unwrap(), "À jour : lu dans NetSuite il y a 3 min.", "nested patterns");
}

#[wasm_bindgen_test]
async fn order_and_product_badges_come_from_one_request_each() {
    let host = "wns-badges.test";
    fake_backend(
        host,
        json!({
            "POST /token": token(&["view"], 900),
            "POST /api/v1/orders/status": [200, [
                { "order_id": 7, "state": "posted", "netsuite_id": "981", "netsuite_number": "SO1042",
                  "netsuite_url": "https://123.app.netsuite.com/app/accounting/transactions/salesord.nl?id=981",
                  "next_attempt_at": null, "blocked": null, "last_error": null },
                { "order_id": 8, "state": "blocked", "netsuite_id": null, "netsuite_number": null, "netsuite_url": null,
                  "next_attempt_at": null, "last_error": null,
                  "blocked": { "cause": "sku:MUG-RED", "owner": "ecommerce",
                               "message": "SKU MUG-RED has no NetSuite item", "fix": "Map the SKU." } }
            ]],
            "POST /api/v1/products/status": [200, [
                { "product_id": 21, "sku": "MUG", "mapping": "mapped", "netsuite_item_id": "5",
                  "locations": [{ "location": "East", "available": 12 }], "netsuite_total": 12, "wns_figure": 12,
                  "woocommerce_stock": 12, "read_at": 1, "written_at": 1, "freshness": "fresh", "age_secs": 40, "drift": null }
            ]]
        }),
    );
    let doc = page(
        r#"<span class="wns-sync-status" data-wns-order="7"></span>
           <span class="wns-sync-status" data-wns-order="8"></span>
           <span class="wns-sync-status" data-wns-order="7" id="again"></span>
           <span class="wns-sync-status" data-wns-product="21"></span>"#,
    );
    start(host);
    settle(400).await;

    assert_eq!(text(&doc, "[data-wns-order='7'] .wns-sync-badge"), "Posted · SO1042");
    let link = doc.query_selector("[data-wns-order='7'] a.wns-sync-badge").unwrap().expect("a link into NetSuite");
    assert!(link.get_attribute("href").unwrap().contains("salesord.nl?id=981"));
    assert_eq!(text(&doc, "#again .wns-sync-badge"), "Posted · SO1042", "the same order twice on a screen");
    assert_eq!(text(&doc, "[data-wns-order='8'] .wns-sync-badge"), "Blocked · E-commerce");
    let blocked = doc.query_selector("[data-wns-order='8'] .wns-sync-badge").unwrap().unwrap();
    assert!(blocked.class_name().contains("wns-sync-tone-error"));
    assert!(text(&doc, "[data-wns-order='8'] .screen-reader-text").contains("Map the SKU."), "words, not only colour");
    assert_eq!(text(&doc, "[data-wns-product='21'] .wns-sync-badge"), "12 in NetSuite · 12 here");

    let orders = calls("POST /api/v1/orders/status");
    assert_eq!(orders.len(), 1, "one request for the whole list");
    assert_eq!(orders[0]["body"], json!("{\"ids\":[7,8]}"));
    assert_eq!(calls("POST /api/v1/products/status").len(), 1);
    assert_eq!(calls("POST /token").len(), 1);
}

#[wasm_bindgen_test]
async fn with_the_backend_down_the_badges_say_so_and_nothing_throws() {
    let host = "wns-down.test";
    fake_backend(host, json!({ "POST /token": token(&["view"], 900), "POST /api/v1/orders/status": "down" }));
    let doc = page(
        r#"<table id="shop"><tr><td>#12</td><td><span class="wns-sync-status" data-wns-order="12"></span></td></tr></table>"#,
    );
    start(host);
    settle(400).await;
    assert_eq!(text(&doc, "[data-wns-order='12'] .wns-sync-badge"), "Sync unavailable");
    let badge = doc.query_selector("[data-wns-order='12'] .wns-sync-badge").unwrap().unwrap();
    assert!(badge.get_attribute("title").unwrap().contains("WooCommerce is not affected"));
    assert_eq!(text(&doc, "#shop td"), "#12", "the shop's own cells are untouched");
}

#[wasm_bindgen_test]
async fn the_sku_fixer_searches_once_after_typing_renews_the_token_and_saves() {
    let host = "wns-fixer.test";
    let now_ms = js_sys::Date::now() as i64;
    fake_backend(
        host,
        json!({
            // A token of one second: renewed at 0.8 s, before it expires.
            "POST /token": token(&["view", "map_skus"], 1),
            "GET /api/v1/exceptions": [200, []],
            "GET /api/v1/exceptions/counts": [200, []],
            "GET /api/v1/skus/unmapped": [200, [
                { "sku": "MUG-RED", "order_ids": [9], "money_waiting": [{ "currency": "EUR", "amount": "25.00" }], "since": now_ms }
            ]],
            "POST /api/v1/orders/status": [200, [
                { "order_id": 9, "state": "blocked", "netsuite_id": null, "netsuite_number": null, "netsuite_url": null,
                  "next_attempt_at": null, "last_error": null,
                  "blocked": { "cause": "sku:MUG-RED", "owner": "ecommerce", "message": "SKU MUG-RED has no NetSuite item", "fix": "Map it." } }
            ]],
            "GET /api/v1/items/search": [200, [
                { "netsuite_item_id": "4401", "itemid": "MUG-R", "displayname": "Mug, red", "upc": "0123" }
            ]],
            "PUT /api/v1/skus/MUG-RED/mapping": [200, { "sku": "MUG-RED", "netsuite_item_id": "4401", "orders_released": 1 }]
        }),
    );
    let doc = page(r#"<div id="wns-sync-app"></div>"#);
    start(host);
    settle(400).await;
    assert_eq!(text(&doc, ".wns-sync-sku-line"), "MUG-RED · 1 order (EUR 25.00) waiting since just now");
    assert_eq!(text(&doc, ".wns-sync-unmapped [data-wns-order='9'] .wns-sync-badge"), "Blocked · E-commerce");
    let label = doc.query_selector(".wns-sync-sku label").unwrap().unwrap();
    let input = doc.query_selector(".wns-sync-sku input.wns-sync-search").unwrap().unwrap();
    assert_eq!(label.get_attribute("for"), input.get_attribute("id"), "the field has its label");

    settle(700).await; // past 4/5 of the token's one-second life
    let field: web_sys::HtmlInputElement = input.dyn_into().unwrap();
    field.focus().unwrap();
    for typed in ["m", "mu", "mug"] {
        field.set_value(typed);
        field.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
        settle(50).await;
    }
    settle(600).await;
    let searches = calls("GET /api/v1/items/search");
    assert_eq!(searches.len(), 1, "one search after the typing stopped: {searches:?}");
    assert_eq!(searches[0]["search"], json!("?q=mug&limit=8"));
    assert_eq!(calls("POST /token").len(), 2, "the token was renewed before it expired");

    let pick = doc.query_selector(".wns-sync-pick").unwrap().expect("the hit as a button");
    assert_eq!(pick.text_content().unwrap(), "MUG-R — Mug, red (UPC 0123)");
    let button: web_sys::HtmlElement = pick.dyn_into().unwrap();
    button.focus().unwrap();
    assert_eq!(doc.active_element().unwrap().class_name(), "button wns-sync-pick", "the pick takes the focus");
    button.click();
    settle(400).await;
    let saved = calls("PUT /api/v1/skus/MUG-RED/mapping");
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0]["body"], json!("{\"netsuite_item_id\":\"4401\"}"));
    assert_eq!(
        text(&doc, ".wns-sync-fix-status"),
        "Mapped MUG-RED to NetSuite item MUG-R: 1 order continues to NetSuite."
    );
    assert!(doc.query_selector(".wns-sync-sku[data-wns-mapped='4401']").unwrap().is_some());
}

#[wasm_bindgen_test]
async fn the_board_filters_by_owner_and_resolves_and_ignores_with_a_reason() {
    let host = "wns-board.test";
    let now_ms = js_sys::Date::now() as i64;
    let exception = |id: i64, owner: &str, message: &str| {
        let kind = if owner == "finance" { "payout_mismatch" } else { "sales_order_rejected" };
        json!({ "id": id, "kind": kind, "owner": owner, "entity": format!("order:{id}"), "message": message,
                "fix": "Do the thing.", "state": "open", "resolution": null, "resolved_by": null, "note": null,
                "orders_blocked": 1, "money_waiting": [{ "currency": "USD", "amount": "10.00" }], "skus_stale": 0,
                "first_seen": now_ms, "last_seen": now_ms, "count": 1 })
    };
    fake_backend(
        host,
        json!({
            "POST /token": token(&["view", "resolve"], 900),
            "GET /api/v1/exceptions/counts": [200, [{ "owner": "finance", "open": 1 }, { "owner": "operations", "open": 1 }]],
            "GET /api/v1/exceptions": [200, [exception(1, "finance", "Payout 7 is 0.04 off"), exception(2, "operations", "Order 9 failed")]],
            "POST /api/v1/exceptions/1/resolve": [200, exception(1, "finance", "Payout 7 is 0.04 off")],
            "POST /api/v1/exceptions/2/ignore": [200, exception(2, "operations", "Order 9 failed")]
        }),
    );
    let doc = page(r#"<div id="wns-sync-app"></div>"#);
    start(host);
    settle(400).await;
    assert!(doc.query_selector(".wns-sync-fixer").unwrap().is_none(), "no fixer without map_skus");
    let owners: Vec<String> = (0..3)
        .map(|i| doc.query_selector_all(".wns-sync-owner").unwrap().item(i).unwrap().text_content().unwrap())
        .collect();
    assert_eq!(owners, ["All (2)", "Finance (1)", "Operations (1)"]);
    assert_eq!(doc.query_selector_all(".wns-sync-exceptions tr[data-wns-exception]").unwrap().length(), 2);

    let finance: web_sys::HtmlElement =
        doc.query_selector(".wns-sync-owner[data-owner='finance']").unwrap().unwrap().dyn_into().unwrap();
    finance.click();
    settle(300).await;
    let lists = calls("GET /api/v1/exceptions");
    assert_eq!(lists.last().unwrap()["search"], json!("?state=open&owner=finance"));

    // The kind filter offers the kinds shown, in words; choosing one narrows the list.
    let kind: web_sys::HtmlSelectElement =
        doc.query_selector("select.wns-sync-kind").unwrap().unwrap().dyn_into().unwrap();
    let options: Vec<String> = (0..kind.length()).map(|i| kind.item(i).unwrap().text_content().unwrap()).collect();
    assert_eq!(options, ["All kinds", "Payout mismatch", "Sales order rejected"]);
    kind.set_value("sales_order_rejected");
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    kind.dispatch_event(&web_sys::Event::new_with_event_init_dict("change", &init).unwrap()).unwrap();
    settle(300).await;
    let lists = calls("GET /api/v1/exceptions");
    assert_eq!(lists.last().unwrap()["search"], json!("?state=open&owner=finance&kind=sales_order_rejected"));

    let resolve: web_sys::HtmlElement =
        doc.query_selector("tr[data-wns-exception='1'] .wns-sync-resolve").unwrap().unwrap().dyn_into().unwrap();
    resolve.click();
    settle(300).await;
    assert_eq!(calls("POST /api/v1/exceptions/1/resolve").len(), 1);

    let ignore: web_sys::HtmlElement =
        doc.query_selector("tr[data-wns-exception='2'] .wns-sync-ignore").unwrap().unwrap().dyn_into().unwrap();
    ignore.click();
    let reason: web_sys::HtmlInputElement =
        doc.query_selector("tr[data-wns-exception='2'] input.wns-sync-reason").unwrap().unwrap().dyn_into().unwrap();
    assert_eq!(doc.active_element().unwrap().class_name(), "wns-sync-reason", "the reason field takes the focus");
    reason.set_value("4 cents of rounding; finance agreed");
    let confirm: web_sys::HtmlElement =
        doc.query_selector("tr[data-wns-exception='2'] .wns-sync-ignore-confirm").unwrap().unwrap().dyn_into().unwrap();
    confirm.click();
    settle(300).await;
    let ignored = calls("POST /api/v1/exceptions/2/ignore");
    assert_eq!(ignored.len(), 1);
    assert_eq!(ignored[0]["body"], json!("{\"reason\":\"4 cents of rounding; finance agreed\"}"));
}
