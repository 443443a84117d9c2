//! Nothing lost, nothing posted twice, under NetSuite faults: 2,000 WooCommerce orders while the
//! NetSuite simulator commits 10 % of writes and then drops the answer, and answers another 10 %
//! of requests with 429 or 500 without doing anything; every order's webhook arrives twice, the
//! second copy while the first is being worked on or after it is done. The simulator's own counts
//! must show exactly 2,000 sales orders and one customer per buyer.

#[macro_use]
#[path = "support/both.rs"]
mod both;

#[path = "support/flow.rs"]
mod support;

use std::{collections::BTreeSet, time::Duration};

use rand::{Rng, SeedableRng, rngs::StdRng};
use rust_decimal::Decimal;
use wns::{store::Backend, sync::sales_order_writer::BatchSettings};
use wns_api_types::JobState;
use wns_sim::{
    netsuite::Faults,
    woo::{Address, Checkout},
};

const ORDERS: usize = 2_000;

async fn two_thousand_orders_under_faults_make_exactly_two_thousand_sales_orders(backend: Backend) {
    under_faults(backend, false).await
}

/// The same with `[sync.batch]` on: beyond two synchronous upserts under way, sales orders go in
/// async batches, whose submissions, status polls and result reads meet the same faults (a lost
/// 202 is sent again with its idempotency key).
async fn the_same_through_async_batches(backend: Backend) {
    under_faults(backend, true).await
}

async fn under_faults(backend: Backend, batch: bool) {
    let o = support::Options { workers: 16, ..support::Options::default() };
    let f = support::flow_with(backend, o, |s, _| {
        s.batch =
            BatchSettings { enabled: batch, sync_slots: 2, linger_ms: 100, poll_ms: 50, ..BatchSettings::default() };
    })
    .await;
    let products: Vec<u64> =
        (0..50).map(|n| f.product(&format!("FLT-{n:03}"), Decimal::new(500 + n * 37, 2), true).0).collect();
    let mut rng = StdRng::seed_from_u64(2000);
    let mut buyers = BTreeSet::new();
    let mut ids = Vec::with_capacity(ORDERS);
    let registered: Vec<u64> =
        (0..40).map(|n| f.woo.sim.add_customer("Reg", &format!("Buyer{n}"), &format!("reg{n}@example.com"))).collect();
    for n in 0..ORDERS {
        // 30 % new guests, the rest repeat guests (e-mail case varies) or registered customers.
        let roll: f64 = rng.random();
        let mut c = if roll < 0.3 {
            let email = format!("new{n}@example.com");
            buyers.insert(format!("guest:{email}"));
            Checkout::guest(Address { email, ..Address::us_ca() })
        } else if roll < 0.85 {
            let k = rng.random_range(0..200);
            buyers.insert(format!("guest:repeat{k}@example.com"));
            let email =
                if rng.random_bool(0.5) { format!("Repeat{k}@Example.com") } else { format!("repeat{k}@example.com") };
            Checkout::guest(Address { email, ..Address::us_ca() })
        } else {
            let id = registered[rng.random_range(0..registered.len())];
            buyers.insert(format!("customer:{id}"));
            Checkout::guest(Address::us_ca()).customer(id)
        };
        for _ in 0..rng.random_range(1..4) {
            c = c.line(products[rng.random_range(0..products.len())], rng.random_range(1..4));
        }
        ids.push(f.woo.sim.checkout(c).unwrap().id);
    }

    f.ns.sim.set_faults(Faults {
        lost_response_rate: 0.10,
        throttle_rate: 0.05,
        server_error_rate: 0.05,
        ..Faults::default()
    });
    // First deliveries all at once; the worker runs while the second copies arrive.
    for id in &ids {
        f.enqueue(*id).await;
    }
    let worker = tokio::spawn({
        let queue = f.queue.clone();
        let flow = f.flow.clone();
        async move {
            let w = wns::queue::Worker::new(
                queue,
                flow.register(wns::queue::Handlers::new()),
                wns::queue::WorkerOptions {
                    concurrency: 16,
                    poll: Duration::from_millis(20),
                    ..wns::queue::WorkerOptions::new("fault-worker")
                },
            );
            let stop = tokio_util::sync::CancellationToken::new();
            let s = stop.clone();
            let run = tokio::spawn(async move { w.run(s).await });
            (stop, run)
        }
    })
    .await
    .unwrap();
    for (n, id) in ids.iter().enumerate() {
        f.enqueue(*id).await;
        if n % 100 == 0 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    loop {
        let s = f.queue.summary().await.unwrap();
        let open = s.total(JobState::Ready) + s.total(JobState::Running);
        if open == 0 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    worker.0.cancel();
    worker.1.await.unwrap().unwrap();

    let s = f.queue.summary().await.unwrap();
    assert_eq!(
        (s.total(JobState::Ready), s.total(JobState::Running), s.total(JobState::Blocked), s.total(JobState::Dead)),
        (0, 0, 0, 0),
        "every job done"
    );
    let c = f.ns.sim.counters();
    assert!(c.responses_lost > 0 && c.throttled_429 > 0, "the faults happened: {c:?}");
    assert_eq!(f.ns.sim.record_count("salesOrder"), ORDERS, "exactly one sales order per order");
    assert_eq!(f.ns.sim.record_count("customer"), buyers.len(), "exactly one customer per buyer");
    for id in &ids {
        assert!(f.sales_order(*id).is_some(), "order {id} reached NetSuite");
    }
    if batch {
        let batched = c.requests_by_op.get("async batch").copied().unwrap_or(0);
        assert!(batched > 20, "most sales orders went in batches: {batched} batch submissions");
    }
    println!(
        "faults (batches {batch}): {} requests, {} answers lost after commit, {} 429, {} 5xx; {} sales orders, {} customers",
        c.requests,
        c.responses_lost,
        c.throttled_429,
        c.server_errors_injected,
        f.ns.sim.record_count("salesOrder"),
        f.ns.sim.record_count("customer")
    );
}

on_both_databases!(
    two_thousand_orders_under_faults_make_exactly_two_thousand_sales_orders,
    the_same_through_async_batches
);
