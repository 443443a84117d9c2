//! The webhook receiver's rules. A delivery is stored, raw, before it is answered — and, when it
//! is accepted, its job is enqueued in the same transaction — so a crash after our 200 loses
//! nothing, and a crash before it means WooCommerce saw a failure (and the sweep catches up).
//!
//! - The creation ping (`webhook_id=N`, form-encoded, unsigned) → 200.
//! - `X-WC-Webhook-Signature` is base64(HMAC-SHA256(secret, raw body)), compared in constant
//!   time before the body is parsed. Missing or wrong → 401, kept in quarantine, never processed,
//!   and never the cause of any write to WooCommerce (its headers are anyone's to forge). The
//!   quarantine is bounded ([`QUARANTINE_ROWS`] deliveries and [`QUARANTINE_BYTES`], the oldest
//!   dropped first), rate-limited per source (beyond [`QUARANTINE_PER_MINUTE`] a minute → 429,
//!   not stored), and raises one counted `webhook_unsigned` exception.
//! - Valid signature, body not JSON → 400, kept, exception raised (owner: ecommerce); it closes
//!   by itself (`webhook_delivered`) when a later delivery from the same webhook is accepted.
//! - A topic wns does not process → 202, kept.
//! - Otherwise one job per order or product (`woo.order` / `woo.product`): a burst of
//!   deliveries for one order collapses into one pending job. WooCommerce builds a payload at
//!   delivery time, so the job fetches the current state rather than trusting an old body.
//! - A delivery is a repeat when its topic, resource id and exact body were accepted before
//!   (`dedupe_key`), answered 200 without a second job. The delivery id is *not* a key:
//!   WooCommerce 7.9 makes it `wp_hash(webhook id . current second)`, so every delivery of one
//!   webhook within a second shares one, and a retry gets a new one. Every distinct delivery is
//!   kept and enqueued; the job's own idempotency does the rest.

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use tokio::sync::{mpsc, oneshot};

use crate::{
    monitor::{Exception, ExceptionKind},
    queue::{JobId, JobKind, NewJob, Queue},
    store::Backend,
};

/// What happened to a delivery, and so what to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ping,
    Accepted {
        delivery: i64,
        job: JobId,
    },
    Duplicate,
    Quarantined,
    /// Unsigned and over the source's quarantine rate: answered 429, not stored.
    RateLimited,
    Malformed,
    Ignored,
}

/// Quarantined deliveries kept at most, and their bodies' bytes at most; the oldest go first.
pub const QUARANTINE_ROWS: i64 = 1_000;
pub const QUARANTINE_BYTES: i64 = 16 << 20;
/// Unsigned deliveries stored per source and minute; more are answered 429 and not stored.
pub const QUARANTINE_PER_MINUTE: u32 = 60;

impl Verdict {
    pub fn status(&self) -> u16 {
        match self {
            Verdict::Ping | Verdict::Accepted { .. } | Verdict::Duplicate => 200,
            Verdict::Quarantined => 401,
            Verdict::RateLimited => 429,
            Verdict::Malformed => 400,
            Verdict::Ignored => 202,
        }
    }

    pub fn outcome(&self) -> &'static str {
        match self {
            Verdict::Ping => "ping",
            Verdict::Accepted { .. } => "accepted",
            Verdict::Duplicate => "duplicate",
            Verdict::Quarantined => "quarantined",
            Verdict::RateLimited => "rate_limited",
            Verdict::Malformed => "malformed",
            Verdict::Ignored => "ignored",
        }
    }
}

/// The one field of a delivery body the receiver reads.
#[derive(serde::Deserialize)]
struct ResourceId {
    id: Option<Value>,
    /// Orders only: what stock needs to know at once (see `sync::inventory`).
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    line_items: Vec<UnitLine>,
}

#[derive(serde::Deserialize)]
struct UnitLine {
    #[serde(default)]
    sku: String,
    #[serde(default)]
    quantity: i64,
}

/// An order's units as the delivery shows them: (holds stock, [(SKU, quantity)]).
type Units = (bool, Vec<(String, i64)>);

/// The headers the receiver reads, lower-case names.
#[derive(Debug, Default, Clone)]
pub struct DeliveryHeaders {
    pub signature: Option<String>,
    pub topic: Option<String>,
    pub delivery_id: Option<String>,
    pub webhook_id: Option<String>,
    pub source: Option<String>,
    pub user_agent: Option<String>,
    /// The peer's address, when the server knows it: the key of the quarantine's rate limit.
    pub peer: Option<std::net::IpAddr>,
}

impl DeliveryHeaders {
    pub fn from_http(h: &axum::http::HeaderMap) -> DeliveryHeaders {
        let get = |name: &str| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        DeliveryHeaders {
            signature: get("x-wc-webhook-signature"),
            topic: get("x-wc-webhook-topic"),
            delivery_id: get("x-wc-webhook-delivery-id"),
            webhook_id: get("x-wc-webhook-id"),
            source: get("x-wc-webhook-source"),
            user_agent: get("user-agent"),
            peer: None,
        }
    }

    fn as_json(&self) -> String {
        json!({
            "x-wc-webhook-signature": self.signature, "x-wc-webhook-topic": self.topic,
            "x-wc-webhook-delivery-id": self.delivery_id, "x-wc-webhook-id": self.webhook_id,
            "x-wc-webhook-source": self.source, "user-agent": self.user_agent,
        })
        .to_string()
    }
}

/// base64(HMAC-SHA256(secret, body)) equals `signature`, compared in constant time.
pub fn signature_valid(secret: &SecretString, body: &[u8], signature: &str) -> bool {
    let Ok(expected) = BASE64.decode(signature.trim()) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// What a delivery is, for telling a repeat from a new delivery: sha256 over the topic, the
/// resource id and the exact body, hex. Two deliveries of one order in the same state are one;
/// anything that changed the order changes its body (`date_modified_gmt` at least).
pub fn dedupe_key(topic: &str, resource_id: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    for part in [topic.as_bytes(), b"\0", resource_id.as_bytes(), b"\0", body] {
        h.update(part);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The job a topic causes.
fn job_for(topic: &str) -> Option<JobKind> {
    match topic {
        "order.created" | "order.updated" | "order.deleted" | "order.restored" => Some(JobKind::WooOrder),
        "product.created" | "product.updated" | "product.deleted" | "product.restored" => Some(JobKind::WooProduct),
        _ => None,
    }
}

fn is_ping(h: &DeliveryHeaders, body: &[u8]) -> bool {
    h.signature.is_none()
        && h.topic.is_none()
        && std::str::from_utf8(body)
            .ok()
            .and_then(|b| b.trim().strip_prefix("webhook_id="))
            .is_some_and(|id| !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()))
}

/// Accepted deliveries go to one writer task that commits them in groups: every delivery is
/// still durable before its answer, but concurrent deliveries share one transaction (SQLite has
/// one writer; one commit per delivery would cap the receiver at a few hundred per second).
pub struct Receiver {
    queue: Queue,
    writer: mpsc::Sender<Accept>,
    /// Per source: the minute (ms) and how many unsigned deliveries were stored in it.
    quarantine_rate: std::sync::Mutex<std::collections::HashMap<String, (i64, u32)>>,
    /// Whether a `webhook_malformed` exception may be open: accepted deliveries close those of
    /// their webhook, and look only while this is set (so the receiver's hot path reads nothing
    /// more when all is well).
    malformed_open: Arc<AtomicBool>,
    /// Set once the log has said that no webhook secret is configured.
    warned_no_secret: AtomicBool,
}

/// A delivery that passed every check, waiting for the writer.
struct Accept {
    dedupe_key: String,
    headers: DeliveryHeaders,
    topic: String,
    resource_id: String,
    kind: JobKind,
    entity_key: String,
    body: Vec<u8>,
    units: Option<Units>,
    done: oneshot::Sender<Result<Verdict, sqlx::Error>>,
}

/// Deliveries committed together at most; more wait for the next transaction.
const GROUP: usize = 256;

impl Receiver {
    /// Starts the writer task; it ends when the receiver is dropped.
    pub fn new(queue: Queue) -> Receiver {
        let (writer, rx) = mpsc::channel(4 * GROUP);
        // SQLite has one writer, so one task; PostgreSQL commits in parallel, and its round trips
        // cost more, so several tasks share the channel.
        let writers = match queue.store().backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        // Unknown at start (a previous run may have left one open): the first group looks.
        let malformed_open = Arc::new(AtomicBool::new(true));
        for _ in 0..writers {
            tokio::spawn(write_groups(queue.clone(), rx.clone(), malformed_open.clone()));
        }
        Receiver {
            queue,
            writer,
            quarantine_rate: Default::default(),
            malformed_open,
            warned_no_secret: Default::default(),
        }
    }

    /// `secret`: `None` when WooCommerce is not configured, and every delivery is quarantined.
    pub async fn receive(
        &self,
        h: &DeliveryHeaders,
        body: &[u8],
        secret: Option<&SecretString>,
    ) -> Result<Verdict, sqlx::Error> {
        if is_ping(h, body) {
            self.keep(h, body, "ping", None).await?;
            return Ok(Verdict::Ping);
        }
        let signed = match (secret, &h.signature) {
            (Some(secret), Some(sig)) => signature_valid(secret, body, sig),
            _ => false,
        };
        if !signed {
            return self.quarantine(h, body, secret.is_some()).await;
        }
        let topic = h.topic.clone().unwrap_or_default();
        // The whole body is validated as JSON, but only `id` is kept: the job reads the order
        // itself, and building a full tree of a 5 KB order for every delivery costs time.
        let Ok(payload) = serde_json::from_slice::<ResourceId>(body) else {
            self.malformed(h, body, &topic, "is not JSON").await?;
            return Ok(Verdict::Malformed);
        };
        let Some(kind) = job_for(&topic) else {
            self.keep(h, body, "ignored", None).await?;
            return Ok(Verdict::Ignored);
        };
        // WooCommerce ids are positive integers (a number, or its digits as a string).
        let resource_id = payload
            .id
            .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
            .filter(|id| *id > 0)
            .map(|id| id.to_string());
        let Some(resource_id) = resource_id else {
            self.malformed(h, body, &topic, "has no order or product id (a positive whole number in `id`)").await?;
            return Ok(Verdict::Malformed);
        };
        let dedupe_key = dedupe_key(&topic, &resource_id, body);
        // An order's units count as in flight for stock from the moment its webhook is stored.
        let units = (kind == JobKind::WooOrder && !topic.ends_with(".deleted")).then(|| {
            let holds = payload.status.as_deref().is_some_and(super::model::holds_stock);
            let lines = payload.line_items.iter().filter(|l| !l.sku.is_empty()).map(|l| (l.sku.clone(), l.quantity));
            (holds, lines.collect())
        });
        let (done, verdict) = oneshot::channel();
        let accept = Accept {
            dedupe_key,
            headers: h.clone(),
            topic,
            entity_key: kind.key(&resource_id),
            resource_id,
            kind,
            body: body.to_vec(),
            units,
            done,
        };
        if self.writer.send(accept).await.is_err() {
            return Err(sqlx::Error::PoolClosed);
        }
        verdict.await.unwrap_or(Err(sqlx::Error::PoolClosed))
    }

    async fn keep(
        &self,
        h: &DeliveryHeaders,
        body: &[u8],
        status: &str,
        topic: Option<&str>,
    ) -> Result<i64, sqlx::Error> {
        let row = sqlx::query(
            "insert into webhook_deliveries (delivery_id, webhook_id, topic, status, headers, body, received_at) \
             values ($1, $2, $3, $4, $5, $6, $7) returning id",
        )
        .bind(&h.delivery_id)
        .bind(&h.webhook_id)
        .bind(topic.map(str::to_string).or_else(|| h.topic.clone()))
        .bind(status)
        .bind(h.as_json())
        .bind(body.to_vec())
        .bind(self.queue.now())
        .fetch_one(self.queue.store().pool())
        .await?;
        row.try_get(0)
    }

    /// Source of an unsigned delivery for the rate limit: the peer, else what it says it is.
    fn allow_quarantine(&self, h: &DeliveryHeaders) -> bool {
        let source = h.peer.map(|p| p.to_string()).or_else(|| h.source.clone()).unwrap_or_default();
        let minute = self.queue.now() / 60_000;
        let mut rate = self.quarantine_rate.lock().expect("rate lock");
        if rate.len() > 10_000 {
            rate.retain(|_, (m, _)| *m == minute);
        }
        let (m, n) = rate.entry(source).or_insert((minute, 0));
        if *m != minute {
            (*m, *n) = (minute, 0);
        }
        *n += 1;
        *n <= QUARANTINE_PER_MINUTE
    }

    async fn quarantine(&self, h: &DeliveryHeaders, body: &[u8], configured: bool) -> Result<Verdict, sqlx::Error> {
        if !self.allow_quarantine(h) {
            return Ok(Verdict::RateLimited);
        }
        let id = self.keep(h, body, "quarantined", None).await?;
        let dropped = self.trim_quarantine().await?;
        if !configured && !self.warned_no_secret.swap(true, std::sync::atomic::Ordering::Relaxed) {
            tracing::warn!(
                "a WooCommerce webhook delivery arrived but no webhook secret is configured ([woocommerce] webhook_secret): every delivery is kept unprocessed until it is"
            );
        }
        let claimed = h.webhook_id.as_deref().map(|w| format!(" claiming webhook {w}")).unwrap_or_default();
        let from = h.peer.map(|p| format!(" from {p}")).unwrap_or_default();
        let (message, fix) = if configured {
            (
                format!(
                    "A delivery{claimed}{from} failed the signature check; it was kept as delivery {id} and not processed{}",
                    if dropped > 0 { format!(" ({dropped} older quarantined deliveries dropped to stay within {QUARANTINE_ROWS} deliveries / {} MiB)", QUARANTINE_BYTES >> 20) } else { String::new() }
                ),
                "If it claims one of wns's webhooks, its secret was changed in WooCommerce: delete that webhook in WooCommerce > Settings > Advanced > Webhooks and wns creates it again with its own secret at its next webhook check. Otherwise something else posts to wns's webhook address: block it at the proxy.".to_string(),
            )
        } else {
            (
                format!("A webhook delivery{claimed}{from} arrived but wns has no webhook secret, so nothing can be verified; it was kept as delivery {id} and not processed"),
                "Configure [woocommerce] (webhook_secret and the store's keys) in wns.toml and restart wns; the sweep then catches up the orders.".to_string(),
            )
        };
        Exception::new(ExceptionKind::WebhookUnsigned, "quarantine", message, fix)
            .raise(self.queue.store(), self.queue.now())
            .await?;
        Ok(Verdict::Quarantined)
    }

    /// Drops the oldest quarantined deliveries beyond the count and byte bounds.
    async fn trim_quarantine(&self) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(
            "delete from webhook_deliveries where id in (select id from (select id, \
             row_number() over (order by id desc) as n, sum(length(body)) over (order by id desc) as bytes \
             from webhook_deliveries where status = 'quarantined') t where n > $1 or bytes > $2)",
        )
        .bind(QUARANTINE_ROWS)
        .bind(QUARANTINE_BYTES)
        .execute(self.queue.store().pool())
        .await?;
        Ok(done.rows_affected())
    }

    /// `problem`: what is wrong with the body, in words (`is not JSON`).
    async fn malformed(&self, h: &DeliveryHeaders, body: &[u8], topic: &str, problem: &str) -> Result<(), sqlx::Error> {
        let id = self.keep(h, body, "malformed", Some(topic)).await?;
        let exception = Exception::new(
            ExceptionKind::WebhookMalformed,
            format!("delivery:{id}"),
            format!(
                "WooCommerce sent a correctly signed {topic} webhook (delivery {}) whose body {problem}; it was kept as delivery {id} and not processed",
                h.delivery_id.as_deref().unwrap_or("without id")
            ),
            "A plugin is probably printing output into WooCommerce's webhook payloads. Find it (disable plugins one by one on a staging copy); the order itself is caught up by the next sweep.",
        );
        let mut conn = self.queue.store().pool().acquire().await?;
        exception.raise_in(&mut conn, self.queue.now()).await?;
        // After the row is committed, so a writer that cleared the flag before sees one or the other.
        self.malformed_open.store(true, Ordering::Release);
        Ok(())
    }
}

async fn write_groups(
    queue: Queue,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Accept>>>,
    malformed_open: Arc<AtomicBool>,
) {
    loop {
        let group = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else { return };
            let mut group = vec![first];
            while group.len() < GROUP {
                match rx.try_recv() {
                    Ok(a) => group.push(a),
                    Err(_) => break,
                }
            }
            group
        };
        match write_group(&queue, &group).await {
            Ok(verdicts) => {
                let mut accepted = Vec::new();
                for (a, v) in group.into_iter().zip(verdicts) {
                    if let Verdict::Accepted { delivery, .. } = v {
                        accepted.push(Source {
                            webhook_id: a.headers.webhook_id.clone(),
                            topic: a.topic.clone(),
                            delivery,
                        });
                    }
                    let _ = a.done.send(Ok(v));
                }
                // Answered first; then what these deliveries prove fixed.
                if !accepted.is_empty() && malformed_open.swap(false, Ordering::AcqRel) {
                    let still_open = close_malformed(&queue, &accepted).await.unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "closing webhook_malformed exceptions failed");
                        true
                    });
                    if still_open {
                        malformed_open.store(true, Ordering::Release);
                    }
                }
            }
            Err(e) => {
                // One bad apple must not fail the others: write them one by one.
                tracing::warn!(error = %e, n = group.len(), "group write of webhook deliveries failed; writing singly");
                for a in group {
                    let result = write_group(&queue, std::slice::from_ref(&a)).await.map(|mut v| v.remove(0));
                    let _ = a.done.send(result);
                }
            }
        }
    }
}

/// Which webhook an accepted delivery came from, and its row.
struct Source {
    webhook_id: Option<String>,
    topic: String,
    delivery: i64,
}

/// Closes the open `webhook_malformed` exceptions of deliveries from a webhook that has since had
/// one of `accepted` go through: WooCommerce's payloads from it are whole again (see
/// `monitor::exceptions`). A webhook is its `X-WC-Webhook-ID`; without one, its topic. Returns
/// whether any stay open.
async fn close_malformed(queue: &Queue, accepted: &[Source]) -> Result<bool, sqlx::Error> {
    use crate::monitor::exceptions::{self, Resolution};
    let open = exceptions::open_keys(queue.store(), ExceptionKind::WebhookMalformed).await?;
    let ids: Vec<i64> = open.iter().filter_map(|k| k.strip_prefix("delivery:")?.parse().ok()).collect();
    if ids.is_empty() {
        return Ok(!open.is_empty());
    }
    let mut closing = Vec::new();
    for chunk in ids.chunks(500) {
        let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!("select id, webhook_id, topic from webhook_deliveries where id in ({})", params.join(", "));
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for row in q.fetch_all(queue.store().pool()).await? {
            let (id, webhook_id, topic): (i64, Option<String>, Option<String>) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            let same = |s: &Source| match &webhook_id {
                Some(w) => s.webhook_id.as_ref() == Some(w),
                None => Some(&s.topic) == topic.as_ref(),
            };
            if accepted.iter().any(|s| s.delivery > id && same(s)) {
                closing.push(format!("delivery:{id}"));
            }
        }
    }
    let keys: Vec<&str> = closing.iter().map(String::as_str).collect();
    let closed = exceptions::resolve_any(
        queue.store(),
        &[ExceptionKind::WebhookMalformed],
        &keys,
        Resolution::WebhookDelivered,
        queue.now(),
    )
    .await?;
    Ok((closed as usize) < open.len())
}

/// Stores each delivery (a repeat of an accepted one is a duplicate) and enqueues its job, all
/// in one transaction, in few statements: one multi-row insert that tells the new deliveries
/// from repeats, one enqueue per new delivery, one update linking deliveries to their jobs.
/// The transaction writes first: on SQLite a transaction that reads first and writes later is
/// refused at once (SQLITE_BUSY) when another connection writes meanwhile, instead of waiting.
async fn write_group(queue: &Queue, group: &[Accept]) -> Result<Vec<Verdict>, sqlx::Error> {
    let now = queue.now();
    let mut tx = queue.store().pool().begin().await?;
    // The first of each distinct delivery in the group; later copies are duplicates.
    let mut first: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, a) in group.iter().enumerate() {
        first.entry(a.dedupe_key.as_str()).or_insert(i);
    }
    let mut order: Vec<usize> = first.values().copied().collect();
    order.sort_unstable();
    let rows: Vec<String> = (0..order.len())
        .map(|r| {
            let p = |k: usize| format!("${}", r * 8 + k);
            format!("({}, {}, {}, {}, {}, 'accepted', {}, {}, {})", p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8))
        })
        .collect();
    let insert = format!(
        "insert into webhook_deliveries (dedupe_key, delivery_id, webhook_id, topic, resource_id, status, headers, body, received_at) \
         values {} on conflict (dedupe_key) where status = 'accepted' do nothing returning id, dedupe_key",
        rows.join(", ")
    );
    let mut q = sqlx::query(&insert);
    for i in &order {
        let a = &group[*i];
        q = q
            .bind(&a.dedupe_key)
            .bind(&a.headers.delivery_id)
            .bind(&a.headers.webhook_id)
            .bind(&a.topic)
            .bind(&a.resource_id)
            .bind(a.headers.as_json())
            .bind(&a.body)
            .bind(now);
    }
    let mut stored: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    for row in q.fetch_all(&mut *tx).await? {
        stored.insert(row.try_get(1)?, row.try_get(0)?);
    }
    // New deliveries cause their jobs (and, for orders, their units in flight).
    let mut jobs: std::collections::HashMap<usize, (i64, JobId)> = std::collections::HashMap::new();
    for i in &order {
        let a = &group[*i];
        let Some(delivery) = stored.get(&a.dedupe_key) else { continue };
        let payload = json!({ "topic": a.topic, "delivery": delivery });
        let job = queue.enqueue_in(&mut tx, NewJob::new(a.kind, a.entity_key.clone(), payload)).await?;
        if let (Some((holds, lines)), Ok(order_id)) = (&a.units, a.resource_id.parse::<u64>()) {
            crate::store::order_units::record_in(&mut tx, order_id, lines, *holds, now).await?;
        }
        jobs.insert(*i, (*delivery, job));
    }
    if !jobs.is_empty() {
        let mut cases = String::new();
        let mut ids = Vec::new();
        for (delivery, job) in jobs.values() {
            cases.push_str(&format!(" when {delivery} then {}", job.0));
            ids.push(delivery.to_string());
        }
        sqlx::query(&format!(
            "update webhook_deliveries set job_id = case id{cases} end where id in ({})",
            ids.join(", ")
        ))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(group
        .iter()
        .enumerate()
        .map(|(i, _)| match jobs.get(&i) {
            Some((delivery, job)) => Verdict::Accepted { delivery: *delivery, job: *job },
            // A repeat, in this group or stored before.
            None => Verdict::Duplicate,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every delivery recorded from WooCommerce 7.9 in `fixtures/woocommerce/webhooks/`
    /// (name, headers, exact body bytes) and the secret they were signed with.
    fn recorded_deliveries() -> (SecretString, Vec<(String, Value, Vec<u8>)>) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/woocommerce/webhooks");
        let read = |name: &std::path::Path| -> Value {
            serde_json::from_slice(&std::fs::read(name).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", name.display()))
        };
        let secret = read(&dir.join("_secret.json"))["secret"].as_str().unwrap().to_string();
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json") && !p.file_name().unwrap().to_string_lossy().starts_with('_')
            })
            .collect();
        names.sort();
        let deliveries = names
            .iter()
            .map(|p| {
                let d = read(p);
                let body = d["raw_body"].as_str().unwrap().as_bytes().to_vec();
                (p.file_name().unwrap().to_string_lossy().into_owned(), d["headers"].clone(), body)
            })
            .collect();
        (SecretString::from(secret), deliveries)
    }

    #[test]
    fn the_recorded_signature_verifies_and_a_changed_byte_does_not() {
        let (secret, deliveries) = recorded_deliveries();
        let other = SecretString::from("wns-fixture-secret-7f3b");
        let mut signed = 0;
        for (name, headers, body) in &deliveries {
            // The recorded Content-Length says these are the bytes WooCommerce sent.
            let length: usize = headers["Content-Length"].as_str().unwrap().parse().unwrap();
            assert_eq!(body.len(), length, "{name}: raw_body is not the delivered bytes");
            let Some(signature) = headers["X-WC-Webhook-Signature"].as_str() else {
                // Only WooCommerce's creation ping goes unsigned.
                assert!(is_ping(&DeliveryHeaders::default(), body), "{name}: unsigned but not a ping");
                continue;
            };
            signed += 1;
            assert!(signature_valid(&secret, body, signature), "{name}: the recorded signature does not verify");
            for at in [0, body.len() / 2, body.len() - 1] {
                let mut changed = body.clone();
                changed[at] ^= 0x01;
                assert!(!signature_valid(&secret, &changed, signature), "{name}: byte {at} changed, still verifies");
            }
            let mut longer = body.clone();
            longer.push(b'\n');
            assert!(!signature_valid(&secret, &longer, signature), "{name}: a trailing newline still verifies");
            assert!(!signature_valid(&other, body, signature), "{name}: verifies under another secret");
            assert!(!signature_valid(&secret, body, "not base64!"), "{name}: garbage base64 verifies");
            assert!(!signature_valid(&secret, body, ""), "{name}: an empty signature verifies");
        }
        assert!(signed >= 30, "only {signed} signed deliveries recorded in fixtures/woocommerce/webhooks");
        // One delivery's signature is not another's.
        let with_signature: Vec<_> =
            deliveries.iter().filter_map(|(_, h, b)| Some((h["X-WC-Webhook-Signature"].as_str()?, b))).collect();
        let (first, first_body) = with_signature[0];
        let (_, other_body) = with_signature.iter().find(|(_, b)| *b != first_body).unwrap();
        assert!(!signature_valid(&secret, other_body, first));
    }

    #[test]
    fn only_the_form_encoded_webhook_id_body_without_headers_is_a_ping() {
        let none = DeliveryHeaders::default();
        assert!(is_ping(&none, b"webhook_id=14"));
        assert!(!is_ping(&none, b"webhook_id="));
        assert!(!is_ping(&none, b"{\"id\":1}"));
        let signed = DeliveryHeaders { signature: Some("x".into()), ..Default::default() };
        assert!(!is_ping(&signed, b"webhook_id=14"));
    }
}
