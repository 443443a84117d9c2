//! Freshness, drift and the schedule: stale stock and SKUs, WooCommerce's figure against wns's
//! (product webhooks and the reconciliation), and the loop `wns serve` runs.

use std::collections::BTreeSet;

use serde_json::json;
use sqlx::Row;

use crate::{
    monitor::exceptions::{Exception, ExceptionKind, Resolution},
    netsuite::ErrorClass,
    queue::{ClaimedJob, Outcome},
    woo::{catalog::StockDelta, client::WooError},
};

use super::*;

/// A SKU whose stock in WooCommerce has not followed NetSuite since `since`.
#[derive(sqlx::FromRow)]
struct Behind {
    sku: String,
    since: i64,
    target: i64,
    pushed: Option<i64>,
}

/// What a drift check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriftCheck {
    /// WooCommerce shows wns's figure (or the product is not wns's to compare).
    InStep,
    /// A difference (WooCommerce − wns) seen for the first time; checked again after the grace.
    Suspect(i64),
    /// The same difference after the grace: raised as `stock_drift`.
    Drift(i64),
}

impl StockSync {
    /// `stock_stale` (operations) when no cycle has succeeded for `stale_after_secs`.
    pub async fn check_freshness(&self) -> Result<bool, sqlx::Error> {
        let last = crate::store::watermarks::get(self.store(), LAST_CYCLE).await?;
        let now = self.queue.now();
        let limit = self.settings.stale_after_secs as i64 * 1000;
        let stale = last.is_none_or(|t| now - t > limit);
        if stale {
            let age = last.map(|t| format!("{} s old", (now - t) / 1000)).unwrap_or_else(|| "never read".into());
            Exception::new(
                ExceptionKind::StockStale,
                "stock",
                format!("WooCommerce's stock is {age}: no stock cycle succeeded within {} s", self.settings.stale_after_secs),
                "Look at the log lines of `stock cycle failed` (NetSuite or WooCommerce unreachable, credentials); the next successful cycle catches up everything.",
            )
            .raise(self.store(), now)
            .await?;
        } else {
            crate::monitor::exceptions::resolve(
                self.store(),
                ExceptionKind::StockStale,
                "stock",
                Resolution::CycleSucceeded,
                now,
            )
            .await?;
        }
        // Cycles that succeed can still leave one SKU behind: WooCommerce keeps refusing its write…
        for Refused { sku, since, target, pushed, .. } in self.refused(now - limit).await? {
            let behind = Behind { sku, since, target, pushed };
            self.sku_stale(&behind, now, "because WooCommerce refuses the write", "Fix what the stock_item_rejected exception of this SKU names (usually the product in WooCommerce); the next cycle writes it and closes both exceptions.").await?;
        }
        // … or a write failed as a whole (WooCommerce down or erroring) and is still being retried.
        let unconfirmed: Vec<Behind> = sqlx::query_as(
            "select s.sku, s.write_pending_since as since, s.target, s.pushed from stock_items s \
             where s.write_pending_since < $1 and not exists (select 1 from exceptions e \
             where e.kind = $2 and e.entity_key = 'sku:' || s.sku and e.resolved_at is null)",
        )
        .bind(now - limit)
        .bind(ExceptionKind::StockItemRejected.as_str())
        .fetch_all(self.store().pool())
        .await?;
        for behind in unconfirmed {
            self.sku_stale(&behind, now, "because WooCommerce has not confirmed a write of it; every cycle tries again", "Look at the log lines of `stock cycle failed`: WooCommerce answered the stock write with an error or not at all. The next write WooCommerce confirms closes this exception.").await?;
        }
        Ok(stale)
    }

    /// `stock_stale` for one SKU: how long, wns's figure, what WooCommerce shows, and `why`.
    async fn sku_stale(&self, b: &Behind, now: i64, why: &str, fix: &str) -> Result<(), sqlx::Error> {
        let shown = b
            .pushed
            .map(|p| format!("still shows {p} from wns's last confirmed write"))
            .unwrap_or_else(|| "was never written by wns".into());
        Exception::new(
            ExceptionKind::StockStale,
            format!("sku:{}", b.sku),
            format!(
                "SKU {}: WooCommerce's stock has not followed NetSuite for {} s (more than {} s): wns's figure is {}, WooCommerce {shown}, {why}",
                b.sku,
                (now - b.since) / 1000,
                self.settings.stale_after_secs,
                b.target
            ),
            fix,
        )
        .raise(self.store(), now)
        .await
    }

    /// Cycles every `every_secs` (a full pass every `full_every_secs`, the first one at start)
    /// and checks freshness after each, until `shutdown`.
    pub async fn run(self, shutdown: tokio_util::sync::CancellationToken, heartbeat: crate::supervise::Heartbeat) {
        let every = std::time::Duration::from_secs(self.settings.every_secs);
        let full_every = self.settings.full_every_secs.max(self.settings.every_secs) as i64 * 1000;
        let mut last_full: Option<i64> = None;
        loop {
            let full = last_full.is_none_or(|t| self.queue.now() - t >= full_every);
            match self.cycle(full).await {
                Ok(r) => {
                    heartbeat.ok();
                    if full {
                        last_full = Some(self.queue.now());
                    }
                    tracing::info!(
                        full,
                        read = r.rows_read,
                        changed = r.skus_changed,
                        pushed = r.pushed,
                        woo_requests = r.woo_requests,
                        rejected = r.rejected,
                        "stock cycle"
                    );
                }
                Err(e) => tracing::warn!(error = %e, "stock cycle failed"),
            }
            if let Err(e) = self.check_freshness().await {
                tracing::warn!(error = %e, "stock freshness check failed");
            }
            tokio::select! { _ = shutdown.cancelled() => return, _ = tokio::time::sleep(every) => {} }
        }
    }

    /// `woo.product`: a product changed in WooCommerce (not by a checkout): compare its stock.
    pub(super) async fn product_job(&self, job: &ClaimedJob) -> Outcome {
        let Some(id) = JobKind::WooProduct.id_of(&job.entity_key) else {
            return Outcome::Dead {
                error: format!("{} job for {:?}: not a `product:<id>` key", JobKind::WooProduct, job.entity_key),
            };
        };
        match self.check_drift(id).await {
            Ok(DriftCheck::Suspect(_)) => Outcome::RetryAfter {
                error: "WooCommerce's stock differs from wns's; checking again after the grace period".into(),
                after: std::time::Duration::from_secs(self.settings.drift_grace_secs),
            },
            Ok(_) => Outcome::Done,
            Err(StockError::Woo(WooError::Api { status: 404, .. })) => Outcome::Done,
            Err(e) => match &e {
                StockError::Woo(w) if matches!(w.class(), ErrorClass::Fatal) => Outcome::Dead { error: e.to_string() },
                _ => Outcome::Retry { error: e.to_string() },
            },
        }
    }

    /// Compares WooCommerce's stock of product/variation `id` with wns's figure. A difference
    /// is drift only when it is the same after `drift_grace_secs`: orders whose webhooks are
    /// still on their way explain a passing one.
    pub async fn check_drift(&self, id: u64) -> Result<DriftCheck, StockError> {
        let p = self.woo.product(id).await?;
        let (Some(woo), true) = (p.stock_quantity, p.manage_stock.is_managed()) else { return Ok(DriftCheck::InStep) };
        let row =
            sqlx::query("select netsuite_item_id, drift_suspect, drift_suspect_at from stock_items where sku = $1")
                .bind(&p.sku)
                .fetch_optional(self.store().pool())
                .await?;
        let Some(row) = row else { return Ok(DriftCheck::InStep) };
        let (item, suspect, suspect_at): (String, Option<i64>, Option<i64>) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let now = self.queue.now();
        // NetSuite's figure is the last read's: count in flight what that read did not reflect
        // (an order posted since it is still in its figure), not what is unposted now.
        let read_at = crate::store::watermarks::get(self.store(), LAST_CYCLE).await?.unwrap_or(now);
        let Some(f) = self.figures(&BTreeSet::from([item]), read_at).await?.into_iter().next() else {
            return Ok(DriftCheck::InStep);
        };
        let expected = f.target(self.settings.reserve_in_flight);
        let diff = woo - expected;
        let entity = format!("sku:{}", p.sku);
        if diff == 0 {
            self.suspect(&p.sku, None, now).await?;
            crate::monitor::exceptions::resolve(
                self.store(),
                ExceptionKind::StockDrift,
                &entity,
                Resolution::StockCorrected,
                now,
            )
            .await?;
            return Ok(DriftCheck::InStep);
        }
        let grace = self.settings.drift_grace_secs as i64 * 1000;
        let confirmed = suspect == Some(diff) && suspect_at.is_some_and(|t| now - t >= grace);
        if !confirmed {
            if suspect != Some(diff) {
                self.suspect(&p.sku, Some(diff), now).await?;
            }
            return Ok(DriftCheck::Suspect(diff));
        }
        Exception::new(
            ExceptionKind::StockDrift,
            entity,
            format!(
                "SKU {}: WooCommerce shows {woo} in stock, wns expects {expected} (NetSuite {} − in flight {} − buffer {})",
                p.sku, f.ns_available, f.in_flight, f.buffer
            ),
            if self.settings.correct_drift {
                "wns wrote its figure back; find who edits stock in WooCommerce (a person in wp-admin, another plugin) — NetSuite is the master."
            } else {
                "Find who edits stock in WooCommerce (a person in wp-admin, another plugin): NetSuite is the master. Set stock.correct_drift = true to have wns write its figure back."
            },
        )
        .raise(self.store(), now)
        .await?;
        if self.settings.correct_drift {
            let key = format!("wns:drift:{}:{now}", p.sku);
            self.woo.adjust_stock(&[StockDelta { sku: p.sku.clone(), delta: -diff, idempotency_key: key }]).await?;
        }
        self.suspect(&p.sku, None, now).await?;
        Ok(DriftCheck::Drift(diff))
    }

    pub(super) async fn suspect(&self, sku: &str, diff: Option<i64>, now: i64) -> Result<(), sqlx::Error> {
        sqlx::query("update stock_items set drift_suspect = $1, drift_suspect_at = $2 where sku = $3")
            .bind(diff)
            .bind(diff.map(|_| now))
            .bind(sku)
            .execute(self.store().pool())
            .await?;
        Ok(())
    }

    /// After a full pass: SKUs whose WooCommerce stock (as listed, or as the write just answered)
    /// is not wns's figure become drift suspects, checked again by a `woo.product` job after the
    /// grace period (a checkout in between explains a passing difference); those showing wns's
    /// figure close their `stock_drift` (someone corrected the stock, with no webhook seen).
    pub(super) async fn suspects_after_reconciliation(&self, written: &BTreeSet<String>) -> Result<usize, sqlx::Error> {
        let rows = sqlx::query(
            "select s.sku, s.target, s.confirmed, c.stock, c.wc_id from stock_items s \
             join wc_catalogue c on c.sku = s.sku where c.manage_stock = 1",
        )
        .fetch_all(self.store().pool())
        .await?;
        let now = self.queue.now();
        let mut n = 0;
        let mut in_step = Vec::new();
        for r in rows {
            let (sku, target, confirmed, listed, wc_id): (String, i64, Option<i64>, Option<i64>, i64) =
                (r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?);
            // Written this cycle: what WooCommerce answered; otherwise what the listing showed.
            let woo = if written.contains(&sku) { confirmed } else { listed };
            let Some(woo) = woo else { continue };
            if woo == target {
                in_step.push(format!("sku:{sku}"));
                continue;
            }
            self.suspect(&sku, Some(woo - target), now).await?;
            let job = crate::queue::NewJob::new(
                JobKind::WooProduct,
                JobKind::WooProduct.key(wc_id),
                json!({ "topic": "reconciliation" }),
            )
            .run_after(now + self.settings.drift_grace_secs as i64 * 1000);
            self.queue.enqueue(job).await?;
            n += 1;
        }
        // Thousands of SKUs are in step, a few have drift open: look those up instead.
        let open: BTreeSet<String> =
            crate::monitor::exceptions::open_keys(self.store(), ExceptionKind::StockDrift).await?.into_iter().collect();
        let in_step: Vec<&str> = in_step.iter().filter(|k| open.contains(*k)).map(String::as_str).collect();
        crate::monitor::exceptions::resolve_any(
            self.store(),
            &[ExceptionKind::StockDrift],
            &in_step,
            Resolution::StockCorrected,
            now,
        )
        .await?;
        Ok(n)
    }
}
