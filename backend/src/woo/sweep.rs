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

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;

use super::client::{WooClient, WooError};
use crate::{
    metrics::Metrics,
    monitor::{Exception, ExceptionKind},
    queue::{NewJob, Queue},
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
            overlap: Duration::from_secs(600),
            grace: Duration::from_secs(120),
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
    let watermark: Option<i64> = sqlx::query("select value from watermarks where name = $1")
        .bind(WATERMARK)
        .fetch_optional(store.pool())
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    let from_ms = match watermark {
        Some(w) => w - opts.overlap.as_millis() as i64,
        None => now - opts.first_lookback.as_millis() as i64,
    };
    let after = DateTime::<Utc>::from_timestamp_millis(from_ms).unwrap_or_default();
    let settle_before = now - opts.grace.as_millis() as i64;
    let mut report = SweepReport::default();
    let mut newest = watermark.unwrap_or(from_ms);
    let mut page = 1;
    loop {
        let p = client.orders_modified_after(after, page).await?;
        for order in &p.items {
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
        if page >= p.total_pages || p.items.is_empty() {
            break;
        }
        page += 1;
    }
    sqlx::query(
        "insert into watermarks (name, value, updated_at) values ($1, $2, $3) \
         on conflict (name) do update set value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(WATERMARK)
    .bind(newest)
    .bind(now)
    .execute(store.pool())
    .await?;
    Ok(report)
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
        let job = NewJob::new("woo.order", format!("order:{order}"), json!({ "topic": "order.sweep" }));
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
