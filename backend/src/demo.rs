//! `wns demo`: the service on its embedded default (a SQLite file, a local port) with generated
//! traffic, so a newcomer sees the moving parts in a browser.
//!
//! Until the order flow lands, the traffic is queue traffic: customers and orders as jobs (an
//! order waits for its customer), handlers with realistic latency and a share of transient
//! failures, and one SKU left unmapped so its orders block with an owner until the demo "maps"
//! it and they run again by themselves. Every piece is the real queue, store, worker and API.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use rand::Rng;
use secrecy::SecretString;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use wns_api_types::{JobState, Owner};

use crate::{
    app::{Application, shutdown_on_signals},
    clock,
    config::Settings,
    queue::{Handlers, NewJob, Outcome, Queue, RetryPolicy},
};

const UNMAPPED: &str = "DEMO-UNMAPPED";
const DB_FILE: &str = "wns-demo.db";

pub async fn run(duration: Option<Duration>) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{DB_FILE}{suffix}"));
    }
    let mut settings = Settings::default();
    settings.database.url = SecretString::from(format!("sqlite://{DB_FILE}"));
    settings.queue.retry = RetryPolicy { base_ms: 500, max_delay_secs: 5, max_attempts: 8, ..RetryPolicy::default() };
    settings.queue.workers = 16;
    settings.queue.poll_ms = 200;
    let mapped = Arc::new(AtomicBool::new(false));
    let handlers = handlers(mapped.clone());
    // 127.0.0.1:8080 as `wns serve`; a free port when that is taken (or WNS_DEMO_BIND says so).
    if let Some(bind) = std::env::var("WNS_DEMO_BIND").ok().and_then(|b| b.parse().ok()) {
        settings.server.bind = bind;
    }
    let app = match Application::build(&settings, clock::system(), handlers.clone()).await {
        Ok(app) => app,
        Err(_) => {
            settings.server.bind = ([127, 0, 0, 1], 0).into();
            Application::build(&settings, clock::system(), handlers).await?
        }
    };
    println!("wns demo: open http://{}/ (queue dashboard), /metrics, /healthz", app.addr());
    println!("wns demo: database {DB_FILE} (SQLite, WAL) in {}", std::env::current_dir()?.display());
    let queue = app.queue().clone();
    let shutdown = shutdown_on_signals();
    if let Some(d) = duration {
        let s = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            s.cancel();
        });
    }
    let traffic = tokio::spawn(generate(queue.clone(), mapped, shutdown.clone()));
    let progress = tokio::spawn(progress(queue.clone(), shutdown.clone()));
    app.run(shutdown).await?;
    let generated = traffic.await??;
    progress.abort();
    let store = crate::store::Store::connect(&format!("sqlite://{DB_FILE}"), 1).await?;
    let summary = Queue::new(store, clock::system(), RetryPolicy::default()).summary().await?;
    println!(
        "wns demo summary: {generated} jobs generated; {} done, {} waiting or retrying, {} blocked, {} dead",
        summary.total(JobState::Done),
        summary.total(JobState::Ready) + summary.total(JobState::Running),
        summary.total(JobState::Blocked),
        summary.total(JobState::Dead),
    );
    Ok(())
}

fn handlers(mapped: Arc<AtomicBool>) -> Handlers {
    Handlers::new().on("demo.customer", |_job| async move { simulated_call(0.1).await }).on("demo.order", move |job| {
        let mapped = mapped.clone();
        async move {
            let unmapped = job.payload["skus"].as_array().is_some_and(|s| s.iter().any(|s| s == UNMAPPED));
            if unmapped && !mapped.load(Ordering::SeqCst) {
                return Outcome::Blocked {
                    owner: Owner::Ecommerce,
                    cause: format!("sku:{UNMAPPED}"),
                    error: format!("SKU {UNMAPPED} has no NetSuite item; map it in the SKU mapping screen"),
                };
            }
            simulated_call(0.1).await
        }
    })
}

/// Latency of 50–250 ms, and `failure_rate` of calls failing transiently.
async fn simulated_call(failure_rate: f64) -> Outcome {
    let (ms, fail) = {
        let mut rng = rand::rng();
        (rng.random_range(50..250), rng.random_bool(failure_rate))
    };
    tokio::time::sleep(Duration::from_millis(ms)).await;
    if fail { Outcome::Retry { error: "simulated 503 from the far side".into() } } else { Outcome::Done }
}

async fn generate(queue: Queue, mapped: Arc<AtomicBool>, stop: CancellationToken) -> anyhow::Result<u64> {
    let started = std::time::Instant::now();
    let mut n: u64 = 0;
    while !stop.is_cancelled() {
        let (customer, new_customer, skus, pause) = {
            let mut rng = rand::rng();
            let customer = rng.random_range(1..400);
            let sku = if rng.random_bool(0.05) {
                UNMAPPED.to_string()
            } else {
                format!("SKU-{:03}", rng.random_range(1..200))
            };
            (customer, rng.random_bool(0.3), vec![sku], rng.random_range(50..200))
        };
        n += 1;
        let mut order = NewJob::new("demo.order", format!("order:{n}"), json!({ "order": n, "skus": skus }));
        // Shutdown closes the database under a generator that was mid-enqueue: that is the end of
        // the run, not an error.
        let ended = |e: &sqlx::Error| stop.is_cancelled() && matches!(e, sqlx::Error::PoolClosed);
        if new_customer {
            match queue.enqueue(NewJob::new("demo.customer", format!("customer:{customer}"), json!({}))).await {
                Ok(c) => order = order.after(c),
                Err(e) if ended(&e) => break,
                Err(e) => return Err(e.into()),
            }
            n += 1;
        }
        match queue.enqueue(order).await {
            Ok(_) => {}
            Err(e) if ended(&e) => break,
            Err(e) => return Err(e.into()),
        }
        if !mapped.load(Ordering::SeqCst) && started.elapsed() > Duration::from_secs(15) {
            mapped.store(true, Ordering::SeqCst);
            let n = queue.requeue_cause(&format!("sku:{UNMAPPED}")).await?;
            println!("wns demo: {UNMAPPED} mapped; {n} blocked orders requeued by themselves");
        }
        tokio::select! { _ = stop.cancelled() => {}, _ = tokio::time::sleep(Duration::from_millis(pause)) => {} }
    }
    Ok(n)
}

async fn progress(queue: Queue, stop: CancellationToken) {
    while !stop.is_cancelled() {
        tokio::time::sleep(Duration::from_secs(2)).await;
        if let Ok(s) = queue.summary().await {
            println!(
                "wns demo: done {:>5} | ready {:>4} | running {:>3} | blocked {:>3} | dead {:>2}",
                s.total(JobState::Done),
                s.total(JobState::Ready),
                s.total(JobState::Running),
                s.total(JobState::Blocked),
                s.total(JobState::Dead)
            );
        }
    }
}
