//! Webhook delivery, shaped like WooCommerce's Action Scheduler queue: a change queues one
//! delivery per (webhook, resource) unless one is already pending (so bursts coalesce), the body
//! is built when the delivery runs (it shows the state *then*), and the outcome feeds the
//! webhook's failure count, which disables it after too many consecutive failures. There is no
//! retry: a failed or lost delivery is gone, as in WooCommerce.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use rand::Rng;
use serde::Serialize;
use tokio::sync::{Notify, Semaphore};
use tokio::time::Instant;

use super::crypto::{b64, hmac_sha256};
use super::error::WooError;
use super::hookshot;
use super::json::to_php_json;
use super::model::Webhook;
use super::store::{Hook, Store};
use super::view_order::{WC_VERSION, order_json};
use super::view_product::{Ctx, product_json};
use super::{DroppedDelivery, Inner, WooSim, webhooks};

pub(crate) const USER_AGENT: &str = "WooCommerce/7.9.0 Hookshot (WordPress/6.1.9)";
/// `wp_safe_remote_post`'s default timeout, which the creation ping uses.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Default)]
pub(crate) struct Outbox {
    state: Mutex<Queue>,
    notify: Notify,
    closed: AtomicBool,
    /// Taken off the queue and not finished yet.
    in_flight: AtomicUsize,
    /// Signalled whenever a delivery finishes (sent, failed or lost).
    finished: Notify,
}

#[derive(Default)]
struct Queue {
    items: VecDeque<Pending>,
    pending: HashSet<(u64, u64)>,
}

struct Pending {
    webhook_id: u64,
    arg: u64,
    due: Instant,
}

impl Outbox {
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }
}

impl WooSim {
    /// Queues the deliveries that `hooks` fire on active webhooks.
    pub(crate) fn enqueue(&self, hooks: Vec<Hook>) {
        if hooks.is_empty() {
            return;
        }
        let targets: Vec<(u64, u64)> = {
            let store = self.store();
            hooks
                .iter()
                .flat_map(|(topic, id)| {
                    store
                        .webhooks
                        .values()
                        .filter(|w| w.status == "active" && w.topic == *topic)
                        .map(move |w| (w.id, *id))
                })
                .collect()
        };
        if targets.is_empty() {
            return;
        }
        let due = Instant::now() + self.inner.cfg.webhook_delivery.delay;
        let (mut queued, mut coalesced) = (0, 0);
        {
            let mut q = self.inner.outbox.state.lock().expect("outbox lock");
            for (webhook_id, arg) in targets {
                if q.pending.insert((webhook_id, arg)) {
                    q.items.push_back(Pending { webhook_id, arg, due });
                    queued += 1;
                } else {
                    coalesced += 1;
                }
            }
        }
        self.count(|c| {
            c.webhooks_queued += queued;
            c.webhooks_coalesced += coalesced;
        });
        self.inner.outbox.notify.notify_one();
        self.ensure_dispatcher();
    }

    /// Starts the background sender once a Tokio runtime is around.
    pub(crate) fn ensure_dispatcher(&self) {
        if self.inner.dispatcher_started.load(Ordering::SeqCst) {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
        if !self.inner.dispatcher_started.swap(true, Ordering::SeqCst) {
            let concurrency = self.inner.cfg.webhook_delivery.concurrency.max(1);
            handle.spawn(dispatch(Arc::downgrade(&self.inner), self.inner.outbox.clone(), concurrency));
        }
    }

    /// Deliveries queued or in flight.
    pub fn pending_deliveries(&self) -> usize {
        let outbox = &self.inner.outbox;
        outbox.state.lock().expect("outbox lock").items.len() + outbox.in_flight.load(Ordering::SeqCst)
    }

    /// Waits until every queued delivery has been sent and answered, or lost (pings excluded):
    /// the drain step tests use instead of sleeping. Gives up after `timeout`; false then.
    pub async fn settle(&self, timeout: Duration) -> bool {
        let outbox = self.inner.outbox.clone();
        let wait = async {
            loop {
                let finished = outbox.finished.notified();
                if self.pending_deliveries() == 0 {
                    return;
                }
                finished.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }

    async fn deliver(&self, webhook_id: u64, arg: u64) {
        let loss = self.webhook_loss();
        let site = self.site_url();
        let lost = loss > 0.0 && self.inner.loss_rng.lock().expect("rng lock").random::<f64>() < loss;
        let prepared = {
            let store = self.store();
            let Some(webhook) = store.webhooks.get(&webhook_id).cloned() else { return };
            if lost {
                None
            } else {
                let body = payload(&store, &webhook, arg, &site);
                let id = delivery_id(webhook_id, store.now().timestamp());
                Some((webhook, body, id))
            }
        };
        let Some((webhook, body, delivery_id)) = prepared else {
            self.record_drop(webhook_id, arg);
            return;
        };
        let headers = delivery_headers(&webhook, &body, &delivery_id, &site);
        self.count(|c| c.webhooks_sent += 1);
        let timeout = self.inner.cfg.webhook_delivery.timeout;
        let outcome = hookshot::post(&webhook.delivery_url, &headers, &body, timeout).await;
        let success = matches!(outcome, Ok(code) if (200..303).contains(&code));
        tracing::debug!(webhook_id, arg, ?outcome, "webhook delivery");
        let max = self.inner.cfg.webhook_delivery.max_failures;
        let (ping, disabled) = self.with_store(|store| log_delivery(store, webhook_id, success, max));
        self.count(|c| {
            if success {
                c.webhooks_delivered += 1
            } else {
                c.webhooks_failed += 1
            }
            if disabled {
                c.webhooks_disabled += 1;
            }
        });
        if ping {
            self.spawn_ping(webhook_id);
        }
    }

    fn record_drop(&self, webhook_id: u64, resource_id: u64) {
        let topic = self.store().webhooks.get(&webhook_id).map(|w| w.topic.clone()).unwrap_or_default();
        self.count(|c| {
            c.webhooks_dropped += 1;
            *c.webhooks_dropped_by_topic.entry(topic.clone()).or_default() += 1;
        });
        self.inner.dropped.lock().expect("dropped lock").push(DroppedDelivery { webhook_id, topic, resource_id });
    }

    /// `deliver_ping`: form body `webhook_id=N`, no `X-WC-Webhook-*` headers; exactly 200 clears
    /// `pending_delivery`.
    pub(crate) fn spawn_ping(&self, webhook_id: u64) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
        let sim = self.clone();
        handle.spawn(async move { sim.ping(webhook_id).await });
    }

    pub(crate) async fn ping(&self, webhook_id: u64) {
        let Some(url) = self.store().webhooks.get(&webhook_id).map(|w| w.delivery_url.clone()) else { return };
        self.count(|c| c.pings_sent += 1);
        let headers = [
            ("User-Agent", USER_AGENT.to_owned()),
            ("Accept", "*/*".to_owned()),
            ("Accept-Encoding", "deflate, gzip, br, zstd".to_owned()),
            ("Referer", url.clone()),
            ("Content-Type", "application/x-www-form-urlencoded".to_owned()),
        ];
        let body = format!("webhook_id={webhook_id}");
        if let Ok(200) = hookshot::post(&url, &headers, body.as_bytes(), PING_TIMEOUT).await {
            self.with_store(|store| {
                if let Some(w) = store.webhooks.get_mut(&webhook_id) {
                    w.pending_delivery = false;
                }
                webhooks::save(store, webhook_id, false);
            });
        }
    }
}

async fn dispatch(inner: Weak<Inner>, outbox: Arc<Outbox>, concurrency: usize) {
    let slots = Arc::new(Semaphore::new(concurrency));
    loop {
        if outbox.closed.load(Ordering::SeqCst) {
            return;
        }
        let next = {
            let mut q = outbox.state.lock().expect("outbox lock");
            let next = q.items.pop_front();
            if next.is_some() {
                outbox.in_flight.fetch_add(1, Ordering::SeqCst);
            }
            next
        };
        let Some(p) = next else {
            outbox.notify.notified().await;
            continue;
        };
        tokio::time::sleep_until(p.due).await;
        outbox.state.lock().expect("outbox lock").pending.remove(&(p.webhook_id, p.arg));
        let Ok(slot) = slots.clone().acquire_owned().await else { return };
        let Some(inner) = inner.upgrade() else { return };
        let sim = WooSim { inner };
        let outbox = outbox.clone();
        tokio::spawn(async move {
            sim.deliver(p.webhook_id, p.arg).await;
            drop(slot);
            outbox.in_flight.fetch_sub(1, Ordering::SeqCst);
            outbox.finished.notify_waiters();
        });
    }
}

/// `log_delivery` + `failed_delivery`: returns (ping needed, just disabled).
/// A success resets the count; re-enabling does not ([INFERRED] from `WC_Webhook::set_status`,
/// which leaves `failure_count` alone), so a re-enabled webhook is disabled again by its next
/// failure until a delivery succeeds.
fn log_delivery(store: &mut Store, webhook_id: u64, success: bool, max_failures: u32) -> (bool, bool) {
    let Some(w) = store.webhooks.get_mut(&webhook_id) else { return (false, false) };
    let mut disabled = false;
    if success {
        w.failure_count = 0;
    } else if w.failure_count > max_failures {
        w.status = "disabled".into();
        disabled = true;
    } else {
        w.failure_count += 1;
    }
    (webhooks::save(store, webhook_id, false), disabled)
}

#[derive(Serialize)]
struct IdOnly {
    id: u64,
}

#[derive(Serialize)]
struct ActionPayload<'a> {
    action: &'a str,
    arg: u64,
}

/// The body WooCommerce builds at delivery time: the REST representation of the resource, only
/// `{"id":N}` for `deleted`, or ([INFERRED]) the REST error body if the resource is gone.
fn payload(store: &Store, w: &Webhook, arg: u64, base: &str) -> Vec<u8> {
    if w.event() == "deleted" {
        return to_php_json(&IdOnly { id: arg });
    }
    match w.resource() {
        "order" => match store.orders.get(&arg) {
            Some(o) => to_php_json(&order_json(store, o, base)),
            None => to_php_json(&WooError::new(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.").body()),
        },
        "product" => match store.products.get(&arg) {
            Some(p) => to_php_json(&product_json(store, p, base, Ctx::Read)),
            None => to_php_json(&WooError::new(404, "woocommerce_rest_product_invalid_id", "Invalid ID.").body()),
        },
        "action" => to_php_json(&ActionPayload { action: w.event(), arg }),
        _ => b"[]".to_vec(),
    }
}

/// `X-WC-Webhook-Delivery-ID` as WooCommerce 7.9 makes it (`WC_Webhook::get_new_delivery_id`):
/// `wp_hash( $this->get_id() . strtotime( 'now' ) )`, so every delivery of one webhook within the
/// same second carries the same id, and a repeat a second later a new one. `wp_hash` is HMAC-MD5
/// with the site's secret salt, 32 hex digits; the salt is unknowable to a receiver, so the
/// simulator keys an HMAC-SHA256 with its own and keeps 32 hex digits: same shape, same collisions.
pub(crate) fn delivery_id(webhook_id: u64, unix_seconds: i64) -> String {
    let mac = hmac_sha256(b"wns-sim-auth-salt", format!("{webhook_id}{unix_seconds}").as_bytes());
    mac[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn delivery_headers(w: &Webhook, body: &[u8], delivery_id: &str, site: &str) -> Vec<(&'static str, String)> {
    debug_assert!(WC_VERSION.starts_with('7'));
    vec![
        ("User-Agent", USER_AGENT.to_owned()),
        ("Accept", "*/*".to_owned()),
        ("Accept-Encoding", "deflate, gzip, br, zstd".to_owned()),
        ("Referer", w.delivery_url.clone()),
        ("Content-Type", "application/json".to_owned()),
        ("X-WC-Webhook-Source", format!("{site}/")),
        ("X-WC-Webhook-Topic", w.topic.clone()),
        ("X-WC-Webhook-Resource", w.resource().to_owned()),
        ("X-WC-Webhook-Event", w.event().to_owned()),
        ("X-WC-Webhook-Signature", b64(&hmac_sha256(w.secret.as_bytes(), body))),
        ("X-WC-Webhook-ID", w.id.to_string()),
        ("X-WC-Webhook-Delivery-ID", delivery_id.to_owned()),
    ]
}
