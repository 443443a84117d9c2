//! `cargo xtask bench ingest`: the webhook receiver under a loopback load generator — deliveries
//! per second and p50/p99 latency of `POST /webhooks/woocommerce` (signature check, durable write
//! of the raw delivery, enqueue of its job, all before the answer), on SQLite and PostgreSQL.
//!
//! The generator keeps `WNS_BENCH_CONNECTIONS` (default 32) keep-alive connections busy with
//! signed `order.updated` deliveries of a real recorded body, each for its own order and with its
//! own delivery id, `WNS_BENCH_DELIVERIES` (default 20,000) in all. Prints a table; asserts only
//! that every delivery was stored and enqueued exactly once.
//!
//! Absolute rates follow the machine's load, so the same run measures a baseline on the same
//! server, client, connections, concurrency and bodies: a bare axum handler that reads the body
//! and answers 200, no database. The two take turns in slices of `WNS_BENCH_SLICE_MS` (default
//! 1,000 ms; a baseline slice, then a wns slice, until every delivery is in), so both see the
//! same load; the table gives wns's rate as a ratio of the baseline's, overall and per slice pair.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{body::Bytes, http::StatusCode, routing::post};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use wns::{
    api::{AppState, router},
    clock,
    metrics::Metrics,
    queue::{Queue, RetryPolicy},
    store::Backend,
    testing::TestDb,
};

const SECRET: &str = "bench-webhook-secret-0123456789";
/// The baseline's route, on the same listener as wns's receiver (added after its layers).
const BARE_PATH: &str = "/bench/bare";

/// Requests answered, the wall time they took, and each one's latency.
#[derive(Default)]
struct Pass {
    secs: f64,
    latencies: Vec<Duration>,
}

impl Pass {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.secs
    }

    fn at(&self, q: f64) -> Duration {
        let mut l = self.latencies.clone();
        l.sort();
        l[((l.len() as f64 * q) as usize).min(l.len() - 1)]
    }

    /// Adds another pass: requests and seconds added up, latencies merged.
    fn add(&mut self, other: Pass) {
        self.secs += other.secs;
        self.latencies.extend(other.latencies);
    }
}

struct Row {
    backend: Backend,
    wns: Pass,
    bare: Pass,
    /// (wns's rate, the baseline's rate) of each pair of slices.
    slices: Vec<(f64, f64)>,
}

fn body_for(order: usize) -> Vec<u8> {
    // The recorded order.created body of order 23, re-numbered.
    let raw = include_str!("../../fixtures/woocommerce/webhooks/06-order-created-order-23.json");
    let v: serde_json::Value = serde_json::from_str(raw).unwrap();
    let body = v["raw_body"].as_str().unwrap();
    body.replacen("{\"id\":23,", &format!("{{\"id\":{order},"), 1).into_bytes()
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The baseline: the body read in full, 200, nothing else.
async fn bare(body: Bytes) -> StatusCode {
    std::hint::black_box(body.len());
    StatusCode::OK
}

/// One slice: `connections` tasks on `client`'s keep-alive connections send request
/// `next.fetch_add(1)` (of `requests`, round and round) to `url` until `until` or until `limit`
/// requests have been taken, asserting 200 for each. The slice ends when the last answer is in.
async fn drive(
    client: &reqwest::Client,
    url: &str,
    requests: &Arc<Vec<(Vec<u8>, String)>>,
    next: &Arc<AtomicUsize>,
    limit: usize,
    until: Instant,
    connections: usize,
) -> Pass {
    let start = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (client, url, requests, next) = (client.clone(), url.to_string(), requests.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < until {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= limit {
                        break;
                    }
                    let (body, sig) = &requests[i % requests.len()];
                    let t = Instant::now();
                    let res = client
                        .post(&url)
                        .header("Content-Type", "application/json")
                        .header("X-WC-Webhook-Topic", "order.updated")
                        .header("X-WC-Webhook-Signature", sig)
                        .header("X-WC-Webhook-Delivery-ID", format!("bench-{i}"))
                        .header("X-WC-Webhook-ID", "1")
                        .body(body.clone())
                        .send()
                        .await
                        .expect("the receiver answers");
                    assert_eq!(res.status(), 200);
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    Pass { secs: start.elapsed().as_secs_f64(), latencies }
}

async fn run(backend: Backend, deliveries: usize, connections: usize, slice: Duration) -> Row {
    let db = TestDb::new(backend).await;
    let store = db.store(16).await;
    let queue = Queue::new(store.clone(), clock::system(), RetryPolicy::default());
    let state = AppState::new(queue, Arc::new(Metrics::new())).with_webhook_secret(SECRET.into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let url = format!("http://{addr}/webhooks/woocommerce");
    let bare_url = format!("http://{addr}{BARE_PATH}");
    // One server for both: the baseline's route is added after wns's layers, so it is the bare
    // handler on the same listener, reached over the same keep-alive connections.
    let app = router(state).route(BARE_PATH, post(bare));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // Signed bodies are prepared before the clock starts: the generator should cost little.
    let requests: Arc<Vec<(Vec<u8>, String)>> = Arc::new(
        (0..deliveries)
            .map(|i| {
                let body = body_for(100_000 + i);
                let sig = sign(&body);
                (body, sig)
            })
            .collect(),
    );
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build().unwrap();
    let (next_delivery, next_bare) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    // Not measured: opens the keep-alive connections, so no slice pays for that.
    let far = Instant::now() + Duration::from_secs(3600);
    drive(&client, &bare_url, &requests, &Arc::new(AtomicUsize::new(0)), 4 * connections, far, connections).await;
    let (mut wns, mut bare_all, mut slices) = (Pass::default(), Pass::default(), Vec::new());
    while next_delivery.load(Ordering::Relaxed) < deliveries {
        // The baseline first, then wns, for as long each.
        let until = Instant::now() + slice;
        let b = drive(&client, &bare_url, &requests, &next_bare, usize::MAX, until, connections).await;
        let until = Instant::now() + slice;
        let w = drive(&client, &url, &requests, &next_delivery, deliveries, until, connections).await;
        eprintln!(
            "  {} slice {}: bare {:.0} requests/s, wns {:.0} deliveries/s, ratio {:.3}",
            backend.name(),
            slices.len() + 1,
            b.rate(),
            w.rate(),
            w.rate() / b.rate()
        );
        slices.push((w.rate(), b.rate()));
        bare_all.add(b);
        wns.add(w);
    }
    let stored: i64 = sqlx::query_scalar("select count(*) from webhook_deliveries where status = 'accepted'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let jobs: i64 =
        sqlx::query_scalar("select count(*) from jobs where kind = 'woo.order'").fetch_one(store.pool()).await.unwrap();
    assert_eq!((stored as usize, jobs as usize), (deliveries, deliveries), "every delivery stored and enqueued once");
    server.abort();
    Row { backend, wns, bare: bare_all, slices }
}

fn main() {
    let env = |name: &str, default: usize| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let deliveries = env("WNS_BENCH_DELIVERIES", 20_000);
    let connections = env("WNS_BENCH_CONNECTIONS", 32);
    let slice = Duration::from_millis(env("WNS_BENCH_SLICE_MS", 1_000) as u64);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut rows = vec![run(Backend::Sqlite, deliveries, connections, slice).await];
        if std::env::var("WNS_TEST_PG").is_ok() {
            rows.push(run(Backend::Postgres, deliveries, connections, slice).await);
        }
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
        let range = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            format!("{:.3}–{:.3}", v[0], v[v.len() - 1])
        };
        println!();
        println!(
            "ingest: wns's receiver, and a bare axum handler (body read, 200, no database) on the same server, \
             connections and concurrency, taking turns in slices of {} ms",
            slice.as_millis()
        );
        println!(
            "| database | deliveries | connections | seconds | deliveries/s | p50 | p99 | max | bare requests/s \
             | bare p50 / p99 | wns ÷ bare | slice pairs | wns ÷ bare per slice pair (last left out), lowest–highest |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for r in rows {
            // The last wns slice is short (the deliveries that were left): not a fair sample.
            let whole = if r.slices.len() > 1 { &r.slices[..r.slices.len() - 1] } else { &r.slices[..] };
            let mut ratios: Vec<f64> = whole.iter().map(|(w, b)| w / b).collect();
            println!(
                "| {} | {} | {} | {:.2} | {:.0} | {} | {} | {} | {:.0} | {} / {} | {:.3} | {} | {} |",
                r.backend.name(),
                r.wns.latencies.len(),
                connections,
                r.wns.secs,
                r.wns.rate(),
                ms(r.wns.at(0.50)),
                ms(r.wns.at(0.99)),
                ms(r.wns.at(1.0)),
                r.bare.rate(),
                ms(r.bare.at(0.50)),
                ms(r.bare.at(0.99)),
                r.wns.rate() / r.bare.rate(),
                r.slices.len(),
                range(&mut ratios)
            );
        }
    });
}
