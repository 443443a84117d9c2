//! The governor under virtual time (`start_paused`): no test sleeps for real.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use super::*;

fn settings(limit: usize) -> GovernorSettings {
    GovernorSettings { concurrency_limit: limit, ..GovernorSettings::default() }
}

/// Lets every spawned task run until it blocks.
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn never_more_in_flight_than_the_budget() {
    let g = Governor::local(&GovernorSettings { reserve: 2, ..settings(7) });
    assert_eq!(g.budget(), 5);
    let now = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let (g, now, peak) = (g.clone(), now.clone(), peak.clone());
            tokio::spawn(async move {
                let _p = g.acquire(Lane::ALL[i % 5]).await;
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                now.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(peak.load(Ordering::SeqCst), 5);
}

#[tokio::test(start_paused = true)]
async fn orders_go_before_settlements_and_stock_reads() {
    let g = Governor::local(&settings(1));
    let held = g.acquire(Lane::Orders).await;
    let order = Arc::new(Mutex::new(Vec::new()));
    for lane in [Lane::Settlements, Lane::StockReads, Lane::Orders] {
        let (g, order) = (g.clone(), order.clone());
        tokio::spawn(async move {
            let _p = g.acquire(lane).await;
            order.lock().unwrap().push(lane);
        });
        settle().await;
    }
    drop(held);
    settle().await;
    assert_eq!(*order.lock().unwrap(), vec![Lane::Orders, Lane::StockReads, Lane::Settlements]);
}

#[tokio::test(start_paused = true)]
async fn a_starving_lane_is_served_before_newer_priority_work() {
    let g = Governor::local(&GovernorSettings { starvation_limit_secs: 30, ..settings(1) });
    let held = g.acquire(Lane::Orders).await;
    let served = Arc::new(Mutex::new(Vec::new()));
    let spawn = |lane| {
        let (g, served) = (g.clone(), served.clone());
        tokio::spawn(async move {
            let _p = g.acquire(lane).await;
            served.lock().unwrap().push(lane);
        })
    };
    spawn(Lane::Settlements);
    settle().await;
    tokio::time::advance(Duration::from_secs(31)).await;
    spawn(Lane::Orders);
    settle().await;
    drop(held);
    settle().await;
    assert_eq!(*served.lock().unwrap(), vec![Lane::Settlements, Lane::Orders]);
}

#[tokio::test(start_paused = true)]
async fn a_429_halves_the_window_and_it_grows_back_to_the_learned_ceiling_only() {
    let g = Governor::local(&GovernorSettings { probe_interval_secs: 60, ..settings(10) });
    assert_eq!(g.window(), 10);
    g.acquire(Lane::Orders).await.throttled();
    assert_eq!(g.window(), 5);
    assert_eq!(g.throttled_count(), 1);
    for _ in 0..200 {
        drop(g.acquire(Lane::Orders).await);
    }
    assert_eq!(g.window(), 9, "grows back to just below where NetSuite refused");
    tokio::time::advance(Duration::from_secs(61)).await;
    drop(g.acquire(Lane::Orders).await);
    assert_eq!(g.window(), 10, "probes one above the ceiling once the interval has passed");
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_429s_from_one_window_counts_as_one_decrease() {
    let g = Governor::local(&settings(8));
    let permits: Vec<Permit> = futures::future::join_all((0..8).map(|_| g.acquire(Lane::Orders))).await;
    for p in permits {
        p.throttled();
    }
    assert_eq!(g.window(), 4, "one halving, not eight");
    assert_eq!(g.throttled_count(), 8);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_waiter_does_not_keep_a_turn() {
    let g = Governor::local(&settings(1));
    let held = g.acquire(Lane::Orders).await;
    let waiting = tokio::spawn({
        let g = g.clone();
        async move {
            let _p = g.acquire(Lane::Orders).await;
        }
    });
    settle().await;
    waiting.abort();
    settle().await;
    drop(held);
    tokio::time::timeout(Duration::from_secs(1), g.acquire(Lane::Settlements))
        .await
        .expect("the aborted waiter's turn went to the next caller");
}

#[test]
fn lane_order_is_configurable_and_completed_with_the_defaults() {
    let s = GovernorSettings { lanes: vec![Lane::StockReads], ..GovernorSettings::default() };
    let ranks = s.ranks();
    assert_eq!(ranks[Lane::StockReads.index()], 0);
    assert_eq!(ranks[Lane::Orders.index()], 1);
    assert_eq!(ranks[Lane::Settlements.index()], 4);
    assert!(GovernorSettings { reserve: 5, ..settings(5) }.validate().is_err());
}
