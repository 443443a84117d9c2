//! `cargo xtask bench ingest`: the webhook receiver under a loopback load generator — deliveries
//! per second and p50/p99 latency of `POST /webhooks/woocommerce` (signature check, durable write
//! of the raw delivery, enqueue of its job, all before the answer), on SQLite and PostgreSQL.
//!
//! The generator keeps `WNS_BENCH_CONNECTIONS` (default 32) keep-alive connections busy with
//! signed `order.updated` deliveries of a real recorded body, each for its own order and with its
//! own delivery id, `WNS_BENCH_DELIVERIES` (default 20,000) in all. Prints a table; asserts only
//! that every delivery was stored and enqueued exactly once.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

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

struct Row {
    backend: Backend,
    deliveries: usize,
    secs: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
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

async fn run(backend: Backend, deliveries: usize, connections: usize) -> Row {
    let db = TestDb::new(backend).await;
    let store = db.store(16).await;
    let queue = Queue::new(store.clone(), clock::system(), RetryPolicy::default());
    let state = AppState::new(queue, Arc::new(Metrics::new())).with_webhook_secret(SECRET.into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/woocommerce", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, router(state)).await });

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
    let start = Instant::now();
    let tasks: Vec<_> = (0..connections)
        .map(|c| {
            let (client, url, requests) = (client.clone(), url.clone(), requests.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                for i in (c..requests.len()).step_by(connections) {
                    let (body, sig) = &requests[i];
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
    let mut latencies = Vec::with_capacity(deliveries);
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let secs = start.elapsed().as_secs_f64();
    let stored: i64 = sqlx::query_scalar("select count(*) from webhook_deliveries where status = 'accepted'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let jobs: i64 =
        sqlx::query_scalar("select count(*) from jobs where kind = 'woo.order'").fetch_one(store.pool()).await.unwrap();
    assert_eq!((stored as usize, jobs as usize), (deliveries, deliveries), "every delivery stored and enqueued once");
    server.abort();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Row { backend, deliveries, secs, p50: at(0.50), p99: at(0.99), max: *latencies.last().unwrap() }
}

fn main() {
    let deliveries: usize = std::env::var("WNS_BENCH_DELIVERIES").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let connections: usize = std::env::var("WNS_BENCH_CONNECTIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(32);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut rows = vec![run(Backend::Sqlite, deliveries, connections).await];
        if std::env::var("WNS_TEST_PG").is_ok() {
            rows.push(run(Backend::Postgres, deliveries, connections).await);
        }
        println!();
        println!("| database | deliveries | connections | seconds | deliveries/s | p50 | p99 | max |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|");
        for r in rows {
            let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
            println!(
                "| {} | {} | {} | {:.2} | {:.0} | {} | {} | {} |",
                r.backend.name(),
                r.deliveries,
                connections,
                r.secs,
                r.deliveries as f64 / r.secs,
                ms(r.p50),
                ms(r.p99),
                ms(r.max)
            );
        }
    });
}
