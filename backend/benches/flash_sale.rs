//! `cargo xtask bench flash-sale`: a flash sale through the whole order flow. Orders are checked
//! out in the WooCommerce simulator at an even pace over the arrival window (default 10,000 in
//! 60 s), 30 % of them by new guests, each enqueued as its webhook would; the worker runs the
//! `woo.order` jobs (and the bulk read-back) against the NetSuite simulator with account limit C
//! and every request taking L, on the embedded default database (SQLite).
//!
//! Reported per row: the time from the first checkout until every order is a sales order in
//! NetSuite; NetSuite requests per order (all of them: customer look-ups and upserts, sales
//! order upserts, the bulk read-backs); the ideal time, the requests made until then ÷ (C ÷ L) —
//! no client can do better than C requests every L; their ratio (target ≥ 0.9); lost orders (no sales order) and
//! duplicates (sales orders or customers beyond one per order or buyer), both by the
//! simulator's own counts.
//!
//! **Async batches** (`WNS_BENCH_BATCH=off,on`, both by default): with `on`, `[sync.batch]` is
//! enabled — once 3 × C sales-order upserts are under way synchronously (`WNS_BENCH_SYNC_SLOTS`),
//! the rest join async batches of up to 100 (see `sync/sales_order_writer.rs`), polled every 2 s, and the
//! worker runs 6 × C more jobs plus room for the 400 orders the batches hold. The NetSuite simulator runs a batch's
//! records on its two REST async processors at the same latency L. Reported: the same columns,
//! the batches submitted, and the speed-up over the synchronous row (its time ÷ this time); the
//! ideal time and its ratio are the synchronous path's measure and are left empty.
//!
//! `WNS_BENCH_ORDERS` and `WNS_BENCH_ARRIVAL_SECS` scale the run; `WNS_BENCH_ROWS=5x200,15x800`
//! picks the (C × L ms) rows.

#[path = "../tests/support/flow.rs"]
mod support;

use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

use rand::{Rng, SeedableRng, rngs::StdRng};
use rust_decimal::Decimal;
use wns::{
    queue::{Handlers, RetryPolicy, Worker, WorkerOptions},
    store::Backend,
    sync::sales_order_writer::BatchSettings,
};
use wns_sim::{
    netsuite::{LatencyProfile, NetSuiteConfig},
    woo::{Address, Checkout},
};

struct Row {
    batch: bool,
    batches: usize,
    limit: usize,
    latency_ms: u64,
    orders: usize,
    secs: f64,
    requests: u64,
    requests_at_done: u64,
    sales_orders: usize,
    customers: usize,
    buyers: usize,
    throttled: u64,
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn run(limit: usize, latency: Duration, orders: usize, arrival: Duration, batch: bool) -> Row {
    let mut ns = NetSuiteConfig::for_tests();
    ns.concurrency_limit = limit;
    ns.latency = LatencyProfile::fixed(latency);
    let sync_slots = env("WNS_BENCH_SYNC_SLOTS", limit * 3);
    let batch_settings = BatchSettings { enabled: batch, sync_slots, poll_ms: 2_000, ..BatchSettings::default() };
    // Enough jobs in flight that the governor always has a request waiting, and, with batches,
    // as many again besides those waiting in every batch under way (orders waiting in a batch
    // hold their worker slot for tens of seconds).
    let workers = limit * 6 + if batch { limit * 6 + batch_settings.max_jobs * batch_settings.max_records } else { 0 };
    let o = support::Options {
        ns,
        governor_limit: limit,
        request_timeout_secs: 60,
        workers,
        retry: RetryPolicy { base_ms: 100, max_delay_secs: 5, max_attempts: 50, ..RetryPolicy::default() },
        ..support::Options::default()
    };
    let f = support::flow_with(Backend::Sqlite, o, |s, _| s.batch = batch_settings).await;
    let products: Vec<u64> =
        (0..200).map(|n| f.product(&format!("FS-{n:04}"), Decimal::new(999 + n * 13, 2), true).0).collect();
    // SKUs resolve once per SKU and are remembered; warm that up outside the measured run.
    let skus: Vec<String> = (0..200).map(|n| format!("FS-{n:04}")).collect();
    let refs: Vec<&str> = skus.iter().map(String::as_str).collect();
    wns::sync::sales_order::resolve_skus(&f.client, &f.store, &refs, 0).await.unwrap();
    f.ns.sim.reset_counters();

    let stop = tokio_util::sync::CancellationToken::new();
    let worker = Worker::new(
        f.queue.clone(),
        f.flow.register(Handlers::new()),
        WorkerOptions { concurrency: workers, poll: Duration::from_millis(50), ..WorkerOptions::new("bench") },
    );
    let running = tokio::spawn(worker.run(stop.clone()));

    let mut rng = StdRng::seed_from_u64(10_000);
    let mut buyers = BTreeSet::new();
    let started = Instant::now();
    for n in 0..orders {
        let email = if rng.random_bool(0.3) {
            format!("new{n}@example.com")
        } else {
            format!("regular{}@example.com", rng.random_range(0..400))
        };
        buyers.insert(email.clone());
        let mut c = Checkout::guest(Address { email, ..Address::us_ca() });
        for _ in 0..rng.random_range(1..4) {
            c = c.line(products[rng.random_range(0..products.len())], rng.random_range(1..3));
        }
        let id = f.woo.sim.checkout(c).unwrap().id;
        f.enqueue(id).await;
        let due = arrival.mul_f64((n + 1) as f64 / orders as f64);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
    while f.ns.sim.record_count("salesOrder") < orders && started.elapsed() < Duration::from_secs(7200) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let secs = started.elapsed().as_secs_f64();
    let requests_at_done = f.ns.sim.counters().requests;
    // Let the read-back finish before counting requests: they are part of the work per order.
    let s = loop {
        let s = f.queue.summary().await.unwrap();
        if s.total(wns_api_types::JobState::Ready) + s.total(wns_api_types::JobState::Running) == 0 {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    stop.cancel();
    running.await.unwrap().unwrap();
    assert_eq!(s.total(wns_api_types::JobState::Dead), 0);
    let c = f.ns.sim.counters();
    Row {
        batch,
        batches: f.flow.batches_submitted(),
        limit,
        latency_ms: latency.as_millis() as u64,
        orders,
        secs,
        requests: c.requests,
        requests_at_done,
        sales_orders: f.ns.sim.record_count("salesOrder"),
        customers: f.ns.sim.record_count("customer"),
        buyers: buyers.len(),
        throttled: c.throttled_429,
    }
}

fn main() {
    let orders: usize = env("WNS_BENCH_ORDERS", 10_000);
    let arrival = Duration::from_secs(env("WNS_BENCH_ARRIVAL_SECS", 60));
    let rows: Vec<(usize, u64)> = env("WNS_BENCH_ROWS", "5x200,15x800".to_string())
        .split(',')
        .filter_map(|r| {
            let (c, l) = r.split_once('x')?;
            Some((c.trim().parse().ok()?, l.trim().parse().ok()?))
        })
        .collect();
    let modes: Vec<bool> = env("WNS_BENCH_BATCH", "off,on".to_string())
        .split(',')
        .filter_map(|m| match m.trim() {
            "off" => Some(false),
            "on" => Some(true),
            _ => None,
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    println!("flash sale: {orders} orders checked out over {} s, 30 % new guests; SQLite", arrival.as_secs());
    println!();
    println!(
        "| C | L | sales orders | orders | all in NetSuite | requests/order | ideal | ratio | batches | speed-up | lost | duplicate SOs | duplicate customers | 429s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (limit, ms) in rows {
        let mut synchronous: Option<f64> = None;
        for &batch in &modes {
            let r = rt.block_on(run(limit, Duration::from_millis(ms), orders, arrival, batch));
            let ideal = r.requests_at_done as f64 / (r.limit as f64 / (r.latency_ms as f64 / 1000.0));
            let (ideal, ratio) = if r.batch {
                ("–".to_string(), "–".to_string())
            } else {
                synchronous = Some(r.secs);
                (format!("{ideal:.1} s"), format!("{:.3}", ideal / r.secs))
            };
            let speed_up = match (r.batch, synchronous) {
                (true, Some(t)) => format!("×{:.2}", t / r.secs),
                _ => "–".to_string(),
            };
            println!(
                "| {} | {} ms | {} | {} | {:.1} s | {:.2} | {ideal} | {ratio} | {} | {speed_up} | {} | {} | {} | {} |",
                r.limit,
                r.latency_ms,
                if r.batch { "async batches beyond 3 × C in flight" } else { "synchronous" },
                r.orders,
                r.secs,
                r.requests as f64 / r.orders as f64,
                r.batches,
                r.orders.saturating_sub(r.sales_orders),
                r.sales_orders.saturating_sub(r.orders),
                r.customers.saturating_sub(r.buyers),
                r.throttled,
            );
        }
    }
}
