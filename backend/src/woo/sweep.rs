//! The catch-up sweep: WooCommerce never retries a failed webhook delivery, so every few minutes
//! wns lists the orders modified since its watermark (minus an overlap, because WooCommerce's
//! modification times have one-second resolution and deliveries are asynchronous) and enqueues
//! every order no webhook told us about. Each such order is a *webhook miss*: counted in the
//! metrics and raised as an exception, so lost webhooks become visible instead of silent.
//!
//! An order counts as delivered when an accepted delivery for it arrived no earlier than its
//! modification time minus `tolerance` (the store's and wns's clocks differ a little). The sweep
//! records its own find as a delivery (`order.sweep`) so the overlap does not count it twice.
//! Orders modified within the last `grace` are left for the next sweep: their webhook may still
//! be on its way through WooCommerce's Action Scheduler.
//!
//! **Paging by key.** The list is ordered by modification time, and orders move in it while it
//! is read (with HPOS, wns's own note on an order changes its modification time), so positional
//! pages (`page=N`) can skip an order. [`ModifiedOrders`] asks again from the last modification
//! time seen (minus a second: WooCommerce's times have whole seconds and ties come in any order)
//! and drops what it already listed at the same modification time.
//!
//! **The order-units ledger.** Every listed order that holds stock and that wns has no units for
//! (its webhook never arrived, or wns was down) is entered in `order_units` at once, deferred or
//! not, so the stock flow counts its units as in flight before any stock write
//! ([`record_unknown_units`], also what the stock flow's first cycle runs).

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;

use super::{
    client::{WooClient, WooError},
    model::{OrderSummary, holds_stock},
};
use crate::{
    metrics::Metrics,
    monitor::{Exception, ExceptionKind},
    queue::{JobKind, NewJob, Queue},
    store::{order_units, watermarks},
};

const WATERMARK: &str = "woo.orders.modified_gmt";

#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub overlap: Duration,
    pub grace: Duration,
    pub tolerance: Duration,
    /// Where the very first sweep starts, looking back from now.
    pub first_lookback: Duration,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            // Re-reads the last two minutes: late commits and one-second timestamps.
            overlap: Duration::from_secs(120),
            // WooCommerce's Action Scheduler usually delivers within seconds; 45 s leaves room
            // without making a lost delivery wait long (grace + sweep_every_secs ≈ 75 s).
            grace: Duration::from_secs(45),
            tolerance: Duration::from_secs(60),
            first_lookback: Duration::from_secs(24 * 3600),
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    pub listed: usize,
    pub missed: usize,
    pub deferred: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Woo(#[from] WooError),
    #[error("sweep bookkeeping: {0}")]
    Store(#[from] sqlx::Error),
}

pub async fn sweep(
    client: &WooClient,
    queue: &Queue,
    metrics: Option<&Metrics>,
    opts: &SweepOptions,
) -> Result<SweepReport, SweepError> {
    let store = queue.store();
    let now = queue.now();
    let watermark = read_watermark(queue).await?;
    let from_ms = start_ms(watermark, now, opts);
    let after = DateTime::<Utc>::from_timestamp_millis(from_ms).unwrap_or_default();
    let settle_before = now - opts.grace.as_millis() as i64;
    let mut report = SweepReport::default();
    let mut newest = watermark.unwrap_or(from_ms);
    let mut pages = ModifiedOrders::new(after);
    while let Some(orders) = pages.next(client).await? {
        record_unknown_units(queue, &orders).await?;
        for order in &orders {
            report.listed += 1;
            let Some(modified) = order.modified().map(|m| m.timestamp_millis()) else { continue };
            if modified > settle_before {
                report.deferred += 1;
                continue;
            }
            newest = newest.max(modified);
            if missed(queue, order.id, modified, opts).await? {
                record_miss(queue, order.id, &order.number, modified).await?;
                if let Some(m) = metrics {
                    m.record_webhook("missed");
                }
                report.missed += 1;
            }
        }
    }
    watermarks::set(store, WATERMARK, newest, now).await?;
    Ok(report)
}

/// Orders modified after a time, page by page, by key rather than by position (module comment).
pub struct ModifiedOrders {
    after: DateTime<Utc>,
    page: u32,
    /// Listed so far: order id → the modification time it was listed at.
    seen: HashMap<u64, Option<String>>,
    requests: usize,
    done: bool,
}

/// A bound that only stops a broken store from keeping the sweep busy forever.
const MAX_REQUESTS: usize = 100_000;

impl ModifiedOrders {
    pub fn new(after: DateTime<Utc>) -> ModifiedOrders {
        ModifiedOrders { after, page: 1, seen: HashMap::new(), requests: 0, done: false }
    }

    /// The next orders not listed before at their current modification time; `None` at the end.
    pub async fn next(&mut self, client: &WooClient) -> Result<Option<Vec<OrderSummary>>, WooError> {
        if self.done {
            return Ok(None);
        }
        let p = client.orders_modified_after(self.after, self.page).await?;
        self.requests += 1;
        let last = p.items.iter().filter_map(OrderSummary::modified).max();
        let fresh: Vec<OrderSummary> = p
            .items
            .into_iter()
            .filter(|o| self.seen.insert(o.id, o.date_modified_gmt.clone()).as_ref() != Some(&o.date_modified_gmt))
            .collect();
        let next_after = last.map(|l| l - chrono::Duration::seconds(1));
        match next_after {
            _ if p.total_pages <= self.page || self.requests >= MAX_REQUESTS => self.done = true,
            // Ask again from the last time seen; what was listed there already is dropped.
            Some(next) if next > self.after => (self.after, self.page) = (next, 1),
            // A whole page within one second of the cursor: only then by position.
            _ => self.page += 1,
        }
        Ok(Some(fresh))
    }
}

/// Enters the units of listed orders that hold stock and that the ledger does not know yet.
pub async fn record_unknown_units(queue: &Queue, orders: &[OrderSummary]) -> Result<usize, sqlx::Error> {
    let holding: Vec<u64> = orders.iter().filter(|o| holds_stock(&o.status)).map(|o| o.id).collect();
    let unknown = order_units::unknown(queue.store(), &holding).await?;
    if unknown.is_empty() {
        return Ok(0);
    }
    let now = queue.now();
    let mut tx = queue.store().pool().begin().await?;
    for o in orders.iter().filter(|o| unknown.contains(&o.id)) {
        let lines: Vec<(String, i64)> =
            o.line_items.iter().filter(|l| !l.sku.is_empty()).map(|l| (l.sku.clone(), l.quantity)).collect();
        order_units::record_in(&mut tx, o.id, &lines, true, now).await?;
    }
    tx.commit().await?;
    Ok(unknown.len())
}

/// Lists every order modified after `after` and enters the unknown ones in the ledger: what the
/// stock flow runs before its first write, so no order taken while wns was away is sold twice.
pub async fn catch_up_units(client: &WooClient, queue: &Queue, after: DateTime<Utc>) -> Result<usize, SweepError> {
    let mut pages = ModifiedOrders::new(after);
    let mut entered = 0;
    while let Some(orders) = pages.next(client).await? {
        entered += record_unknown_units(queue, &orders).await?;
    }
    Ok(entered)
}

/// Where the catch-up starts: the sweep's watermark minus its overlap, or `first_lookback` ago.
pub async fn catch_up_start(queue: &Queue, opts: &SweepOptions) -> Result<DateTime<Utc>, sqlx::Error> {
    let from_ms = start_ms(read_watermark(queue).await?, queue.now(), opts);
    Ok(DateTime::<Utc>::from_timestamp_millis(from_ms).unwrap_or_default())
}

async fn read_watermark(queue: &Queue) -> Result<Option<i64>, sqlx::Error> {
    watermarks::get(queue.store(), WATERMARK).await
}

fn start_ms(watermark: Option<i64>, now: i64, opts: &SweepOptions) -> i64 {
    match watermark {
        Some(w) => w - opts.overlap.as_millis() as i64,
        None => now - opts.first_lookback.as_millis() as i64,
    }
}

async fn missed(queue: &Queue, order: u64, modified: i64, opts: &SweepOptions) -> Result<bool, sqlx::Error> {
    let seen: i64 = sqlx::query(
        "select count(*) from webhook_deliveries where status = 'accepted' and resource_id = $1 \
         and topic like 'order.%' and received_at >= $2",
    )
    .bind(order.to_string())
    .bind(modified - opts.tolerance.as_millis() as i64)
    .fetch_one(queue.store().pool())
    .await?
    .try_get(0)?;
    Ok(seen == 0)
}

/// Enqueues the order, notes the find as a delivery and raises the exception, in one transaction.
async fn record_miss(queue: &Queue, order: u64, number: &str, modified: i64) -> Result<(), sqlx::Error> {
    let now = queue.now();
    let mut tx = queue.store().pool().begin().await?;
    let inserted = sqlx::query(
        "insert into webhook_deliveries (dedupe_key, topic, resource_id, status, headers, body, received_at) \
         values ($1, 'order.sweep', $2, 'accepted', '{}', $3, $4) \
         on conflict (dedupe_key) where status = 'accepted' do nothing returning id",
    )
    .bind(format!("sweep:{order}:{modified}"))
    .bind(order.to_string())
    .bind(Vec::<u8>::new())
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    if inserted.is_some() {
        let job = NewJob::new(JobKind::WooOrder, JobKind::WooOrder.key(order), json!({ "topic": "order.sweep" }));
        queue.enqueue_in(&mut tx, job).await?;
        let number = if number.is_empty() { order.to_string() } else { number.to_string() };
        Exception::new(
            ExceptionKind::WebhookMiss,
            format!("order:{order}"),
            format!("Order #{number} changed in WooCommerce but no webhook reached wns; the sweep found it and queued it"),
            "Nothing to do for this order. If misses keep appearing, check that wns is reachable from the store and that its webhooks are active (wns check).",
        )
        .raise_in(&mut tx, now)
        .await?;
    }
    tx.commit().await
}
