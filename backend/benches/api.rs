//! `cargo xtask bench api`: the API people's screens call, with a shop's worth of data in the
//! store — 100,000 orders (every one posted, 2 % waiting on a SKU), 100,000 SKUs with their stock
//! at three locations, and 100,000 NetSuite items in the local index — on SQLite and PostgreSQL.
//! Measures, through the whole router in-process (authentication by an operator key included):
//! the status of 100 random orders in one request, of 100 random products by SKU, and an item
//! search as a person types (three letters of a name). Prints p50/p99/max per request; asserts
//! nothing about speed. Targets: batched status p99 < 10 ms on SQLite, search p99 < 50 ms.
//!
//! PostgreSQL comes from `WNS_TEST_PG` (set by `cargo xtask bench`); `WNS_BENCH_ROWS` changes the
//! 100,000 and `WNS_BENCH_REQUESTS` the requests per row (default 300).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::json;
use tower::ServiceExt;
use wns::{
    api::{
        AppState,
        auth::{Cap, create_key},
        router,
    },
    clock::ManualClock,
    metrics::Metrics,
    queue::{Queue, RetryPolicy},
    store::{Backend, Store},
    testing::TestDb,
};

const NOW: i64 = 1_764_000_000_000;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Inserts `n` rows of `values(i)` into `table (columns)`, 500 per statement, in one transaction.
async fn fill(store: &Store, table: &str, columns: &str, n: usize, values: impl Fn(usize) -> Vec<String>) {
    let mut tx = store.pool().begin().await.unwrap();
    for start in (0..n).step_by(500) {
        let rows: Vec<String> = (start..(start + 500).min(n))
            .map(|i| format!("({})", values(i).iter().map(|v| literal(v)).collect::<Vec<_>>().join(", ")))
            .collect();
        // Numbers go in quoted: both engines cast a quoted literal to the column's type.
        let sql = format!("insert into {table} ({columns}) values {}", rows.join(", "));
        sqlx::query(&sql).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// A quoted SQL literal, or NULL for [`NULL`].
fn literal(v: &str) -> String {
    if v == NULL { "NULL".into() } else { format!("'{}'", v.replace('\'', "''")) }
}

const NULL: &str = "\0null";

async fn seed(store: &Store, n: usize) {
    let now = NOW.to_string();
    fill(store, "order_links", "wc_order_id, external_id, state, netsuite_id, tranid, updated_at", n, |i| {
        vec![
            (i + 1).to_string(),
            format!("wc-shop-order-{}", i + 1),
            "posted".into(),
            (50_000 + i).to_string(),
            format!("SO{}", 10_000 + i),
            now.clone(),
        ]
    })
    .await;
    // Every order has had its job; 2 % of them wait on a SKU.
    fill(
        store,
        "jobs",
        "kind, entity_key, payload, state, priority, attempts, max_attempts, run_after, created_at, updated_at, blocked_owner, blocked_cause",
        n,
        |i| {
            let blocked = i % 50 == 0;
            vec![
                "woo.order".into(),
                format!("order:{}", i + 1),
                "{}".into(),
                if blocked { "blocked" } else { "done" }.into(),
                "0".into(),
                "1".into(),
                "12".into(),
                now.clone(),
                now.clone(),
                now.clone(),
                if blocked { "ecommerce" } else { NULL }.into(),
                if blocked { format!("sku:MISSING-{}", i % 97) } else { NULL.into() },
            ]
        },
    )
    .await;
    fill(
        store,
        "stock_items",
        "sku, netsuite_item_id, ns_available, ns_as_of, target, pushed, pushed_at, confirmed, confirmed_at, updated_at",
        n,
        |i| {
            let q = (i % 40).to_string();
            vec![
                format!("SKU-{i:06}"),
                (i + 1).to_string(),
                q.clone(),
                now.clone(),
                q.clone(),
                q.clone(),
                now.clone(),
                q,
                now.clone(),
                now.clone(),
            ]
        },
    )
    .await;
    for (l, location) in ["1", "2", "3"].iter().enumerate() {
        fill(store, "stock_locations", "netsuite_item_id, location, itemid, available, modified, read_at", n, |i| {
            vec![
                (i + 1).to_string(),
                location.to_string(),
                format!("SKU-{i:06}"),
                ((i + l) % 15).to_string(),
                "2026-11-27 06:00:00".into(),
                now.clone(),
            ]
        })
        .await;
    }
    fill(store, "sku_map", "sku, netsuite_item_id, source, updated_at", n, |i| {
        vec![format!("SKU-{i:06}"), (i + 1).to_string(), "netsuite".into(), now.clone()]
    })
    .await;
    const WORDS: [&str; 8] = ["enamel", "mug", "linen", "apron", "oak", "board", "copper", "kettle"];
    fill(
        store,
        "netsuite_items",
        "netsuite_item_id, itemid, displayname, upc, inactive, search, modified, read_at, itemid_key",
        n,
        |i| {
            let name = format!("{} {} {}", WORDS[i % 8], WORDS[(i / 8) % 8], i);
            let upc = format!("{:013}", 400_000_000_000u64 + i as u64);
            let itemid = format!("SKU-{i:06}");
            vec![
                (i + 1).to_string(),
                itemid.clone(),
                name.clone(),
                upc.clone(),
                "0".into(),
                format!("{}\n{}\n{}", itemid.to_lowercase(), name, upc),
                "2026-11-27 06:00:00".into(),
                now.clone(),
                itemid.to_lowercase(),
            ]
        },
    )
    .await;
}

struct Timing {
    what: &'static str,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

async fn time(what: &'static str, requests: usize, mut call: impl AsyncFnMut() -> StatusCode) -> Timing {
    for _ in 0..requests / 10 {
        assert_eq!(call().await, StatusCode::OK, "{what} (warm-up)");
    }
    let mut took = Vec::with_capacity(requests);
    for _ in 0..requests {
        let start = Instant::now();
        assert_eq!(call().await, StatusCode::OK, "{what}");
        took.push(start.elapsed());
    }
    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    Timing { what, p50: at(0.5), p99: at(0.99), max: *took.last().unwrap() }
}

async fn run(backend: Backend, n: usize, requests: usize) -> Vec<Timing> {
    let db = TestDb::new(backend).await;
    let store = db.store(4).await;
    let started = Instant::now();
    seed(&store, n).await;
    // A live database has statistics (autovacuum, SQLite's optimizer on close); a fresh bulk load
    // has none until asked.
    sqlx::query("analyze").execute(store.pool()).await.unwrap();
    eprintln!(
        "bench api: {} seeded with {n} orders, SKUs and items in {:.1} s",
        backend.name(),
        started.elapsed().as_secs_f64()
    );
    let queue = Queue::new(store.clone(), Arc::new(ManualClock::new(NOW)), RetryPolicy::default());
    let key = create_key(&store, "bench", &[Cap::View].into_iter().collect(), NOW).await.unwrap();
    let mut state = AppState::new(queue, Arc::new(Metrics::new()));
    state.api = Arc::new(wns::api::auth::ApiSettings {
        requests_per_minute: 1_000_000,
        burst: 1_000_000,
        ..Default::default()
    });
    let app = router(state);
    let mut rng = StdRng::seed_from_u64(7);
    let send = |app: axum::Router, req: Request<Body>| async move {
        let res = app.oneshot(req).await.unwrap();
        let status = res.status();
        let _ = res.into_body().collect().await.unwrap();
        status
    };
    let post = |path: &str, body: serde_json::Value| {
        Request::post(path)
            .header(header::AUTHORIZATION, format!("Bearer {key}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let orders = time("status of 100 orders", requests, async || {
        let ids: Vec<u64> = (0..100).map(|_| rng.random_range(1..=n as u64)).collect();
        send(app.clone(), post("/api/v1/orders/status", json!({ "ids": ids }))).await
    })
    .await;
    let mut rng = StdRng::seed_from_u64(8);
    let products = time("status of 100 products by SKU", requests, async || {
        let skus: Vec<String> = (0..100).map(|_| format!("SKU-{:06}", rng.random_range(0..n))).collect();
        send(app.clone(), post("/api/v1/products/status", json!({ "skus": skus }))).await
    })
    .await;
    let get = |path: &str| {
        Request::get(path).header(header::AUTHORIZATION, format!("Bearer {key}")).body(Body::empty()).unwrap()
    };
    let mut rng = StdRng::seed_from_u64(9);
    let search = time("item search, 3 letters", requests, async || {
        const STEMS: [&str; 8] = ["ena", "mug", "lin", "apr", "oak", "boa", "cop", "ket"];
        let q = STEMS[rng.random_range(0..STEMS.len())];
        send(app.clone(), get(&format!("/api/v1/items/search?q={q}"))).await
    })
    .await;
    let mut rng = StdRng::seed_from_u64(10);
    let sku_prefix = time("item search, a SKU's start", requests, async || {
        // What a merchandiser types who knows the item number: "sku-0421" (100 of 100,000 items).
        let q = format!("sku-{:04}", rng.random_range(0..(n / 10).max(1)) / 10);
        send(app.clone(), get(&format!("/api/v1/items/search?q={q}"))).await
    })
    .await;
    let rare = time("item search, a rare fragment", requests / 3, async || {
        // A fragment that only a few items have: the name-ordered walk reads every row.
        send(app.clone(), get("/api/v1/items/search?q=zq9")).await
    })
    .await;
    vec![orders, products, search, sku_prefix, rare]
}

fn main() {
    let n = env_usize("WNS_BENCH_ROWS", 100_000);
    let requests = env_usize("WNS_BENCH_REQUESTS", 300);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut backends = vec![Backend::Sqlite];
    if std::env::var_os("WNS_TEST_PG").is_some() {
        backends.push(Backend::Postgres);
    } else {
        eprintln!("WNS_TEST_PG is not set: PostgreSQL rows skipped (cargo xtask bench api sets it)");
    }
    println!("| database | request | rows in the store | requests | p50 | p99 | max |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for backend in backends {
        for t in runtime.block_on(run(backend, n, requests)) {
            let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
            println!(
                "| {} | {} | {n} | {requests} | {} | {} | {} |",
                backend.name(),
                t.what,
                ms(t.p50),
                ms(t.p99),
                ms(t.max)
            );
        }
    }
}
