//! Sales-order upserts in NetSuite's async batches when more orders wait than the account's
//! concurrency carries (`[sync.batch]`, off by default).
//!
//! **When.** Every sales-order upsert of the order flow goes through [`SalesOrderWriter::upsert`].
//! While fewer than `sync_slots` upserts are under way synchronously, it is one more synchronous
//! `PUT salesOrder/eid:…` (answered in one round trip). When that many are already under way — a
//! flash sale's backlog — the surplus joins an async batch instead: up to `max_records` (≤ 100)
//! records of one `PUT salesOrder` collection request with `Prefer: respond-async` and an
//! idempotency key, gathered for at most `linger_ms`, at most `max_jobs` batches under way at
//! once. The batches hold at most `max_jobs × max_records` records; beyond that an order goes the
//! synchronous way after all (waiting for the governor there still moves it sooner than waiting
//! behind full batches). Each order's job waits for its own record's result, so the job's
//! outcome, exceptions and retries are exactly the synchronous path's.
//!
//! **Results.** The job's status is polled every `poll_ms`. When NetSuite reports every task
//! `succeeded`, one SuiteQL query by external id gives the internal ids of the whole batch. When
//! any task failed (or a record is not found), the task results are read one by one, and each
//! record gets its own answer: **one bad record fails alone** — its order is blocked with the
//! same exception a synchronous refusal raises, the other 99 are posted.
//!
//! **Faults.** Every record is an upsert by external id, so a batch sent twice (a lost 202, a
//! crash after submitting) updates rather than duplicates; re-sending a lost submission reuses its
//! idempotency key and NetSuite points at the first job. A batch that fails as a whole (refused,
//! NetSuite unreachable, the job never visible) sends each of its orders back to the synchronous
//! path, which retries with its usual back-off.
//!
//! **Why it is off by default, and what it is worth.** NetSuite runs async jobs "within REST
//! Async Processors, according to the number of SuiteCloud Plus licenses" (Oracle) and integration
//! vendors report a batch's records being processed one after another. The batch adds the account's
//! async processors to its concurrency; it does not multiply it: with two processors beside a
//! limit of 5 at 200 ms a record, at most ×1.4 (see `docs/benchmarks.md`, flash-sale). It also
//! spends requests on polling and takes seconds per order instead of one round trip. Turn it on
//! when the account has SuiteCloud Plus processors that other integrations leave idle.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::netsuite::{
    ExternalId, Lane, NetSuiteClient, NsError, RecordRef,
    batch::MAX_BATCH,
    suiteql::{WindowedQuery, in_list},
};

/// `[sync.batch]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSettings {
    #[serde(default)]
    pub enabled: bool,
    /// Synchronous upserts under way before the next one joins a batch (the account's
    /// concurrency limit is a good value).
    #[serde(default = "default_sync_slots")]
    pub sync_slots: usize,
    /// Records per batch, 1–100.
    #[serde(default = "default_max_records")]
    pub max_records: usize,
    /// How long the first record of a batch waits for others.
    #[serde(default = "default_linger")]
    pub linger_ms: u64,
    /// How often a batch's job status is asked for.
    #[serde(default = "default_poll")]
    pub poll_ms: u64,
    /// Batches under way at once.
    #[serde(default = "default_max_jobs")]
    pub max_jobs: usize,
}

fn default_sync_slots() -> usize {
    5
}
fn default_max_records() -> usize {
    MAX_BATCH
}
fn default_linger() -> u64 {
    500
}
fn default_poll() -> u64 {
    1_000
}
fn default_max_jobs() -> usize {
    4
}

impl Default for BatchSettings {
    fn default() -> BatchSettings {
        BatchSettings {
            enabled: false,
            sync_slots: default_sync_slots(),
            max_records: default_max_records(),
            linger_ms: default_linger(),
            poll_ms: default_poll(),
            max_jobs: default_max_jobs(),
        }
    }
}

impl BatchSettings {
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(1..=MAX_BATCH).contains(&self.max_records) {
            return Err((
                "sync.batch.max_records",
                format!("{} is outside 1–{MAX_BATCH} (NetSuite's batch limit)", self.max_records),
            ));
        }
        if self.max_jobs == 0 || self.poll_ms == 0 {
            return Err(("sync.batch", "max_jobs and poll_ms must be at least 1".into()));
        }
        Ok(())
    }
}

struct Pending {
    eid: ExternalId,
    body: Value,
    /// `None`: the batch failed as a whole; the caller goes the synchronous way.
    reply: oneshot::Sender<Option<Result<RecordRef, NsError>>>,
}

#[derive(Clone)]
pub struct SalesOrderWriter {
    inner: Arc<Inner>,
}

struct Inner {
    ns: NetSuiteClient,
    settings: BatchSettings,
    in_sync: AtomicUsize,
    /// Records waiting for or in a batch.
    in_batch: AtomicUsize,
    batches: AtomicUsize,
    collector: OnceLock<mpsc::UnboundedSender<Pending>>,
}

/// Holds one count of an upsert under way (synchronous, or in a batch) until dropped.
struct Counted<'a>(&'a AtomicUsize);

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl SalesOrderWriter {
    pub fn new(ns: NetSuiteClient, settings: BatchSettings) -> SalesOrderWriter {
        SalesOrderWriter {
            inner: Arc::new(Inner {
                ns,
                settings,
                in_sync: AtomicUsize::new(0),
                in_batch: AtomicUsize::new(0),
                batches: AtomicUsize::new(0),
                collector: OnceLock::new(),
            }),
        }
    }

    /// Async batches submitted so far (for logs, tests and the benchmark).
    pub fn batches_submitted(&self) -> usize {
        self.inner.batches.load(Ordering::SeqCst)
    }

    /// Upserts the sales order `eid`; see the module comment for which way it goes.
    pub async fn upsert(&self, eid: &ExternalId, body: &Value) -> Result<RecordRef, NsError> {
        let s = &self.inner.settings;
        // Take a synchronous slot if one is free (one atomic step, so a burst cannot overshoot).
        let slot = self
            .inner
            .in_sync
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < s.sync_slots).then_some(n + 1));
        // Then a place in the batches, if they have room: records beyond what the batches under
        // way and the next ones can hold would only wait there while the synchronous path, slow
        // as it is under a backlog, still moves.
        let room = s.max_jobs * s.max_records;
        let placed = slot.is_err()
            && s.enabled
            && self
                .inner
                .in_batch
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| (n < room).then_some(n + 1))
                .is_ok();
        if placed {
            let _placed = Counted(&self.inner.in_batch);
            let (reply, answer) = oneshot::channel();
            if self.collector().send(Pending { eid: eid.clone(), body: body.clone(), reply }).is_ok()
                && let Ok(Some(result)) = answer.await
            {
                return result;
            }
        }
        if slot.is_err() {
            // No free slot, and batches off or this order sent back by its batch: it waits for
            // the governor like any synchronous upsert, counted like one.
            self.inner.in_sync.fetch_add(1, Ordering::SeqCst);
        }
        let _counted = Counted(&self.inner.in_sync);
        self.inner.ns.upsert(Lane::Orders, "salesOrder", eid, body).await
    }

    fn collector(&self) -> &mpsc::UnboundedSender<Pending> {
        self.inner.collector.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(collect(self.inner.clone(), rx));
            tx
        })
    }
}

/// Gathers pending records into batches and runs each batch on its own task.
async fn collect(inner: Arc<Inner>, mut rx: mpsc::UnboundedReceiver<Pending>) {
    let s = inner.settings.clone();
    let under_way = Arc::new(Semaphore::new(s.max_jobs));
    loop {
        // A slot first: while every batch is under way, records keep gathering in the channel.
        let Ok(slot) = under_way.clone().acquire_owned().await else { return };
        let Some(first) = rx.recv().await else { return };
        let mut batch = vec![first];
        let until = tokio::time::Instant::now() + Duration::from_millis(s.linger_ms);
        while batch.len() < s.max_records {
            match tokio::time::timeout_at(until, rx.recv()).await {
                Ok(Some(p)) if batch.iter().any(|b| b.eid == p.eid) => {
                    // The same order twice in one collection request would be ambiguous.
                    let _ = p.reply.send(None);
                }
                Ok(Some(p)) => batch.push(p),
                Ok(None) | Err(_) => break,
            }
        }
        let inner = inner.clone();
        tokio::spawn(async move {
            inner.batches.fetch_add(1, Ordering::SeqCst);
            let records: Vec<(ExternalId, Value)> = batch.iter().map(|p| (p.eid.clone(), p.body.clone())).collect();
            match run_batch(&inner, &records).await {
                Ok(results) => {
                    for (p, r) in batch.into_iter().zip(results) {
                        let _ = p.reply.send(Some(r));
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, records = records.len(), "async sales-order batch failed as a whole; its orders go the synchronous way");
                    for p in batch {
                        let _ = p.reply.send(None);
                    }
                }
            }
            drop(slot);
        });
    }
}

/// Submits one batch, waits for it, and returns each record's result in order.
async fn run_batch(inner: &Inner, records: &[(ExternalId, Value)]) -> Result<Vec<Result<RecordRef, NsError>>, NsError> {
    let ns = &inner.ns;
    let job = ns.submit_batch_upsert(Lane::Orders, "salesOrder", records).await?;
    let poll = Duration::from_millis(inner.settings.poll_ms);
    // A job of up to 100 records is never done at once: the first look waits one interval.
    tokio::time::sleep(poll).await;
    let status = ns.wait_for_job(Lane::Orders, &job, poll).await?;
    if status.progress == "succeeded" {
        let eids: Vec<&str> = records.iter().map(|(e, _)| e.as_str()).collect();
        let q = WindowedQuery::new("SELECT id, externalid FROM transaction", "id")
            .and(format!("externalid IN {}", in_list(eids.iter().copied())));
        let ids: BTreeMap<String, String> = ns
            .suiteql_all(Lane::Orders, &q)
            .await?
            .into_iter()
            .filter_map(|r| Some((r.get("externalid")?.to_string(), r.get("id")?.to_string())))
            .collect();
        if eids.iter().all(|e| ids.contains_key(*e)) {
            return Ok(records
                .iter()
                .map(|(e, _)| Ok(RecordRef { record_type: "salesOrder".into(), id: ids[e.as_str()].clone() }))
                .collect());
        }
    }
    Ok(ns.job_results(Lane::Orders, "salesOrder", &job, records).await?.into_iter().map(|r| r.result).collect())
}
