//! `wns demo`: the order flow end to end on the embedded default (a SQLite file, a local port),
//! so a newcomer sees the moving parts in a browser and in the terminal.
//!
//! The two far ends are simulated, in this process: NetSuite (`wns_sim::netsuite`, realistic
//! latency scaled down, the account's concurrency limit of 5) and a WooCommerce store
//! (`wns_sim::woo`). Everything between them is what `wns serve` runs: the [`Application`] with
//! its `[netsuite]`, `[woocommerce]` and `[sync]` settings (built here in code), which creates its
//! webhooks in the store, receives the store's signed deliveries at `/webhooks/woocommerce`,
//! queues one `woo.order` job per order and posts each as a NetSuite sales order — customer
//! first, SKUs through the mapping, a location by rule, stock or split lines — then writes the
//! NetSuite ids back to the order. With `[stock]` (every 5 s here instead of every minute) it
//! writes NetSuite's stock to the store: absolute values first, then only NetSuite-side changes,
//! while the orders' units are held back until NetSuite shows them.
//!
//! The store holds a catalogue of 240 products, each a NetSuite item stocked unevenly in three
//! locations (so orders are routed by stock, and some are split), and one product,
//! `DEMO-UNMAPPED`, with no NetSuite item: its orders block with an exception owned by
//! e-commerce. Half-way through the run (at most after 20 s) the demo saves a SKU mapping for it,
//! as a person would in the mapping screen, and the blocked orders continue by themselves.
//! Shoppers check out a few orders a second: new and returning guests, registered customers,
//! British addresses (routed to the second location by a country rule), coupons, shipping, fees.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use anyhow::Context;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use rust_decimal::Decimal;
use secrecy::SecretString;
use sqlx::Row;
use tokio_util::sync::CancellationToken;
use wns_api_types::JobState;
use wns_sim::{
    latency::Latency,
    netsuite::{self as nsim, LatencyProfile, NetSuiteConfig, NetSuiteSim, RunningNetSuite, SeedItem},
    woo::{self as wsim, Address, Checkout, NewProduct, RunningWoo, ShippingChoice, WooConfig, WooSim},
};

use crate::{
    app::{Application, shutdown_on_signals},
    clock,
    config::{DatabaseSettings, QueueSettings, ServerSettings, Settings},
    monitor::exceptions,
    netsuite::{AuthSettings, NetSuiteSettings, TbaCredentials},
    queue::{Handlers, Queue, RetryPolicy},
    store::Store,
    sync::inventory::StockSettings,
    sync::{
        SyncSettings,
        routing::{Route, RouteRule},
        sales_order::{CouponMode, OrderMapping, save_mapping},
    },
    woo::{WooClient, WooSettings, health::TOPICS},
};

const UNMAPPED: &str = "DEMO-UNMAPPED";
/// What the NetSuite item for [`UNMAPPED`] is called: not the SKU, so no automatic match.
const UNMAPPED_ITEM: &str = "GIFTCARD-25";
const PRODUCTS: usize = 240;
const DB_FILE: &str = "wns-demo.db";
const SITE: &str = "demo";
const ACCOUNT: &str = "1234567_SB1";
const WEBHOOK_SECRET: &str = "wnsDemoWebhookSecret2024";
const LOCATIONS: [&str; 3] = ["East Coast DC", "Central DC", "West Coast DC"];
const COUPON: &str = "welcome15";
/// Gift cards per location once the demo has created the NetSuite item for [`UNMAPPED`].
const GIFT_CARDS: i64 = 1000;

/// What the simulators were seeded with.
struct Catalogue {
    /// WooCommerce product ids of the mapped products.
    products: Vec<u64>,
    unmapped_product: u64,
    /// NetSuite location ids, in [`LOCATIONS`] order.
    locations: Vec<String>,
    shipping_item: String,
    fee_item: String,
    discount_item: String,
    /// Registered WooCommerce customers: (id, billing address).
    customers: Vec<(u64, Address)>,
}

pub async fn run(duration: Option<Duration>) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{DB_FILE}{suffix}"));
    }
    let ns = NetSuiteSim::spawn(NetSuiteConfig {
        account_id: ACCOUNT.into(),
        concurrency_limit: 5,
        latency: LatencyProfile { scale: 0.2, ..LatencyProfile::realistic() },
        ..NetSuiteConfig::for_tests()
    })
    .await
    .context("starting the NetSuite simulator")?;
    let ms = Duration::from_millis;
    let woo = WooSim::spawn(WooConfig { latency: Latency::new(ms(15), ms(60)), ..WooConfig::for_tests() })
        .await
        .context("starting the WooCommerce simulator")?;
    let catalogue = seed(&ns.sim, &woo.sim);

    let addr = pick_address()?;
    let settings = settings(addr, &ns, &woo, &catalogue);
    settings.validate()?;
    let app = Application::build(&settings, clock::system(), Handlers::new()).await?;
    let addr = app.addr();
    // The status page needs a credential like any other: a key for this run, in the link.
    let all = crate::api::auth::Cap::ALL.into_iter().collect();
    let name = format!("demo-{}", std::process::id());
    let key = crate::api::auth::create_key(app.queue().store(), &name, &all, app.queue().now())
        .await
        .map_err(|e| anyhow::anyhow!("making the demo's viewer key: {e}"))?;
    println!(
        "wns demo: open http://{addr}/login?key={key} (dashboard, logged in), http://{addr}/metrics, http://{addr}/healthz"
    );
    println!("wns demo: database {DB_FILE} (SQLite, WAL) in {}", std::env::current_dir()?.display());
    println!(
        "wns demo: NetSuite simulator {} (account {ACCOUNT}, {} items, {} locations; sales orders at {0}/_sim/records/salesOrder)",
        ns.base_url,
        PRODUCTS + 4,
        LOCATIONS.len()
    );
    println!(
        "wns demo: WooCommerce simulator {} ({} products, {} registered customers; counters at {0}/_sim/counters)",
        woo.base_url,
        PRODUCTS + 1,
        catalogue.customers.len()
    );
    let queue = app.queue().clone();
    let shutdown = shutdown_on_signals();
    let started = Instant::now();
    let running = tokio::spawn(app.run(shutdown.clone()));

    let woo_settings = settings.woocommerce.as_ref().expect("set above");
    match wait_for_webhooks(woo_settings, &shutdown).await {
        Ok(()) => println!(
            "wns demo: wns created its {} webhooks in the store; deliveries go to {}",
            TOPICS.len(),
            woo_settings.delivery_url()
        ),
        Err(e) => println!("wns demo: webhooks not in place yet ({e:#}); the order sweep catches up"),
    }

    // With a duration: checkouts stop a little before the end so the last orders get through.
    let stop_shopping = CancellationToken::new();
    if let Some(d) = duration {
        let shop = stop_shopping.clone();
        let tail = shopping_tail(d);
        tokio::spawn(async move {
            tokio::time::sleep_until((started + d - tail).into()).await;
            shop.cancel();
        });
    }
    // The demo's own tasks read wns's database: they stop before the application closes it.
    let demo_stop = shutdown.child_token();
    let map_at = duration.map_or(Duration::from_secs(20), |d| (d / 2).min(Duration::from_secs(20)));
    println!(
        "wns demo: {UNMAPPED} has no NetSuite item; its orders wait with an exception (owner: ecommerce) until the demo maps it at {}s",
        map_at.as_secs_f64().round()
    );

    let locations = catalogue.locations.clone();
    let shopper = {
        let (woo, catalogue, shutdown, stop) = (woo.sim.clone(), catalogue, shutdown.clone(), stop_shopping.clone());
        tokio::spawn(async move { shop(woo, catalogue, started, stop, shutdown).await })
    };
    let mapper = {
        let (queue, ns, stop) = (queue.clone(), ns.sim.clone(), demo_stop.clone());
        tokio::spawn(async move {
            if let Err(e) = map_later(queue, ns, locations, started + map_at, stop.clone()).await
                && !stop.is_cancelled()
            {
                println!("wns demo: mapping {UNMAPPED} failed: {e:#}");
            }
        })
    };
    let progress = tokio::spawn(progress(queue.clone(), ns.sim.clone(), woo.sim.clone(), started, demo_stop.clone()));

    // Until the duration is over, Ctrl-C, or the application stops by itself (an error).
    let mut running = running;
    let the_end = async {
        match duration {
            Some(d) => tokio::time::sleep_until((started + d).into()).await,
            None => std::future::pending().await,
        }
    };
    let ended_early = tokio::select! {
        _ = the_end => None,
        _ = shutdown.cancelled() => None,
        result = &mut running => Some(result),
    };
    demo_stop.cancel();
    let _ = tokio::join!(progress, mapper);
    shutdown.cancel();
    match ended_early {
        Some(result) => result??,
        None => running.await??,
    }
    let shopping = shopper.await?;
    summary(&shopping, duration.map(|d| d - shopping_tail(d)), &ns.sim).await
}

/// With a duration: how long before the end checkouts stop, so the last orders get through.
fn shopping_tail(d: Duration) -> Duration {
    (d / 4).min(Duration::from_secs(5))
}

/// 127.0.0.1:8080 as `wns serve`, a free port (said in one line) when that is taken, or
/// `WNS_DEMO_BIND` exactly. The port must be known before the application binds it: it is the
/// store's webhook delivery address.
fn pick_address() -> anyhow::Result<SocketAddr> {
    if let Ok(b) = std::env::var("WNS_DEMO_BIND") {
        let wanted: SocketAddr =
            b.parse().with_context(|| format!("WNS_DEMO_BIND={b:?} is not an address like 127.0.0.1:8080"))?;
        let listener = std::net::TcpListener::bind(wanted).with_context(|| {
            format!("WNS_DEMO_BIND={b}: cannot listen there; choose a free address (port 0 picks one)")
        })?;
        return Ok(listener.local_addr()?);
    }
    let wanted = SocketAddr::from(([127, 0, 0, 1], 8080));
    match std::net::TcpListener::bind(wanted) {
        Ok(listener) => Ok(listener.local_addr()?),
        Err(e) => {
            let listener = std::net::TcpListener::bind(SocketAddr::new(wanted.ip(), 0))
                .with_context(|| format!("no free port on {}", wanted.ip()))?;
            let addr = listener.local_addr()?;
            println!("wns demo: {wanted} is taken ({e}); using {addr} instead (set WNS_DEMO_BIND to choose)");
            Ok(addr)
        }
    }
}

fn settings(addr: SocketAddr, ns: &RunningNetSuite, woo: &RunningWoo, c: &Catalogue) -> Settings {
    let defaults = Settings::default();
    let auth = AuthSettings::Tba(TbaCredentials::new(
        nsim::TEST_CONSUMER_KEY,
        nsim::TEST_CONSUMER_SECRET,
        nsim::TEST_TOKEN_ID,
        nsim::TEST_TOKEN_SECRET,
    ));
    let mut netsuite = NetSuiteSettings {
        base_url: Some(ns.base_url.clone()),
        request_timeout_secs: 30,
        ..NetSuiteSettings::new(ACCOUNT, auth)
    };
    netsuite.governor.concurrency_limit = 5;

    let woocommerce = WooSettings {
        base_url: woo.base_url.clone(),
        consumer_key: wsim::TEST_CONSUMER_KEY.into(),
        consumer_secret: wsim::TEST_CONSUMER_SECRET.into(),
        webhook_secret: WEBHOOK_SECRET.into(),
        webhook_max_body_bytes: 2 * 1024 * 1024,
        // The store delivers its webhooks here: the demo's own address.
        public_url: format!("http://{addr}"),
        sweep_every_secs: 60,
        webhook_check_every_secs: 60,
        ca_file: None,
    };

    let mut orders = OrderMapping::new(SITE, "1", &c.shipping_item, &c.fee_item);
    orders.coupon_mode = CouponMode::LineRates;
    orders.discount_item = Some(c.discount_item.clone());
    let mut sync = SyncSettings::new(orders);
    sync.routing.locations = c.locations.clone();
    sync.routing.default_location = Some(c.locations[0].clone());
    sync.routing.rules = vec![RouteRule {
        country: "GB".into(),
        regions: Vec::new(),
        postcode_prefixes: Vec::new(),
        location: c.locations[1].clone(),
    }];

    Settings {
        site: SITE.into(),
        // The dashboard's widget, where `cargo xtask demo` builds it in this checkout.
        server: ServerSettings {
            bind: addr,
            widget_dir: Some(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(crate::api::DEFAULT_WIDGET_DIR),
            ),
        },
        database: DatabaseSettings {
            url: SecretString::from(format!("sqlite://{DB_FILE}")),
            // SQLite has one writer; more connections of one process would only fight over its lock.
            max_connections: 1,
        },
        queue: QueueSettings {
            workers: 8,
            poll_ms: 200,
            shutdown_grace_secs: 5,
            retry: RetryPolicy { base_ms: 500, max_delay_secs: 10, ..RetryPolicy::default() },
            ..defaults.queue
        },
        netsuite: Some(netsuite),
        woocommerce: Some(woocommerce),
        sync: Some(sync),
        // Stock every 5 s instead of every minute, so it shows within the demo.
        stock: Some(StockSettings {
            every_secs: 5,
            overlap_secs: 10,
            drift_grace_secs: 10,
            ..StockSettings::new(c.locations.clone())
        }),
        log: defaults.log,
        api: defaults.api,
        report: None,
    }
}

const NOUNS: &[&str] = &["Mug", "Tee", "Hoodie", "Cap", "Tote", "Notebook", "Poster", "Beanie", "Bottle", "Scarf"];
const ADJECTIVES: &[&str] =
    &["Enamel", "Classic", "Organic", "Vintage", "Café", "Recycled", "Deluxe", "Blue & Red", "Travel", "Mini"];
/// Cents; products cycle through them, so orders mix cheap and dear lines.
const PRICES: &[i64] = &[450, 999, 1200, 1995, 2400, 3900, 5990, 8900, 12900, 24900, 650, 1499];

/// The catalogue in both systems, stock in NetSuite, and the store's registered customers.
fn seed(ns: &NetSuiteSim, woo: &WooSim) -> Catalogue {
    let mut rng = StdRng::seed_from_u64(2024);
    let typed = |name: &str, t: &str| ns.seed_item(SeedItem { item_type: t.into(), ..SeedItem::new(name) });
    let (shipping_item, fee_item, discount_item) =
        (typed("Shipping", "OthCharge"), typed("Handling fee", "OthCharge"), typed("Web discount", "Discount"));
    let locations: Vec<String> = LOCATIONS.iter().map(|n| ns.seed_location(n)).collect();
    let mut products = Vec::with_capacity(PRODUCTS);
    for i in 1..=PRODUCTS {
        let sku = format!("DEMO-{i:04}");
        let name = format!("{} {}", ADJECTIVES[(i / NOUNS.len()) % ADJECTIVES.len()], NOUNS[i % NOUNS.len()]);
        let price = Decimal::new(PRICES[i % PRICES.len()], 2);
        let item = ns.seed_item(SeedItem { display_name: name.clone(), base_price: price, ..SeedItem::new(&sku) });
        // Uneven stock: most items in two of the three locations, some in one.
        let mut total = 0;
        for (n, loc) in locations.iter().enumerate() {
            // Every product is carried somewhere (the last location takes the ones the others skip).
            let carried = rng.random_bool([0.55, 0.6, 0.6][n]) || (n == locations.len() - 1 && total == 0);
            let available = if carried { rng.random_range(2..40) } else { 0 };
            ns.set_stock(&item, loc, available, available);
            total += available;
        }
        // WooCommerce starts with a stale figure; wns's first stock cycle writes NetSuite's.
        // Sold-out products refuse checkouts, as a real store does.
        products.push(woo.add_product(NewProduct::new(&name, &sku, price).stock(total + 2)));
    }
    let unmapped_product = woo.add_product(NewProduct::new("Gift card 25", UNMAPPED, Decimal::new(2500, 2)));
    woo.add_coupon(COUPON, "percent", "15");
    let customers = (0..12)
        .map(|n| {
            let a = address(&mut rng, 1000 + n);
            (woo.add_customer(&a.first_name, &a.last_name, &a.email), a)
        })
        .collect();
    Catalogue { products, unmapped_product, locations, shipping_item, fee_item, discount_item, customers }
}

const FIRST: &[&str] = &[
    "Ava", "Ben", "Chloe", "Dev", "Emma", "Finn", "Grace", "Hugo", "Isla", "Jack", "Kai", "Lena", "Milo", "Nora",
    "Omar", "Priya", "Quinn", "Rosa", "Sam", "Theo", "Uma", "Vera", "Wes", "Yara", "Zoe",
];
const LAST: &[&str] = &[
    "Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones", "Khan", "Lopez",
    "Murphy", "Nguyen", "O'Brien", "Patel", "Rossi", "Smith", "Taylor", "Walsh",
];
const US: &[(&str, &str, &str)] = &[
    ("Los Angeles", "CA", "90012"),
    ("San Francisco", "CA", "94103"),
    ("New York", "NY", "10001"),
    ("Austin", "TX", "73301"),
    ("Seattle", "WA", "98101"),
    ("Chicago", "IL", "60601"),
];
const GB: &[(&str, &str)] = &[("London", "SW1A 2AA"), ("Manchester", "M1 1AE"), ("Edinburgh", "EH1 1YZ")];

/// A new shopper: one in five British, the rest in the US; `n` makes the e-mail unique.
fn address(rng: &mut StdRng, n: u64) -> Address {
    let (first, last) = (*FIRST.choose(rng).expect("names"), *LAST.choose(rng).expect("names"));
    let email = format!("{}.{}{n}@example.org", first.to_lowercase(), last.to_lowercase().replace('\'', ""));
    let street = format!(
        "{} {}",
        rng.random_range(1..400),
        ["Oak St", "High St", "Mill Rd", "Park Ave"].choose(rng).expect("streets")
    );
    if rng.random_bool(0.2) {
        let (city, postcode) = *GB.choose(rng).expect("cities");
        Address {
            first_name: first.into(),
            last_name: last.into(),
            address_1: street,
            city: city.into(),
            postcode: postcode.into(),
            email,
            ..Address::gb()
        }
    } else {
        let (city, state, postcode) = *US.choose(rng).expect("cities");
        Address {
            first_name: first.into(),
            last_name: last.into(),
            address_1: street,
            city: city.into(),
            state: state.into(),
            postcode: postcode.into(),
            email,
            phone: format!("555-01{:02}", rng.random_range(0..100)),
            ..Address::us_ca()
        }
    }
}

/// What the shoppers did.
struct Shopping {
    placed: u64,
    refused: u64,
    /// When the last checkout the store took was made, since the start.
    last: Option<Duration>,
}

/// Checkouts until `stop` (or `shutdown`): about three a second.
async fn shop(
    woo: WooSim,
    c: Catalogue,
    started: Instant,
    stop: CancellationToken,
    shutdown: CancellationToken,
) -> Shopping {
    let mut last = None;
    let mut rng = StdRng::seed_from_u64(7);
    let mut guests: Vec<Address> = Vec::new();
    let mut placed: u64 = 0;
    let mut refused: u64 = 0;
    let mut with_unmapped: u64 = 0;
    let mut attempts: u64 = 0;
    while !stop.is_cancelled() && !shutdown.is_cancelled() {
        let roll: f64 = rng.random();
        let checkout = if roll < 0.2 {
            let (id, a) = c.customers.choose(&mut rng).expect("customers").clone();
            Checkout::guest(a).customer(id)
        } else if roll < 0.5 || guests.is_empty() {
            let a = address(&mut rng, placed + 1);
            guests.push(a.clone());
            Checkout::guest(a)
        } else {
            let mut a = guests.choose(&mut rng).expect("guests").clone();
            if rng.random_bool(0.15) {
                a.email = a.email.to_uppercase(); // the same person, typing differently
            }
            Checkout::guest(a)
        };
        let mut checkout = checkout;
        let gb = checkout.billing.country == "GB";
        let mut chosen: Vec<u64> = Vec::new();
        for _ in 0..rng.random_range(1..=4) {
            let p = *c.products.choose(&mut rng).expect("products");
            if !chosen.contains(&p) {
                chosen.push(p);
                checkout = checkout.line(p, rng.random_range(1..=3));
            }
        }
        // The second checkout and every twentieth after it carry the product NetSuite does not
        // know. Counted by attempts: a refused checkout is not tried again as it was.
        attempts += 1;
        let unmapped = attempts % 20 == 2;
        if unmapped {
            checkout = checkout.line(c.unmapped_product, 1);
        }
        if rng.random_bool(0.12) {
            checkout = checkout.coupon(if rng.random_bool(0.5) { COUPON } else { "tenoff" });
        }
        let shipping: f64 = rng.random();
        if shipping < 0.6 {
            checkout = checkout.shipping(ShippingChoice::flat_rate(Decimal::new(if gb { 695 } else { 495 }, 2)));
        } else if shipping < 0.8 {
            checkout = checkout.shipping(ShippingChoice::free());
        }
        if rng.random_bool(0.06) {
            checkout = checkout.fee("Gift wrap", Decimal::new(250, 2), true);
        }
        match woo.checkout(checkout) {
            Ok(_) => {
                placed += 1;
                with_unmapped += u64::from(unmapped);
                last = Some(started.elapsed());
            }
            Err(e) => {
                refused += 1;
                tracing::debug!(error = %e, "checkout refused");
            }
        }
        let pause = Duration::from_millis(rng.random_range(150..550));
        tokio::select! { _ = stop.cancelled() => {}, _ = shutdown.cancelled() => {}, _ = tokio::time::sleep(pause) => {} }
    }
    if !shutdown.is_cancelled() {
        println!(
            "wns demo: checkouts stopped after {placed} orders ({with_unmapped} with {UNMAPPED}; {refused} refused by the store); the last ones finish"
        );
    }
    Shopping { placed, refused, last }
}

/// Waits until wns's webhook health check has created its webhooks in the store.
async fn wait_for_webhooks(woo: &WooSettings, stop: &CancellationToken) -> anyhow::Result<()> {
    let client = WooClient::new(woo).map_err(|e| anyhow::anyhow!("{e}"))?;
    let url = woo.delivery_url();
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        let hooks = client.webhooks().await?;
        let ready =
            TOPICS.iter().all(|t| hooks.iter().any(|h| h.topic == *t && h.delivery_url == url && h.status == "active"));
        if ready {
            return Ok(());
        }
        if Instant::now() > until || stop.is_cancelled() {
            anyhow::bail!("not all of {TOPICS:?} exist after 15 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// At `at`: the NetSuite item a person finds for the unmapped SKU, and the mapping they save.
async fn map_later(
    queue: Queue,
    ns: NetSuiteSim,
    locations: Vec<String>,
    at: Instant,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    tokio::select! { _ = stop.cancelled() => return Ok(()), _ = tokio::time::sleep_until(at.into()) => {} }
    let item = ns.seed_item(SeedItem {
        display_name: "Gift card 25".into(),
        base_price: Decimal::new(2500, 2),
        ..SeedItem::new(UNMAPPED_ITEM)
    });
    // Gift cards are stocked like the rest: once mapped, wns writes this figure to the store,
    // and the shoppers go on buying them.
    for location in &locations {
        ns.set_stock(&item, location, GIFT_CARDS, GIFT_CARDS);
    }
    let waiting: Vec<u64> = sqlx::query("select entity_key from jobs where state = 'blocked' and blocked_cause = $1")
        .bind(format!("sku:{UNMAPPED}"))
        .fetch_all(queue.store().pool())
        .await?
        .iter()
        .filter_map(|r| r.try_get::<String, _>(0).ok()?.strip_prefix("order:")?.parse().ok())
        .collect();
    let requeued = save_mapping(&queue, UNMAPPED, &item, "demo").await?;
    println!(
        "wns demo: SKU mapping saved: {UNMAPPED} → NetSuite item {item} ({UNMAPPED_ITEM}); {requeued} blocked orders continue by themselves"
    );
    if waiting.is_empty() {
        return Ok(());
    }
    loop {
        tokio::select! { _ = stop.cancelled() => return Ok(()), _ = tokio::time::sleep(Duration::from_millis(250)) => {} }
        let mut posted = Vec::new();
        for id in &waiting {
            let row =
                sqlx::query("select tranid, netsuite_id from order_links where wc_order_id = $1 and state = 'posted'")
                    .bind(*id as i64)
                    .fetch_optional(queue.store().pool())
                    .await?;
            if let Some(r) = row {
                // The document number is read back in bulk a moment after the upsert.
                let shown = match (r.try_get::<Option<String>, _>(0)?, r.try_get::<Option<String>, _>(1)?) {
                    (Some(tranid), _) if !tranid.is_empty() => tranid,
                    (_, Some(ns_id)) => format!("internal id {ns_id}"),
                    _ => "?".into(),
                };
                posted.push(format!("#{id} → {shown}"));
            }
        }
        if posted.len() == waiting.len() {
            println!("wns demo: the orders that waited for {UNMAPPED} are sales orders now: {}", posted.join(", "));
            return Ok(());
        }
    }
}

/// Counts read from wns's database.
#[derive(Default)]
struct Counts {
    posted: i64,
    blocked: u64,
    waiting: u64,
    retrying: i64,
    open_exceptions: usize,
}

async fn counts(queue: &Queue) -> anyhow::Result<Counts> {
    let pool = queue.store().pool();
    let one = |sql: &'static str| async move { sqlx::query(sql).fetch_one(pool).await?.try_get::<i64, _>(0) };
    let s = queue.summary().await?;
    Ok(Counts {
        posted: one("select count(*) from order_links where state = 'posted'").await?,
        blocked: s.total(JobState::Blocked),
        waiting: s.total(JobState::Ready) + s.total(JobState::Running),
        retrying: one("select count(*) from jobs where state = 'ready' and attempts > 0").await?,
        open_exceptions: exceptions::open(queue.store(), None).await?.len(),
    })
}

async fn progress(queue: Queue, ns: NetSuiteSim, woo: WooSim, started: Instant, stop: CancellationToken) {
    loop {
        tokio::select! { _ = stop.cancelled() => return, _ = tokio::time::sleep(Duration::from_secs(2)) => {} }
        let Ok(c) = counts(&queue).await else { continue };
        println!(
            "wns demo: {:>4}s | checked out {:>4} | posted {:>4} (NetSuite: {:>4} sales orders, {:>3} customers) | blocked {:>2} | queued {:>3} | retrying {:>2} | open exceptions {}",
            started.elapsed().as_secs(),
            woo.counters().checkouts,
            c.posted,
            ns.record_count("salesOrder"),
            ns.record_count("customer"),
            c.blocked,
            c.waiting,
            c.retrying,
            c.open_exceptions,
        );
    }
}

/// After the application closed its database: what the run did, from both sides. An exception
/// the demo did not cause on purpose (only [`UNMAPPED`]'s `unmapped_sku` is) is a fault in wns:
/// the summary counts them, and the run fails when there is one.
async fn summary(shopping: &Shopping, shop_until: Option<Duration>, ns: &NetSuiteSim) -> anyhow::Result<()> {
    let store = Store::connect(&format!("sqlite://{DB_FILE}"), 1).await?;
    let queue = Queue::new(store.clone(), clock::system(), RetryPolicy::default());
    let c = counts(&queue).await?;
    let kinds = sqlx::query(
        "select kind, count(*), sum(case when resolved_at is null then 1 else 0 end) from exceptions group by kind order by kind",
    )
    .fetch_all(store.pool())
    .await?;
    let mut raised = Vec::new();
    for r in kinds {
        let (kind, n, open) = (r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)?, r.try_get::<i64, _>(2)?);
        raised.push(format!("{kind} {n} ({open} open)"));
    }
    let raised = if raised.is_empty() { "none".to_string() } else { raised.join(", ") };
    let unexplained: Vec<String> = sqlx::query(
        "select kind, message from exceptions where not (kind = 'unmapped_sku' and entity_key = $1) order by first_seen",
    )
    .bind(format!("sku:{UNMAPPED}"))
    .fetch_all(store.pool())
    .await?
    .iter()
    .map(|r| Ok(format!("{}: {}", r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let (mut rule, mut stock, mut split, mut other) = (0, 0, 0, 0);
    for r in sqlx::query("select route from order_links where state = 'posted'").fetch_all(store.pool()).await? {
        match r.try_get::<Option<String>, _>(0)?.and_then(|j| serde_json::from_str::<Route>(&j).ok()) {
            Some(Route::Order { why, .. }) if why.starts_with("rule") => rule += 1,
            Some(Route::Order { why, .. }) if why == "stock" => stock += 1,
            Some(Route::Lines(_)) => split += 1,
            _ => other += 1,
        }
    }
    println!(
        "wns demo: routing: {rule} by the country rule (GB → {}), {stock} from one location with stock for every line, {split} split across locations, {other} to the default location",
        LOCATIONS[1]
    );
    let matched = sqlx::query("select matched_by, count(*) from customer_links group by matched_by order by 2 desc")
        .fetch_all(store.pool())
        .await?
        .iter()
        .map(|r| {
            let how = match r.try_get::<String, _>(0)?.as_str() {
                "created" => "created in NetSuite".to_string(),
                "external_id" => "found by external id".into(),
                "email" => "found by e-mail".into(),
                "linked_id" => "found by the linked id".into(),
                other => other.into(),
            };
            Ok(format!("{} {how}", r.try_get::<i64, _>(1)?))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    println!("wns demo: shoppers linked to NetSuite customers: {}", matched.join(", "));
    let written: i64 = sqlx::query_scalar("select count(*) from stock_items where pushed_at is not null")
        .fetch_one(store.pool())
        .await?;
    let skus: i64 = sqlx::query_scalar("select count(*) from stock_items").fetch_one(store.pool()).await?;
    println!(
        "wns demo: stock: {written} of {skus} SKUs written to WooCommerce from NetSuite (first from WooCommerce's own figure, then as NetSuite-side changes)"
    );
    store.close().await;
    if let (Some(until), Some(last)) = (shop_until, shopping.last) {
        println!(
            "wns demo: checkouts ran until {:.0}s (planned to stop at {:.0}s; {} refused by the store)",
            last.as_secs_f64(),
            until.as_secs_f64(),
            shopping.refused
        );
    }
    println!(
        "wns demo summary: {} orders checked out; {} sales orders in NetSuite; {} customers in NetSuite; {} blocked; {} still queued; exceptions: {raised}; unexplained exceptions: {}",
        shopping.placed,
        ns.record_count("salesOrder"),
        ns.record_count("customer"),
        c.blocked,
        c.waiting,
        unexplained.len(),
    );
    if !unexplained.is_empty() {
        anyhow::bail!(
            "the demo raised {} exception(s) it did not cause on purpose, which is a fault in wns; please report it with this output: {}",
            unexplained.len(),
            unexplained.join(" | ")
        );
    }
    Ok(())
}
