//! `cargo xtask bench oversell`: a flash sale on both simulators, counting units WooCommerce sold
//! that NetSuite cannot cover.
//!
//! 500 SKUs, each with NetSuite stock 1–20 at one web location; WooCommerce products manage stock
//! and refuse backorders, so WooCommerce refuses a checkout beyond the stock it shows. The first
//! (full) stock cycle writes WooCommerce's stock. Then for `WNS_BENCH_SECS` (default 60):
//!
//! - shoppers (`WNS_BENCH_SHOPPERS` tasks, `WNS_BENCH_CHECKOUTS_PER_SEC` attempts a second in all)
//!   check out random SKUs (one line, a fifth of them two), quantities 1–3; a refused checkout is
//!   not a sale. Each sale's `order.created` delivery goes through wns's webhook receiver (signed,
//!   as WooCommerce sends it), which enqueues the order's job and records its units as in flight
//!   in the same transaction;
//! - NetSuite moves on its own side: item receipts (`WNS_BENCH_RECEIPTS_PER_SEC`, 1–5 units) and
//!   sales on other channels (`WNS_BENCH_ELSEWHERE_PER_SEC`, 1–3 units, never more than NetSuite
//!   shows available — the other channel sells what NetSuite says it has);
//! - the worker posts the orders through the governor (account limit 5, every NetSuite request
//!   taking `WNS_BENCH_NS_MS`, default 150 ms), so orders really are in flight for a while;
//!   WooCommerce answers each request after a log-normal delay with median `WNS_BENCH_WOO_MS`
//!   (default 200 ms, p99 three times that), as WordPress does;
//! - a stock cycle (`StockSync::cycle(false)`) every `WNS_BENCH_CYCLE_SECS` (default 3).
//!
//! Then everything settles: every order is a sales order, the queue is empty, one last cycle.
//!
//! **Counting**, by the simulators' own figures and the bench's ledger per SKU: NetSuite had
//! N = initial + received − sold elsewhere; WooCommerce sold W (units of accepted checkouts);
//! oversold = max(0, W − N). NetSuite's own view must agree: with every web order posted, the
//! backordered quantity at the location is exactly max(0, W − N) (reported next to it).
//!
//! Two causes of overselling are outside any connector, and the bench separates them out. When
//! another channel sells units that WooCommerce has already sold (the order not yet in NetSuite)
//! or still shows (the cycle has not pushed the sale yet), both channels sell the same units; the
//! bench counts those units at each other-channel sale, under the SKU's lock, as
//! q − clamp(available − web units not yet in NetSuite − WooCommerce's stock, 0, q) ("conflicts").
//! "Beyond conflicts" is Σ per SKU max(0, oversold − conflicts): what wns's writes caused. A
//! push already computed but not yet written when the other channel sells is not in the
//! conflicts (the bench cannot see it), so that column can show a few such units even for a
//! connector without fault; the receipts-only rows have no other channel and no such doubt.
//!
//! Two more columns show what did not (yet) become oversold units. **Offered beyond cover**:
//! every 250 ms during the sale, under each SKU's lock, the units WooCommerce shows beyond what
//! NetSuite can still give it (available − web units not yet in NetSuite), summed over SKUs: the
//! largest sample, and the sum × 0.25 s (unit·seconds). A unit offered beyond cover is oversold
//! only if someone buys it before the next write takes it back. **WooCommerce ≠ NetSuite**: with
//! nothing in flight any more, SKUs whose WooCommerce stock is not NetSuite's available, after
//! the last delta cycle and again after a full pass (`cycle(true)`). `WNS_BENCH_VERBOSE=1` prints
//! wns's figures and order units for each such SKU, and the ledger of each SKU oversold beyond
//! conflicts.
//!
//! Rows (fresh simulators and database each): `write = absolute` without the in-flight
//! reservation, `absolute` with it, and `adjust` (NetSuite-side deltas through the stock-adjust
//! route; the reservation is implicit), each with receipts only and with receipts plus other
//! channels. `WNS_BENCH_ROWS=absolute-off,absolute-on,adjust` and `WNS_BENCH_OTHER=off,on` pick
//! rows. The embedded default database (SQLite).

#[path = "../tests/support/flow.rs"]
mod support;

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use base64::Engine;
use hmac::{KeyInit, Mac};
use rand::{Rng, SeedableRng, rngs::StdRng};
use rust_decimal::Decimal;
use wns::{
    queue::{Handlers, RetryPolicy, Worker, WorkerOptions},
    store::Backend,
    sync::inventory::{StockSettings, StockSync, WriteMode},
    woo::webhook::{DeliveryHeaders, Receiver, Verdict},
};
use wns_sim::{
    latency::Latency,
    netsuite::{LatencyProfile, NetSuiteConfig, SeedItem},
    woo::{Address, Checkout, NewProduct, WooConfig},
};

const SKUS: usize = 500;
const SECRET: &str = "wns-oversell-bench-secret";
const SAMPLE: Duration = Duration::from_millis(250);

/// `stock_items` as the verbose dump reads it: ns_available, ns_as_of, pushed_basis, pushed, pushed_at.
type StockItemRow = (i64, i64, Option<i64>, Option<i64>, Option<i64>);

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[derive(Clone, Copy)]
struct Knobs {
    secs: u64,
    shoppers: usize,
    checkouts_per_sec: f64,
    receipts_per_sec: f64,
    elsewhere_per_sec: f64,
    cycle_secs: f64,
    ns_ms: u64,
    woo_ms: u64,
}

/// What the bench knows of one SKU; every change happens under its lock.
#[derive(Default, Clone, Copy)]
struct Ledger {
    sold_web: i64,
    received: i64,
    sold_elsewhere: i64,
    conflicts: i64,
}

struct Sku {
    name: String,
    product: u64,
    item: String,
    initial: i64,
    ledger: Mutex<Ledger>,
}

#[derive(Default)]
struct Tally {
    attempted: AtomicU64,
    refused: AtomicU64,
    orders: AtomicU64,
    units: AtomicU64,
    receipts: AtomicU64,
    elsewhere: AtomicU64,
    /// Σ over samples of the units WooCommerce showed beyond NetSuite's cover, and the largest.
    over_offered_sum: AtomicU64,
    over_offered_peak: AtomicU64,
    samples: AtomicU64,
}

struct Row {
    label: &'static str,
    other: bool,
    attempted: u64,
    refused: u64,
    units_sold: i64,
    oversold: i64,
    skus_oversold: usize,
    backordered: i64,
    conflicts: i64,
    beyond: i64,
    skus_beyond: usize,
    orders: u64,
    posted: usize,
    cycles: u64,
    cycle_errors: u64,
    receipts: u64,
    elsewhere: u64,
    woo_differs: usize,
    woo_differs_after_full: usize,
    over_offered_unit_secs: f64,
    over_offered_peak: u64,
    sale_secs: f64,
    settle_secs: f64,
}

fn signed(body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// An exponential pause with mean `1 / rate` seconds.
fn pause(rng: &mut StdRng, rate: f64) -> Duration {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    Duration::from_secs_f64(-u.ln() / rate)
}

async fn run(label: &'static str, write: WriteMode, reserve: bool, other: bool, k: Knobs) -> Row {
    let mut ns = NetSuiteConfig::for_tests();
    ns.concurrency_limit = 5;
    ns.latency = LatencyProfile::fixed(Duration::from_millis(k.ns_ms));
    let mut woo = WooConfig::for_tests();
    woo.latency = Latency::new(Duration::from_millis(k.woo_ms), Duration::from_millis(k.woo_ms * 3));
    let o = support::Options {
        ns,
        woo,
        governor_limit: 5,
        request_timeout_secs: 60,
        workers: 30,
        retry: RetryPolicy { base_ms: 100, max_delay_secs: 5, max_attempts: 50, ..RetryPolicy::default() },
    };
    let f = Arc::new(support::flow_with(Backend::Sqlite, o, |_, _| {}).await);
    let east = f.locations[0].clone();
    let mut rng = StdRng::seed_from_u64(6);
    let skus: Arc<Vec<Sku>> = Arc::new(
        (0..SKUS)
            .map(|n| {
                let name = format!("OS-{n:04}");
                let product = f
                    .woo
                    .sim
                    .add_product(NewProduct::new(&name, &name, Decimal::new(1999, 2)).stock(0).backorders(false));
                let item = f.ns.sim.seed_item(SeedItem::new(&name));
                let initial = rng.random_range(1..=20);
                f.ns.sim.set_stock(&item, &east, initial, initial);
                Sku { name, product, item, initial, ledger: Mutex::new(Ledger::default()) }
            })
            .collect(),
    );
    // SKUs resolve once and are remembered; warm that up outside the measured run.
    let names: Vec<&str> = skus.iter().map(|s| s.name.as_str()).collect();
    wns::sync::sales_order::resolve_skus(&f.client, &f.store, &names, 0).await.unwrap();

    let mut settings = StockSettings::new(vec![east.clone()]);
    settings.write = write;
    settings.reserve_in_flight = reserve;
    let stock = StockSync::new(f.client.clone(), support::woo_client(&f.woo.base_url), f.queue.clone(), settings);
    let first = stock.cycle(true).await.unwrap();
    assert_eq!(first.pushed, SKUS, "the first cycle writes every SKU");
    for s in skus.iter() {
        assert_eq!(f.woo.sim.stock_of(s.product), Some(s.initial), "{}", s.name);
    }

    let stop_worker = tokio_util::sync::CancellationToken::new();
    let worker = Worker::new(
        f.queue.clone(),
        f.flow.register(Handlers::new()),
        WorkerOptions { concurrency: 30, poll: Duration::from_millis(50), ..WorkerOptions::new("bench") },
    );
    let worker = tokio::spawn(worker.run(stop_worker.clone()));
    let receiver = Arc::new(Receiver::new(f.queue.clone()));
    let tally = Arc::new(Tally::default());
    let selling = Arc::new(AtomicBool::new(true));
    let cycling = Arc::new(AtomicBool::new(true));
    let (cycles, cycle_errors) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));

    let cycle_starts = Arc::new(Mutex::new(Vec::new()));
    let cycler = {
        let (stock, cycling, cycles, cycle_errors, starts, queue) = (
            stock.clone(),
            cycling.clone(),
            cycles.clone(),
            cycle_errors.clone(),
            cycle_starts.clone(),
            f.queue.clone(),
        );
        tokio::spawn(async move {
            while cycling.load(Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_secs_f64(k.cycle_secs)).await;
                starts.lock().unwrap().push(queue.now());
                match stock.cycle(false).await {
                    Ok(_) => cycles.fetch_add(1, Ordering::SeqCst),
                    Err(e) => {
                        eprintln!("stock cycle failed: {e}");
                        cycle_errors.fetch_add(1, Ordering::SeqCst)
                    }
                };
            }
        })
    };

    let mut shoppers = Vec::new();
    for n in 0..k.shoppers {
        let (f, skus, receiver, tally, selling) =
            (f.clone(), skus.clone(), receiver.clone(), tally.clone(), selling.clone());
        shoppers.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(1000 + n as u64);
            let rate = k.checkouts_per_sec / k.shoppers as f64;
            while selling.load(Ordering::SeqCst) {
                tokio::time::sleep(pause(&mut rng, rate)).await;
                let mut picks: Vec<(usize, i64)> = vec![(rng.random_range(0..SKUS), rng.random_range(1..=3))];
                if rng.random_bool(0.2) {
                    let other = rng.random_range(0..SKUS);
                    if other != picks[0].0 {
                        picks.push((other, rng.random_range(1..=3)));
                    }
                }
                picks.sort();
                let email = format!("shopper{}@example.com", rng.random_range(0..300));
                let mut c = Checkout::guest(Address { email, ..Address::us_ca() });
                for (i, q) in &picks {
                    c = c.line(skus[*i].product, *q);
                }
                tally.attempted.fetch_add(1, Ordering::SeqCst);
                // The checkout and the bench's count of it happen under the SKUs' locks, so an
                // other-channel sale sees both or neither.
                let order = {
                    let mut guards: Vec<_> = picks.iter().map(|(i, _)| skus[*i].ledger.lock().unwrap()).collect();
                    match f.woo.sim.checkout(c) {
                        Ok(o) => {
                            for ((_, q), g) in picks.iter().zip(guards.iter_mut()) {
                                g.sold_web += q;
                            }
                            Some(o)
                        }
                        Err(_) => None,
                    }
                };
                let Some(order) = order else {
                    tally.refused.fetch_add(1, Ordering::SeqCst);
                    continue;
                };
                tally.orders.fetch_add(1, Ordering::SeqCst);
                tally.units.fetch_add(picks.iter().map(|(_, q)| *q as u64).sum(), Ordering::SeqCst);
                // The order's `order.created` delivery, as WooCommerce sends it.
                let body = serde_json::to_vec(&f.woo.sim.order(order.id).unwrap()).unwrap();
                let h = DeliveryHeaders {
                    signature: Some(signed(&body)),
                    topic: Some("order.created".into()),
                    delivery_id: Some(format!("bench-{}", order.id)),
                    webhook_id: Some("1".into()),
                    ..Default::default()
                };
                let verdict = receiver.receive(&h, &body, Some(&SECRET.to_string().into())).await.unwrap();
                assert!(matches!(verdict, Verdict::Accepted { .. }), "{verdict:?}");
            }
        }));
    }

    let movements = {
        let (f, skus, tally, selling, east) = (f.clone(), skus.clone(), tally.clone(), selling.clone(), east.clone());
        tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(77);
            let elsewhere = if other { k.elsewhere_per_sec } else { 0.0 };
            let rate = k.receipts_per_sec + elsewhere;
            if rate <= 0.0 {
                return;
            }
            while selling.load(Ordering::SeqCst) {
                tokio::time::sleep(pause(&mut rng, rate)).await;
                let s = &skus[rng.random_range(0..SKUS)];
                let mut l = s.ledger.lock().unwrap();
                if rng.random_bool(k.receipts_per_sec / rate) {
                    let q = rng.random_range(1..=5);
                    f.ns.sim.receive_stock(&s.item, &east, q);
                    l.received += q;
                    tally.receipts.fetch_add(1, Ordering::SeqCst);
                    continue;
                }
                let row = f.ns.sim.stock_row(&s.item, &east).unwrap();
                if row.available <= 0 {
                    continue;
                }
                let q = rng.random_range(1..=3).min(row.available);
                let not_in_netsuite = l.sold_web - row.committed - row.backordered;
                let shown = f.woo.sim.stock_of(s.product).unwrap_or(0).max(0);
                let free = row.available - not_in_netsuite - shown;
                l.conflicts += q - free.clamp(0, q);
                f.ns.sim.sell_elsewhere(&s.item, &east, q);
                l.sold_elsewhere += q;
                tally.elsewhere.fetch_add(1, Ordering::SeqCst);
            }
        })
    };

    // What WooCommerce offers beyond what NetSuite can still give it (available − web units not
    // yet in NetSuite), sampled every 250 ms under each SKU's lock.
    let sampler = {
        let (f, skus, tally, selling, east) = (f.clone(), skus.clone(), tally.clone(), selling.clone(), east.clone());
        tokio::spawn(async move {
            while selling.load(Ordering::SeqCst) {
                tokio::time::sleep(SAMPLE).await;
                let mut over = 0u64;
                for s in skus.iter() {
                    let l = s.ledger.lock().unwrap();
                    let row = f.ns.sim.stock_row(&s.item, &east).unwrap();
                    let cover = (row.available - (l.sold_web - row.committed - row.backordered)).max(0);
                    let shown = f.woo.sim.stock_of(s.product).unwrap_or(0);
                    over += (shown - cover).max(0) as u64;
                }
                tally.over_offered_sum.fetch_add(over, Ordering::SeqCst);
                tally.over_offered_peak.fetch_max(over, Ordering::SeqCst);
                tally.samples.fetch_add(1, Ordering::SeqCst);
            }
        })
    };

    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(k.secs)).await;
    selling.store(false, Ordering::SeqCst);
    for s in shoppers {
        s.await.unwrap();
    }
    movements.await.unwrap();
    sampler.await.unwrap();
    let sale_secs = started.elapsed().as_secs_f64();

    // Settle: every order a sales order, nothing left in the queue; cycles go on meanwhile.
    let orders = tally.orders.load(Ordering::SeqCst);
    let settle = Instant::now();
    loop {
        let s = f.queue.summary().await.unwrap();
        let busy = s.total(wns_api_types::JobState::Ready) + s.total(wns_api_types::JobState::Running);
        if (f.ns.sim.record_count("salesOrder") as u64 >= orders && busy == 0)
            || settle.elapsed() > Duration::from_secs(1800)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    cycling.store(false, Ordering::SeqCst);
    cycler.await.unwrap();
    stock.cycle(false).await.unwrap();
    cycles.fetch_add(1, Ordering::SeqCst);
    let settle_secs = settle.elapsed().as_secs_f64();
    stop_worker.cancel();
    worker.await.unwrap().unwrap();

    let mut row = Row {
        label,
        other,
        attempted: tally.attempted.load(Ordering::SeqCst),
        refused: tally.refused.load(Ordering::SeqCst),
        units_sold: 0,
        oversold: 0,
        skus_oversold: 0,
        backordered: 0,
        conflicts: 0,
        beyond: 0,
        skus_beyond: 0,
        orders,
        posted: f.ns.sim.record_count("salesOrder"),
        cycles: cycles.load(Ordering::SeqCst),
        cycle_errors: cycle_errors.load(Ordering::SeqCst),
        receipts: tally.receipts.load(Ordering::SeqCst),
        elsewhere: tally.elsewhere.load(Ordering::SeqCst),
        woo_differs: 0,
        woo_differs_after_full: 0,
        over_offered_unit_secs: tally.over_offered_sum.load(Ordering::SeqCst) as f64 * SAMPLE.as_secs_f64(),
        over_offered_peak: tally.over_offered_peak.load(Ordering::SeqCst),
        sale_secs,
        settle_secs,
    };
    let verbose = std::env::var("WNS_BENCH_VERBOSE").is_ok();
    if verbose {
        eprintln!("{label}: cycles started at {:?}", cycle_starts.lock().unwrap());
    }
    for s in skus.iter() {
        let l = *s.ledger.lock().unwrap();
        let had = s.initial + l.received - l.sold_elsewhere;
        let over = (l.sold_web - had).max(0);
        let ns = f.ns.sim.stock_row(&s.item, &east).unwrap();
        row.units_sold += l.sold_web;
        row.oversold += over;
        row.skus_oversold += usize::from(over > 0);
        row.backordered += ns.backordered;
        row.conflicts += l.conflicts;
        let beyond = (over - l.conflicts).max(0);
        row.beyond += beyond;
        row.skus_beyond += usize::from(beyond > 0);
        // Nothing is in flight any more: WooCommerce should show what NetSuite has available.
        row.woo_differs += usize::from(f.woo.sim.stock_of(s.product) != Some(ns.available));
        if verbose && f.woo.sim.stock_of(s.product) != Some(ns.available) {
            let item: Option<StockItemRow> = sqlx::query_as(
                "select ns_available, ns_as_of, pushed_basis, pushed, pushed_at from stock_items where sku = $1",
            )
            .bind(&s.name)
            .fetch_optional(f.store.pool())
            .await
            .unwrap();
            let units: Vec<(i64, i64, Option<i64>)> = sqlx::query_as(
                "select quantity, posted_quantity, posted_at from order_units where sku = $1 order by posted_at",
            )
            .bind(&s.name)
            .fetch_all(f.store.pool())
            .await
            .unwrap();
            eprintln!(
                "{label}: {} WooCommerce {:?} ≠ NetSuite {ns:?}; wns (available, as of, basis, pushed, pushed at) {item:?}; orders (quantity, posted, posted at) {units:?}",
                s.name,
                f.woo.sim.stock_of(s.product)
            );
        }
        if verbose && beyond > 0 {
            eprintln!(
                "{label}: {} initial {} received {} elsewhere {} web {} conflicts {} → oversold {over}; NetSuite {ns:?}, WooCommerce {:?}",
                s.name,
                s.initial,
                l.received,
                l.sold_elsewhere,
                l.sold_web,
                l.conflicts,
                f.woo.sim.stock_of(s.product)
            );
        }
    }
    // A full pass recomputes every SKU from a fresh read: what it changes, the delta cycles missed.
    stock.cycle(true).await.unwrap();
    for s in skus.iter() {
        let ns = f.ns.sim.stock_row(&s.item, &east).unwrap();
        row.woo_differs_after_full += usize::from(f.woo.sim.stock_of(s.product) != Some(ns.available));
    }
    row
}

fn main() {
    let k = Knobs {
        secs: env("WNS_BENCH_SECS", 60),
        shoppers: env("WNS_BENCH_SHOPPERS", 16),
        checkouts_per_sec: env("WNS_BENCH_CHECKOUTS_PER_SEC", 40.0),
        receipts_per_sec: env("WNS_BENCH_RECEIPTS_PER_SEC", 2.0),
        elsewhere_per_sec: env("WNS_BENCH_ELSEWHERE_PER_SEC", 2.0),
        cycle_secs: env("WNS_BENCH_CYCLE_SECS", 3.0),
        ns_ms: env("WNS_BENCH_NS_MS", 150),
        woo_ms: env("WNS_BENCH_WOO_MS", 200),
    };
    let rows = env("WNS_BENCH_ROWS", "absolute-off,absolute-on,adjust".to_string());
    let other = env("WNS_BENCH_OTHER", "off,on".to_string());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    println!(
        "oversell: {SKUS} SKUs with NetSuite stock 1–20 at one web location; {} s of checkouts ({} shoppers, {} a second, quantities 1–3), \
         receipts {}/s, other-channel sales {}/s (rows with other channels), stock cycle every {} s; \
         NetSuite limit 5 at {} ms a request, WooCommerce median {} ms; SQLite",
        k.secs,
        k.shoppers,
        k.checkouts_per_sec,
        k.receipts_per_sec,
        k.elsewhere_per_sec,
        k.cycle_secs,
        k.ns_ms,
        k.woo_ms
    );
    println!();
    println!(
        "| write | in-flight reservation | other channels | checkouts attempted | refused | units sold | oversold units | SKUs oversold | backordered in NetSuite | conflicts with other channels | oversold beyond conflicts (SKUs) | offered beyond cover: peak units / unit·s | orders / posted | cycles | SKUs WooCommerce ≠ NetSuite after the last delta cycle / after a full pass |"
    );
    println!("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for o in other.split(',').map(str::trim) {
        let with_other = o == "on";
        for r in rows.split(',').map(str::trim) {
            let (label, write, reserve) = match r {
                "absolute-off" => ("absolute-off", WriteMode::Absolute, false),
                "absolute-on" => ("absolute-on", WriteMode::Absolute, true),
                "adjust" => ("adjust", WriteMode::Adjust, true),
                _ => continue,
            };
            let row = rt.block_on(run(label, write, reserve, with_other, k));
            let (write_name, reservation) = match row.label {
                "absolute-off" => ("absolute", "off"),
                "absolute-on" => ("absolute", "on"),
                _ => ("adjust (deltas)", "implicit"),
            };
            println!(
                "| {write_name} | {reservation} | {} | {} | {} | {} | {} | {} | {} | {} | {} ({}) | {} / {:.0} | {} / {} | {}{} | {} / {} |",
                if row.other { format!("on ({} sales)", row.elsewhere) } else { "off".into() },
                row.attempted,
                row.refused,
                row.units_sold,
                row.oversold,
                row.skus_oversold,
                row.backordered,
                if row.other { row.conflicts.to_string() } else { "–".into() },
                row.beyond,
                row.skus_beyond,
                row.over_offered_peak,
                row.over_offered_unit_secs,
                row.orders,
                row.posted,
                row.cycles,
                if row.cycle_errors > 0 { format!(" ({} failed)", row.cycle_errors) } else { String::new() },
                row.woo_differs,
                row.woo_differs_after_full,
            );
            eprintln!(
                "  ({label}, other channels {o}: {} receipts, sale {:.0} s, settle {:.0} s)",
                row.receipts, row.sale_secs, row.settle_secs
            );
        }
    }
}
