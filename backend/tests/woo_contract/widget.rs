//! The widget end to end in the real WordPress admin: Debian's headless Chromium, driven through
//! chromedriver, logs in to the real store whose `wns-sync` plugin points at a running wns fed by
//! the store's real webhooks and the NetSuite simulator. It needs the widget built (`cargo xtask
//! widget`; `cargo xtask test` builds it first) and saves a screenshot of every screen under
//! `target/screenshots/` for a person to look at.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use wns::api::auth::{ApiSettings, Cap, create_key};
use wns_sim::netsuite::SeedItem;

use crate::{
    target::{ACTION_SCHEDULER, Target},
    wns_side::Wns,
};

const SECRET: &str = "wns-widget-e2e-shared-secret-0123456789";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn browser() -> (Driver, Client) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let driver = Driver(
        Command::new(std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into()))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver (Debian's chromium-driver; cargo xtask test installs it)"),
    );
    let caps = json!({ "goog:chromeOptions": { "args": [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
        "--disable-background-networking", "--disable-component-update", "--no-first-run"
    ] } });
    let caps = caps.as_object().unwrap().clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return (driver, client),
            Err(e) => {
                assert!(Instant::now() < deadline, "chromedriver did not start a session: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    // The sync box may sit below the fold (HPOS puts the order notes first): into view first.
    let _ = c.execute("const b = document.querySelector('div.wns-sync-box'); if (b) b.scrollIntoView();", vec![]).await;
    let png = c.screenshot().await.unwrap();
    let file = screenshots().join(format!("{name}.png"));
    std::fs::write(&file, png).unwrap();
    eprintln!("screenshot: {}", file.display());
}

/// The text of the first element matching `css`, once `ok` holds for it; the bound only stops a
/// broken run.
async fn text_when(c: &Client, css: &str, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut last = String::new();
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(text) = e.text().await
        {
            if ok(&text) {
                return text;
            }
            last = text;
        }
        assert!(Instant::now() < deadline, "{what}: `{css}` read {last:?} after 30 s");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// NetSuite gets the item the blocked SKU needs, under another name, and wns's item index has it.
async fn seed_odd_item(wns: &Wns) {
    wns.ns.sim.seed_item(SeedItem { display_name: "Odd widget, blue".into(), ..SeedItem::new("ODD-ITEM-77") });
    wns.items_index.refresh().await.unwrap();
}

/// Types `words` into the SKU fixer's field of the line `line` (a CSS selector) and returns the
/// first hit's pick button.
async fn search_fixer(c: &Client, line: &str, words: &str) -> fantoccini::elements::Element {
    let field = c.wait().for_element(Locator::Css(&format!("{line} input.wns-sync-search"))).await.unwrap();
    field.send_keys(words).await.unwrap();
    c.wait().for_element(Locator::Css(&format!("{line} button.wns-sync-pick"))).await.unwrap()
}

async fn log_in(c: &Client, store_url: &str, user: &str, password: &str) {
    c.delete_all_cookies().await.unwrap();
    c.goto(&format!("{store_url}/wp-login.php")).await.unwrap();
    c.wait().for_element(Locator::Id("user_login")).await.unwrap().send_keys(user).await.unwrap();
    c.find(Locator::Id("user_pass")).await.unwrap().send_keys(password).await.unwrap();
    c.find(Locator::Id("wp-submit")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("wpadminbar")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a real store: cargo xtask test-php"]
async fn the_widget_shows_real_badges_in_the_real_admin_and_says_when_wns_is_down() {
    wns::testing::init_logs();
    let _queue = ACTION_SCHEDULER.lock().await;
    let t = Target::real();
    let info = t.info();
    let hpos = info["hpos"].as_bool().unwrap_or(false);
    let storage = if hpos { "hpos" } else { "legacy" };
    let woo = t.client();
    let store_url = t.base_url.trim_end_matches('/').to_string();
    let api = ApiSettings {
        jwt_secret: Some(SECRET.into()),
        sites: vec![store_url.clone()],
        cors_origins: vec![store_url.clone()],
        ..ApiSettings::default()
    };
    let wns = Wns::start(&woo, &["WNS-MUG"], api).await;
    t.php(&format!(
        "update_option( WNS_SYNC_OPTION, array( 'backend_url' => '{}', 'shared_secret' => '{SECRET}' ) );",
        wns.url
    ));
    let hook = woo.create_webhook("order.created", &wns.webhook_url()).await.unwrap();

    // One order wns can post, one it cannot: its product's SKU has no NetSuite item.
    let mug = info["products"]["WNS-MUG"].as_u64().unwrap();
    let (odd, odd_sku) = t.product("NOITEM", "4.00", 10).await;
    let posted = t.order(&[(mug, 1)]).await;
    let blocked = t.order(&[(odd, 1)]).await;
    t.deliver().await;
    let external_id = format!("wc-shop-order-{posted}");
    wns.work_until("the mug order in NetSuite", |ns| ns.sim.find_by_external_id("salesOrder", &external_id).is_some())
        .await;
    wns.work_until("the other order blocked", |_| true).await;
    // One stock cycle: the store's catalogue read, NetSuite's figures written to it.
    wns.stock.cycle(true).await.unwrap();

    let (_driver, c) = browser().await;
    log_in(&c, &store_url, info["admin_user"].as_str().unwrap(), info["admin_password"].as_str().unwrap()).await;

    let orders = if hpos { "admin.php?page=wc-orders" } else { "edit.php?post_type=shop_order" };
    c.goto(&format!("{store_url}/wp-admin/{orders}")).await.unwrap();
    let badge = |id: u64| format!("[data-wns-order=\"{id}\"] .wns-sync-badge");
    let text = text_when(&c, &badge(posted), "the posted order's badge", |s| s.starts_with("Posted")).await;
    assert!(text.contains("SO") || text == "Posted", "{text}");
    let text = text_when(&c, &badge(blocked), "the blocked order's badge", |s| s.starts_with("Blocked")).await;
    assert_eq!(text, "Blocked · E-commerce");
    shot(&c, &format!("{storage}-orders-list")).await;

    let edit = if hpos {
        format!("admin.php?page=wc-orders&action=edit&id={blocked}")
    } else {
        format!("post.php?post={blocked}&action=edit")
    };
    c.goto(&format!("{store_url}/wp-admin/{edit}")).await.unwrap();
    let text =
        text_when(&c, "div.wns-sync-box .wns-sync-exception", "the blocked order's exception", |s| !s.is_empty()).await;
    assert!(text.contains(&odd_sku), "the box names the SKU: {text}");
    c.find(Locator::Css("div.wns-sync-box button.wns-sync-replay")).await.expect("an administrator may replay");
    shot(&c, &format!("{storage}-order-box")).await;

    // The list searched for the mug: other tests' products may fill the first page.
    c.goto(&format!("{store_url}/wp-admin/edit.php?post_type=product&s=WNS-MUG")).await.unwrap();
    let cell = |id: u64| format!("[data-wns-product=\"{id}\"] .wns-sync-badge");
    let text = text_when(&c, &cell(mug), "the mug's stock cell", |s| s.contains("in NetSuite")).await;
    assert!(text.contains("here"), "NetSuite's figure beside the shop's: {text}");
    shot(&c, &format!("{storage}-products-list")).await;
    c.goto(&format!("{store_url}/wp-admin/post.php?post={odd}&action=edit")).await.unwrap();
    let text =
        text_when(&c, "div.wns-sync-box[data-wns-product] .wns-sync-badge", "the product box", |s| !s.is_empty()).await;
    assert_eq!(text, "Unmapped");
    shot(&c, &format!("{storage}-product-box")).await;

    c.goto(&format!("{store_url}/wp-admin/admin.php?page=wns-sync")).await.unwrap();
    let text = text_when(&c, "table.wns-sync-exceptions", "the exceptions table", |s| s.contains(&odd_sku)).await;
    assert!(text.contains("E-commerce"), "{text}");
    shot(&c, &format!("{storage}-sync-page")).await;

    // The SKU fixer: NetSuite has the item under another name; search it, pick it, and the
    // blocked order continues to NetSuite while its badge changes on the page.
    seed_odd_item(&wns).await;
    c.refresh().await.unwrap();
    let line = format!("li[data-wns-sku=\"{odd_sku}\"]");
    let pick = search_fixer(&c, &line, "odd wid").await;
    assert_eq!(pick.text().await.unwrap(), "ODD-ITEM-77 — Odd widget, blue");
    shot(&c, &format!("{storage}-sku-fixer-search")).await;
    pick.click().await.unwrap();
    let status =
        text_when(&c, &format!("{line} .wns-sync-fix-status"), "the saved mapping", |s| s.starts_with("Mapped")).await;
    assert_eq!(status, format!("Mapped {odd_sku} to NetSuite item ODD-ITEM-77: 1 order continues to NetSuite."));
    let blocked_external = format!("wc-shop-order-{blocked}");
    wns.work_until("the released order in NetSuite", |ns| {
        ns.sim.find_by_external_id("salesOrder", &blocked_external).is_some()
    })
    .await;
    text_when(&c, &format!("{line} {}", badge(blocked)), "the released order's badge, without a reload", |s| {
        s.starts_with("Posted")
    })
    .await;
    text_when(&c, "#wns-sync-app .wns-sync-board", "the board without the closed exception", |s| !s.contains(&odd_sku))
        .await;
    shot(&c, &format!("{storage}-sku-fixer-saved")).await;

    // Someone who may see orders but not edit products (an editor given the orders, as customer
    // service often is; WooCommerce keeps users without `edit_posts` out of wp-admin, and shows
    // its menu, where the page sits, to those who may edit others' orders): the board, no fixer.
    let (viewer, password) = (format!("wns-viewer-{}", t.tag.to_lowercase()), format!("pw-{}-e2e", t.tag));
    let viewer_id = t.php(&format!(
        "$id = wp_create_user( '{viewer}', '{password}', '{viewer}@example.com' ); $u = new WP_User( $id ); \
         $u->set_role( 'editor' ); $u->add_cap( 'edit_shop_orders' ); $u->add_cap( 'edit_others_shop_orders' ); echo $id;"
    ));
    log_in(&c, &store_url, &viewer, &password).await;
    c.goto(&format!("{store_url}/wp-admin/admin.php?page=wns-sync")).await.unwrap();
    c.wait().for_element(Locator::Css("#wns-sync-app .wns-sync-board")).await.unwrap();
    assert!(c.find(Locator::Css(".wns-sync-fixer")).await.is_err(), "no fixer without map_skus");
    shot(&c, &format!("{storage}-sync-page-viewer")).await;

    // wns goes down: the orders list still works, and its column says so in words.
    wns.go_down();
    c.goto(&format!("{store_url}/wp-admin/{orders}")).await.unwrap();
    let text = text_when(&c, &badge(posted), "the unreachable state", |s| s == "Sync unavailable").await;
    assert_eq!(text, "Sync unavailable");
    let title = c.find(Locator::Css(&badge(posted))).await.unwrap().attr("title").await.unwrap().unwrap_or_default();
    assert!(title.contains("WooCommerce is not affected"), "{title}");
    let row = c.find(Locator::Css(&format!("tr#post-{blocked}, tr#order-{blocked}"))).await;
    assert!(row.is_ok(), "WooCommerce's own list still shows the orders");
    shot(&c, &format!("{storage}-orders-list-wns-down")).await;
    c.goto(&format!("{store_url}/wp-admin/admin.php?page=wns-sync")).await.unwrap();
    text_when(&c, "#wns-sync-app .wns-sync-notice", "the page's unreachable notice", |s| {
        s.contains("WooCommerce is not affected")
    })
    .await;
    shot(&c, &format!("{storage}-sync-page-wns-down")).await;
    let _ = c.close().await;

    t.cancel(posted).await;
    t.cancel(blocked).await;
    t.delete_webhook(hook.id).await;
    t.php(&format!(
        "delete_option( WNS_SYNC_OPTION ); require_once ABSPATH . 'wp-admin/includes/user.php'; wp_delete_user( {} );",
        viewer_id.trim()
    ));
}

/// The backend's own dashboard (`/`, what `wns demo` shows): the same widget, signed in with an
/// operator key instead of through WordPress. It needs only the simulators, Chromium and the built
/// widget, so it runs with the real-store tests (`cargo xtask test`), which have the latter two.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Chromium and the built widget: cargo xtask test"]
async fn the_standalone_dashboard_shows_the_same_views_signed_in_with_an_operator_key() {
    let t = Target::sim().await;
    let woo = t.client();
    let (mug, mug_sku) = t.product("MUG", "12.00", 30).await;
    let (odd, odd_sku) = t.product("NOITEM", "4.00", 10).await;
    let wns = Wns::start(&woo, &[mug_sku.as_str()], ApiSettings::default()).await;
    woo.create_webhook("order.created", &wns.webhook_url()).await.unwrap();
    let posted = t.order(&[(mug, 1)]).await;
    let blocked = t.order(&[(odd, 1)]).await;
    let external_id = format!("wc-shop-order-{posted}");
    wns.work_until("the mug order in NetSuite", |ns| ns.sim.find_by_external_id("salesOrder", &external_id).is_some())
        .await;
    wns.stock.cycle(true).await.unwrap();
    let caps = [Cap::View, Cap::MapSkus, Cap::Replay, Cap::Resolve].into_iter().collect();
    let key = create_key(wns.queue.store(), "e2e-operator", &caps, wns.queue.now()).await.unwrap();

    let (_driver, c) = browser().await;
    c.goto(&format!("{}/login?key={key}", wns.url)).await.unwrap();
    let badge = |id: u64| format!("td [data-wns-order=\"{id}\"] .wns-sync-badge");
    text_when(&c, &badge(posted), "the posted order's badge", |s| s.starts_with("Posted")).await;
    let text = text_when(&c, &badge(blocked), "the blocked order's badge", |s| s.starts_with("Blocked")).await;
    assert_eq!(text, "Blocked · E-commerce");
    let cell = format!("[data-wns-product=\"{mug}\"] .wns-sync-badge");
    let text = text_when(&c, &cell, "the mug's stock cell", |s| s.contains("in NetSuite")).await;
    assert!(text.contains("here"), "{text}");
    let text = text_when(&c, "table.wns-sync-exceptions", "the board", |s| s.contains(&odd_sku)).await;
    assert!(text.contains("E-commerce"), "{text}");
    shot(&c, "dashboard").await;

    // The fixer, as in WordPress: search, pick, and the order's badge moves without a reload.
    seed_odd_item(&wns).await;
    let line = format!("li[data-wns-sku=\"{odd_sku}\"]");
    search_fixer(&c, &line, "odd wid").await.click().await.unwrap();
    let status =
        text_when(&c, &format!("{line} .wns-sync-fix-status"), "the saved mapping", |s| s.starts_with("Mapped")).await;
    assert!(status.ends_with("1 order continues to NetSuite."), "{status}");
    let blocked_external = format!("wc-shop-order-{blocked}");
    wns.work_until("the released order in NetSuite", |ns| {
        ns.sim.find_by_external_id("salesOrder", &blocked_external).is_some()
    })
    .await;
    text_when(&c, &format!("{line} [data-wns-order=\"{blocked}\"] .wns-sync-badge"), "the released badge", |s| {
        s.starts_with("Posted")
    })
    .await;
    shot(&c, "dashboard-sku-fixed").await;

    // An order's timeline with Replay, for a key that may replay.
    c.goto(&format!("{}/?order={blocked}", wns.url)).await.unwrap();
    text_when(&c, "div.wns-sync-box .wns-sync-timeline", "the order's timeline", |s| !s.is_empty()).await;
    c.find(Locator::Css("div.wns-sync-box button.wns-sync-replay")).await.expect("the key may replay");
    shot(&c, "dashboard-order").await;

    // A key that may only view: the board, no fixer, no Replay.
    let viewer =
        create_key(wns.queue.store(), "e2e-viewer", &[Cap::View].into_iter().collect(), wns.queue.now()).await.unwrap();
    c.goto(&format!("{}/login?key={viewer}", wns.url)).await.unwrap();
    c.goto(&format!("{}/?order={blocked}", wns.url)).await.unwrap();
    c.wait().for_element(Locator::Css("#wns-sync-app .wns-sync-board")).await.unwrap();
    text_when(&c, "div.wns-sync-box .wns-sync-timeline", "the viewer's timeline", |s| !s.is_empty()).await;
    assert!(c.find(Locator::Css(".wns-sync-fixer")).await.is_err(), "no fixer without map_skus");
    assert!(c.find(Locator::Css("button.wns-sync-replay")).await.is_err(), "no Replay without replay");
    let _ = c.close().await;
}
