//! `cargo xtask bench stock-scale`: stock for 100,000 SKUs × 3 locations, 1 % of the SKUs
//! changing in NetSuite every minute, a stock cycle every 60 s.
//!
//! **Processes.** The simulators run in a child process (this same binary, started again with
//! `WNS_STOCK_SCALE_SIMS=1`): NetSuite and WooCommerce serve HTTP there, and the bench drives
//! them over the child's stdin/stdout (seed, move stock, read WooCommerce's stock, read counters)
//! without going through their REST APIs, so none of that is counted as wns's requests. This
//! process is wns — `StockSync` with its SQLite database (the embedded default), its NetSuite
//! client and governor, its WooCommerce client — plus the bench's small driver (a change command
//! every 250 ms, one read of WooCommerce's stock after each cycle). CPU time is this process's
//! user + system time from `/proc/self/stat`; peak memory is its `VmHWM` (peak RSS) from
//! `/proc/self/status`, once for the initial load and once for everything after it (`VmHWM` is
//! reset in between by writing 5 to `/proc/self/clear_refs`).
//!
//! **Run.** Seed NetSuite (every SKU stocked 0–50 at each location, all three serving the web
//! store) and WooCommerce (every SKU a product managing stock, 0). wns reads the rows modified
//! since NetSuite's newest `lastmodifieddate` minus its overlap (120 s); rows seeded in one burst
//! would all stay within that overlap until a later change moves the watermark, which no real
//! account does, so the bench waits until the seeded rows are 125 s old and changes one row. The
//! first cycle is a full one and writes every SKU (timed as the initial load). Then for
//! `WNS_BENCH_MINUTES` (default 5) the driver changes `WNS_BENCH_CHANGE_PCT` % (default 1) of the
//! SKUs a minute, evenly over the minute, each at a random location: a receipt (+1–10) or, half
//! the time when there is stock, a sale elsewhere (−1–5). A delta cycle (`cycle(false)`) starts
//! every `WNS_BENCH_CYCLE_SECS` (default 60). One more cycle follows the last minute (no changes
//! then) so that every change is seen, then a full reconciliation pass (`cycle(true)`), timed.
//!
//! **Staleness**: the driver notes, for every change, when it made it and NetSuite's Σ available
//! of the SKU right after it. After each cycle the bench reads WooCommerce's stock of every SKU
//! with changes not yet shown; when it equals the figure after one of them, that change and the
//! earlier ones are delivered, and their staleness is the end of that cycle − the time of the
//! change (an upper bound: WooCommerce had the value from the moment its batch was written). A
//! change that lands after a cycle read its location waits for the next cycle: the staleness of a
//! 60 s cycle runs up to 60 s plus a cycle's duration.
//! **Requests**: WooCommerce requests per cycle are `CycleReport::woo_requests`, as a ratio to
//! the minimum ⌈SKUs written ÷ 100⌉; NetSuite requests per cycle are the NetSuite simulator's
//! request count over the cycle (nothing else talks to it).
//!
//! Latency: NetSuite's realistic profile (SuiteQL median 300 ms, p99 1 s) times
//! `WNS_BENCH_NS_LATENCY_SCALE` (default 1); WooCommerce median `WNS_BENCH_WOO_MS` (default 200 ms,
//! p99 three times that). `WNS_BENCH_SKUS` (default 100,000) scales the catalogue.

#[path = "../tests/support/flow.rs"]
mod support;

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use rand::{Rng, SeedableRng, rngs::StdRng};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{ChildStdin, ChildStdout},
    sync::Mutex,
};
use wns::{
    clock,
    queue::{Queue, RetryPolicy},
    store::Backend,
    sync::inventory::{CycleReport, StockSettings, StockSync},
    testing::TestDb,
};

const CHILD: &str = "WNS_STOCK_SCALE_SIMS";
const LOCATIONS: usize = 3;

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// What the bench asks of the simulators' process, one JSON line each way.
#[derive(Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
enum Command {
    Seed {
        skus: usize,
        max_stock: i64,
        seed: u64,
    },
    /// (SKU index, location index, quantity: > 0 a receipt, < 0 a sale elsewhere).
    Change {
        changes: Vec<(usize, usize, i64)>,
    },
    /// The SKUs whose WooCommerce stock equals NetSuite's Σ available.
    Check {
        skus: Vec<usize>,
    },
    /// WooCommerce's stock of each SKU.
    Woo {
        skus: Vec<usize>,
    },
    Counters,
}

// ---------------------------------------------------------------------------------------------
// The simulators' process.

mod sims {
    use super::*;
    use wns_sim::{
        latency::Latency,
        netsuite::{LatencyProfile, NetSuiteConfig, NetSuiteSim, SeedItem},
        woo::{NewProduct, WooConfig, WooSim},
    };

    struct Catalogue {
        locations: Vec<String>,
        items: Vec<String>,
        products: Vec<u64>,
    }

    pub fn main() {
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        // The servers run on the runtime's threads; commands are handled on this one.
        let (ns, woo) = rt.block_on(async {
            let mut ns = NetSuiteConfig::for_tests();
            ns.concurrency_limit = 5;
            ns.latency =
                LatencyProfile { scale: env("WNS_BENCH_NS_LATENCY_SCALE", 1.0), ..LatencyProfile::realistic() };
            let ns = NetSuiteSim::spawn(ns).await.unwrap();
            let woo_ms = env("WNS_BENCH_WOO_MS", 200u64);
            let mut woo = WooConfig::for_tests();
            woo.latency = Latency::new(Duration::from_millis(woo_ms), Duration::from_millis(woo_ms * 3));
            let woo = WooSim::spawn(woo).await.unwrap();
            (ns, woo)
        });
        println!("{}", json!({ "netsuite": ns.base_url, "woo": woo.base_url }));
        let mut cat = Catalogue { locations: Vec::new(), items: Vec::new(), products: Vec::new() };
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            {
                let reply = match serde_json::from_str::<Command>(&line) {
                    Ok(Command::Seed { skus, max_stock, seed }) => {
                        let mut rng = StdRng::seed_from_u64(seed);
                        cat.locations = (0..LOCATIONS).map(|n| ns.sim.seed_location(&format!("Web {n}"))).collect();
                        for n in 0..skus {
                            let sku = format!("SC-{n:06}");
                            cat.products
                                .push(woo.sim.add_product(NewProduct::new(&sku, &sku, Decimal::new(1500, 2)).stock(0)));
                            let item = ns.sim.seed_item(SeedItem::new(&sku));
                            for l in &cat.locations {
                                let q = rng.random_range(0..=max_stock);
                                ns.sim.set_stock(&item, l, q, q);
                            }
                            cat.items.push(item);
                        }
                        json!({ "locations": cat.locations })
                    }
                    Ok(Command::Change { changes }) => {
                        let mut totals = Vec::new();
                        for (sku, loc, q) in &changes {
                            let (item, location) = (&cat.items[*sku], &cat.locations[*loc]);
                            let available = ns.sim.stock(item, location).map_or(0, |(_, a)| a);
                            if *q < 0 && available >= -q {
                                ns.sim.sell_elsewhere(item, location, -q);
                            } else {
                                ns.sim.receive_stock(item, location, q.abs());
                            }
                            let total: i64 =
                                cat.locations.iter().map(|l| ns.sim.stock(item, l).map_or(0, |(_, a)| a)).sum();
                            totals.push(total);
                        }
                        json!({ "totals": totals })
                    }
                    Ok(Command::Check { skus }) => {
                        let in_step: Vec<usize> = skus
                            .into_iter()
                            .filter(|&n| {
                                let ns_total: i64 = cat
                                    .locations
                                    .iter()
                                    .map(|l| ns.sim.stock(&cat.items[n], l).map_or(0, |(_, a)| a))
                                    .sum();
                                woo.sim.stock_of(cat.products[n]) == Some(ns_total)
                            })
                            .collect();
                        json!({ "in_step": in_step })
                    }
                    Ok(Command::Woo { skus }) => {
                        let stock: Vec<Option<i64>> =
                            skus.into_iter().map(|n| woo.sim.stock_of(cat.products[n])).collect();
                        json!({ "stock": stock })
                    }
                    Ok(Command::Counters) => json!({
                        "ns_requests": ns.sim.counters().requests,
                        "woo_requests": woo.sim.counters().requests,
                        "peak_rss_mb": peak_rss_mb(),
                    }),
                    Err(e) => json!({ "error": e.to_string() }),
                };
                println!("{reply}");
            }
        }
        drop((ns, woo));
        drop(rt);
    }
}

// ---------------------------------------------------------------------------------------------
// wns's process.

struct Sims {
    stdin: ChildStdin,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
}

impl Sims {
    async fn call(&mut self, c: &Command) -> Value {
        let mut line = serde_json::to_string(c).unwrap();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
        let reply = self.stdout.next_line().await.unwrap().expect("the simulators' process ended");
        serde_json::from_str(&reply).unwrap()
    }

    async fn ns_requests(&mut self) -> u64 {
        self.call(&Command::Counters).await["ns_requests"].as_u64().unwrap()
    }
}

/// user + system CPU seconds of this process.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name; the
    // kernel reports them in USER_HZ, 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

fn status_mb(key: &str) -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn peak_rss_mb() -> f64 {
    status_mb("VmHWM:")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

struct CycleRow {
    n: usize,
    report: CycleReport,
    secs: f64,
    cpu: f64,
    ns_requests: u64,
    changes_before: usize,
}

async fn bench() {
    let skus: usize = env("WNS_BENCH_SKUS", 100_000);
    let minutes: usize = env("WNS_BENCH_MINUTES", 5);
    let pct: f64 = env("WNS_BENCH_CHANGE_PCT", 1.0);
    let cycle_secs: f64 = env("WNS_BENCH_CYCLE_SECS", 60.0);
    let ns_scale: f64 = env("WNS_BENCH_NS_LATENCY_SCALE", 1.0);
    let woo_ms: u64 = env("WNS_BENCH_WOO_MS", 200);

    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .env(CHILD, "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("starting the simulators' process");
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let hello: Value = serde_json::from_str(&stdout.next_line().await.unwrap().unwrap()).unwrap();
    let sims = Mutex::new(Sims { stdin: child.stdin.take().unwrap(), stdout });
    let t = Instant::now();
    let seeded = sims.lock().await.call(&Command::Seed { skus, max_stock: 50, seed: 100 }).await;
    let locations: Vec<String> = serde_json::from_value(seeded["locations"].clone()).unwrap();
    let seed_secs = t.elapsed().as_secs_f64();
    let seeded_at = Instant::now();

    let db = TestDb::new(Backend::Sqlite).await;
    let store = db.store(16).await;
    let queue = Queue::new(store.clone(), clock::system(), RetryPolicy::default());
    let ns = support::netsuite_client(hello["netsuite"].as_str().unwrap(), 5, 120);
    let woo = support::woo_client(hello["woo"].as_str().unwrap());
    let stock = StockSync::new(ns, woo, queue, StockSettings::new(locations));

    println!(
        "stock-scale: {skus} SKUs × {LOCATIONS} locations, {pct} % of SKUs changing a minute for {minutes} min, a cycle every {cycle_secs} s; \
         NetSuite realistic latency × {ns_scale}, WooCommerce median {woo_ms} ms; SQLite; simulators in a child process"
    );
    eprintln!("seeded the simulators in {seed_secs:.1} s");

    // wns reads rows modified since NetSuite's newest `lastmodifieddate` minus its overlap (120 s).
    // Seeded in one burst, every row would stay "within the overlap" of the newest one until a
    // later change moves the watermark — a state no real account is in. So the seeded rows age
    // past the overlap and one row changes before the first read.
    let quiet = seeded_at + Duration::from_secs(125);
    if let Some(wait) = quiet.checked_duration_since(Instant::now()) {
        eprintln!("waiting {:.0} s until the seeded rows are older than the overlap window", wait.as_secs_f64());
        tokio::time::sleep(wait).await;
    }
    sims.lock().await.call(&Command::Change { changes: vec![(0, 0, 1)] }).await;

    // The initial load: a full pass that writes every SKU.
    let (t, cpu0, ns0) = (Instant::now(), cpu_secs(), sims.lock().await.ns_requests().await);
    let first = stock.cycle(true).await.unwrap();
    let load_secs = t.elapsed().as_secs_f64();
    let load_cpu = cpu_secs() - cpu0;
    let load_ns = sims.lock().await.ns_requests().await - ns0;
    // The load's peak, then the peak of what follows (writing 5 to clear_refs resets VmHWM).
    let load_peak = peak_rss_mb();
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    eprintln!(
        "initial load: {} rows, {} SKUs written, {} WooCommerce / {load_ns} NetSuite requests in {load_secs:.1} s",
        first.rows_read, first.pushed, first.woo_requests
    );
    let all: Vec<usize> = (0..skus).collect();
    let mut in_step = 0;
    for chunk in all.chunks(10_000) {
        let r = sims.lock().await.call(&Command::Check { skus: chunk.to_vec() }).await;
        in_step += r["in_step"].as_array().unwrap().len();
    }
    assert_eq!(in_step, skus, "after the first full pass WooCommerce shows NetSuite's stock for every SKU");

    // Changes, evenly over each minute, until the measured minutes are over.
    let per_minute = ((skus as f64) * pct / 100.0).round() as usize;
    // Per SKU, the changes WooCommerce does not show yet: (when, NetSuite's Σ available after it).
    let pending: std::sync::Mutex<BTreeMap<usize, Vec<(Instant, i64)>>> = std::sync::Mutex::new(BTreeMap::new());
    let changes_made = std::sync::atomic::AtomicUsize::new(0);
    let start = Instant::now();
    let end_of_changes = start + Duration::from_secs(60 * minutes as u64);
    let driver = async {
        let mut rng = StdRng::seed_from_u64(7);
        let tick = Duration::from_millis(250);
        let mut due = 0.0f64;
        let mut next = start;
        while next < end_of_changes {
            next += tick;
            tokio::time::sleep_until(next.into()).await;
            due += per_minute as f64 * tick.as_secs_f64() / 60.0;
            let n = due.floor() as usize;
            due -= n as f64;
            if n == 0 {
                continue;
            }
            let changes: Vec<(usize, usize, i64)> = (0..n)
                .map(|_| {
                    let q = if rng.random_bool(0.5) { rng.random_range(1..=10) } else { -rng.random_range(1..=5) };
                    (rng.random_range(0..skus), rng.random_range(0..LOCATIONS), q)
                })
                .collect();
            let at = Instant::now();
            let r = sims.lock().await.call(&Command::Change { changes: changes.clone() }).await;
            let totals = r["totals"].as_array().unwrap().iter().map(|t| t.as_i64().unwrap());
            let mut p = pending.lock().unwrap();
            for ((sku, _, _), total) in changes.into_iter().zip(totals) {
                p.entry(sku).or_default().push((at, total));
            }
            changes_made.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
        }
    };
    let cpu_start = cpu_secs();
    let cycles = async {
        let mut rows = Vec::new();
        let mut staleness: Vec<f64> = Vec::new();
        let mut n = 0;
        loop {
            n += 1;
            let due = start + Duration::from_secs_f64(cycle_secs * n as f64);
            tokio::time::sleep_until(due.into()).await;
            let changes_before = changes_made.load(std::sync::atomic::Ordering::SeqCst);
            let ns0 = sims.lock().await.ns_requests().await;
            let (t, cpu0) = (Instant::now(), cpu_secs());
            let report = stock.cycle(false).await.unwrap();
            let (ended, cpu) = (Instant::now(), cpu_secs() - cpu0);
            let ns_requests = sims.lock().await.ns_requests().await - ns0;
            // A SKU that changed again after the read shows the value after an earlier change:
            // that change and the ones before it are delivered, the later ones still wait.
            let waiting: Vec<usize> = pending.lock().unwrap().keys().copied().collect();
            let r = sims.lock().await.call(&Command::Woo { skus: waiting.clone() }).await;
            {
                let mut p = pending.lock().unwrap();
                let shown = r["stock"].as_array().unwrap().iter().map(Value::as_i64);
                for (sku, shown) in waiting.into_iter().zip(shown) {
                    let Some(list) = p.get_mut(&sku) else { continue };
                    let Some(last) = list.iter().rposition(|(_, total)| Some(*total) == shown) else { continue };
                    for (at, _) in list.drain(..=last) {
                        staleness.push(ended.duration_since(at).as_secs_f64());
                    }
                    if list.is_empty() {
                        p.remove(&sku);
                    }
                }
            }
            rows.push(CycleRow {
                n,
                report,
                secs: ended.duration_since(t).as_secs_f64(),
                cpu,
                ns_requests,
                changes_before,
            });
            let r = &rows.last().unwrap().report;
            eprintln!(
                "cycle {n}: read {} rows, {} SKUs changed, {} pushed, {} WooCommerce / {} NetSuite requests, {:.1} s, {:.2} s CPU",
                r.rows_read,
                r.skus_changed,
                r.pushed,
                r.woo_requests,
                ns_requests,
                ended.duration_since(t).as_secs_f64(),
                cpu
            );
            // One cycle after the changes stop, so that every change has been read.
            if due >= end_of_changes + Duration::from_secs_f64(cycle_secs) || n > 10 * minutes + 10 {
                break;
            }
        }
        (rows, staleness)
    };
    let ((rows, mut staleness), ()) = tokio::join!(cycles, driver);
    let steady_wall = start.elapsed().as_secs_f64();
    let steady_cpu = cpu_secs() - cpu_start;
    let unresolved: usize = pending.lock().unwrap().values().map(Vec::len).sum();
    let changes = changes_made.load(std::sync::atomic::Ordering::SeqCst);

    // The nightly reconciliation.
    let (t, cpu0, ns0) = (Instant::now(), cpu_secs(), sims.lock().await.ns_requests().await);
    let full = stock.cycle(true).await.unwrap();
    let full_secs = t.elapsed().as_secs_f64();
    let full_cpu = cpu_secs() - cpu0;
    let full_ns = sims.lock().await.ns_requests().await - ns0;
    let peak = peak_rss_mb();
    let child_peak = sims.lock().await.call(&Command::Counters).await["peak_rss_mb"].as_f64().unwrap_or(0.0);
    drop(sims);
    let _ = child.kill().await;

    staleness.sort_by(f64::total_cmp);
    println!();
    println!("Delta cycles:");
    println!();
    println!(
        "| cycle | changes made before it (total) | rows read | SKUs changed | SKUs written | WooCommerce requests | minimum ⌈written ÷ 100⌉ | ratio | NetSuite requests | seconds | CPU s |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let min = r.report.pushed.div_ceil(100);
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} | {:.2} |",
            r.n,
            r.changes_before,
            r.report.rows_read,
            r.report.skus_changed,
            r.report.pushed,
            r.report.woo_requests,
            min,
            if min == 0 { "–".to_string() } else { format!("{:.2}", r.report.woo_requests as f64 / min as f64) },
            r.ns_requests,
            r.secs,
            r.cpu
        );
    }
    let woo_total: usize = rows.iter().map(|r| r.report.woo_requests).sum();
    let min_total: usize = rows.iter().map(|r| r.report.pushed.div_ceil(100)).sum();
    let ns_total: u64 = rows.iter().map(|r| r.ns_requests).sum();
    println!();
    println!("Summary:");
    println!();
    println!("| measure | value | target |");
    println!("|---|---:|---|");
    println!("| SKUs × locations | {skus} × {LOCATIONS} | 100,000 × 3 |");
    println!("| changes made (measured) | {changes} ({unresolved} not seen after the last cycle) | |");
    println!(
        "| staleness p50 / p99 / max (NetSuite change → end of the cycle that wrote it) | {:.1} s / {:.1} s / {:.1} s | within a minute |",
        percentile(&staleness, 0.5),
        percentile(&staleness, 0.99),
        staleness.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "| WooCommerce requests ÷ ⌈SKUs written ÷ 100⌉, all delta cycles | {woo_total} ÷ {min_total} = {:.3} | ≤ 1.05 |",
        if min_total == 0 { f64::NAN } else { woo_total as f64 / min_total as f64 }
    );
    println!("| NetSuite requests per delta cycle (mean) | {:.1} | |", ns_total as f64 / rows.len().max(1) as f64);
    println!(
        "| wns CPU, delta phase ({:.0} s wall, {} cycles) | {:.1} s ({:.1} % of one core); {:.2} s per cycle | |",
        steady_wall,
        rows.len(),
        steady_cpu,
        100.0 * steady_cpu / steady_wall,
        rows.iter().map(|r| r.cpu).sum::<f64>() / rows.len().max(1) as f64
    );
    println!(
        "| initial load (full pass writing every SKU) | {load_secs:.1} s, {load_cpu:.1} s CPU, {load_ns} NetSuite / {} WooCommerce requests | |",
        first.woo_requests
    );
    println!(
        "| full reconciliation pass (`cycle(true)`) | {full_secs:.1} s, {full_cpu:.1} s CPU, {full_ns} NetSuite / {} WooCommerce requests, {} rows, {} SKUs written | |",
        full.woo_requests, full.rows_read, full.pushed
    );
    println!("| wns peak RSS (VmHWM) during the initial load | {load_peak:.0} MB | ≤ 200 MB |");
    if reset {
        println!("| wns peak RSS after it: delta cycles and the full pass | {peak:.0} MB | ≤ 200 MB |");
    }
    println!("| simulators' peak RSS (child process, for reference) | {child_peak:.0} MB | |");
}

fn main() {
    if std::env::var(CHILD).is_ok() {
        sims::main();
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(bench());
}
