//! The `woo.order` job: one WooCommerce order brought in step with its NetSuite sales order.
//!
//! The job carries only the order id (webhooks, the sweep and people all enqueue the same
//! `order:<id>`); the order is read fresh from WooCommerce, so a burst of deliveries or a stale
//! payload costs nothing. Then, by WooCommerce status:
//!
//! - **in `sync.statuses`** (default `processing`, `completed`): SKUs → NetSuite items, the
//!   customer first ([`super::customers`]), the location ([`super::routing`]), the sales order
//!   body ([`super::sales_order::sales_order`]), then one upsert by the external id
//!   `wc-<site>-order-<id>` (in an async batch during a backlog when `[sync.batch]` is on, see
//!   [`super::sales_order_writer`]) and one read of what NetSuite made of it (document number, total).
//!   The hash of the body is kept in `order_links`; a repeat with the same body writes nothing to
//!   NetSuite, an edit writes the whole body again (the upsert replaces the lines), unless NetSuite
//!   has started fulfilling — then nothing is edited and operations get an exception.
//! - **`cancelled`, `trash`, or gone (404)**: the sales order's open lines are closed (not
//!   deleted: NetSuite keeps the history). Lines already fulfilled make it an exception instead.
//!   A restored order comes back through the first case and re-opens the lines.
//! - **anything else** (`pending`, `on-hold` unless configured, `failed`, `refunded`): nothing;
//!   refunds are credit memos, a separate flow.
//!
//! After posting, the WooCommerce order gets meta `_netsuite_sales_order_id`,
//! `_netsuite_sales_order_number`, `_wns_customer_match` and a private note. WooCommerce answers
//! that meta write with an `order.updated` webhook; that run finds the same hash and the note
//! already written, and ends without a NetSuite request.
//!
//! What a person must fix blocks the job on a cause, with an exception naming owner and fix:
//!
//! | cause | owner | fixed by | requeued by |
//! |---|---|---|---|
//! | `sku:<SKU>` | ecommerce | a SKU mapping | saving the mapping |
//! | `order:<id>:sku` (a line without SKU) | ecommerce | the product's SKU, then re-saving the order | the order's webhook |
//! | `order:<id>:customer` | customer service | the order's billing details | the order's webhook |
//! | `item:<NetSuite id>` (not sold in the subsidiary, price level, inactive) | ecommerce | the item in NetSuite | the recheck, when the item's `lastmodifieddate` moves |
//! | `tax:order:<id>` (NetSuite's tax off by more than the tolerance; the order waits Pending Approval) | finance | NetSuite's tax set-up or the order | the recheck, every `recheck_secs`, or the order's webhook |
//! | `order:<id>:netsuite` (any other refusal) | ecommerce | per NetSuite's message | the recheck or the order's webhook |
//! | `netsuite:login` | operations | the credentials | the recheck, once a login works |
//!
//! The exceptions close by themselves as their causes go (see [`crate::monitor::exceptions`]):
//! a posted order closes its own, those of its SKUs and items, the login's and the sweep's miss
//! (`order_posted`); a cancelled one closes what blocked it (`order_cancelled`); any other
//! finished run closes the miss (`order_processed`).
//!
//! A crash anywhere repeats work, never duplicates it: the customer and the sales order are
//! upserts by external id, the link is written after NetSuite answered, and the WooCommerce write
//! is remembered per body hash (a crash between the note and that record can add the note
//! twice, the only visible repeat).
//!
//! Files: `post` (body, upsert, edits), `read_back` (document numbers and totals, the write-back
//! to WooCommerce), `cancel` (closing lines), `links` (`order_links`), `recheck` (causes fixed
//! inside NetSuite); this file holds the job and what decides between them.

use std::{str::FromStr, sync::Arc, time::Duration};

use rust_decimal::Decimal;
use serde_json::Value;

use super::{
    SyncSettings,
    customers::{Buyer, CustomerError, CustomerSync},
    sales_order::MappingError,
    sales_order_writer::SalesOrderWriter,
};
use crate::{
    monitor::exceptions::{Exception, ExceptionKind},
    netsuite::{ErrorClass, ExternalId, NetSuiteClient, NsError},
    queue::{ClaimedJob, Handlers, JobKind, Outcome, Queue},
    store::{Store, order_amounts, order_units},
    woo::{
        WooClient,
        client::WooError,
        model::{Order, Party},
    },
};

/// The job kind the webhook receiver and the sweep enqueue.
pub const KIND: JobKind = JobKind::WooOrder;
/// Document numbers and totals of posted sales orders, read back in bulk.
pub const READ_BACK_KIND: JobKind = JobKind::SalesOrderReadBack;

mod cancel;
mod links;
mod post;
mod read_back;
mod recheck;

#[derive(Clone)]
pub struct OrderFlow {
    inner: Arc<Inner>,
}

struct Inner {
    ns: NetSuiteClient,
    woo: WooClient,
    queue: Queue,
    customers: CustomerSync,
    writer: SalesOrderWriter,
    settings: SyncSettings,
}

/// What a run did, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Synced {
    Posted {
        netsuite_id: String,
        tranid: String,
        updated: bool,
    },
    Unchanged,
    Ignored {
        status: String,
    },
    Closed {
        netsuite_id: String,
    },
    /// Never reached NetSuite; nothing to close.
    NothingToClose,
    /// Changed after fulfilment: left alone, exception raised.
    Frozen,
}

/// Why a run stopped short.
enum Stop {
    Retry(String),
    RetryAfter(String, Duration),
    Dead(String),
    Blocked { cause: String, exception: Exception },
}

impl From<sqlx::Error> for Stop {
    fn from(e: sqlx::Error) -> Stop {
        Stop::Retry(format!("database: {e}"))
    }
}

impl From<WooError> for Stop {
    fn from(e: WooError) -> Stop {
        match e.class() {
            ErrorClass::Retry | ErrorClass::NeedsPerson => Stop::Retry(e.to_string()),
            ErrorClass::RetryAfter(d) => Stop::RetryAfter(e.to_string(), d),
            ErrorClass::Fatal => Stop::Dead(format!("{e}; check woocommerce.consumer_key/secret, then replay")),
        }
    }
}

/// A NetSuite error in `context`; `needs_person` says what a refusal on its merits blocks on.
fn ns_stop(e: NsError, needs_person: impl FnOnce(&NsError) -> Stop) -> Stop {
    match e.class() {
        ErrorClass::Retry => Stop::Retry(e.to_string()),
        ErrorClass::RetryAfter(d) => Stop::RetryAfter(e.to_string(), d),
        ErrorClass::NeedsPerson => needs_person(&e),
        ErrorClass::Fatal => Stop::Blocked {
            cause: "netsuite:login".into(),
            exception: Exception::new(
                ExceptionKind::NetSuiteLogin,
                "netsuite",
                format!("NetSuite refused wns's credentials: {}", e.netsuite_message()),
                "Fix [netsuite] credentials (see `wns check`); waiting orders continue by themselves once a login works.",
            ),
        },
    }
}

#[derive(Debug, Clone, Default, sqlx::FromRow)]
struct Link {
    state: String,
    netsuite_id: Option<String>,
    tranid: Option<String>,
    route: Option<String>,
    body_hash: Option<String>,
    woo_written_for: Option<String>,
}

impl OrderFlow {
    pub fn new(ns: NetSuiteClient, woo: WooClient, queue: Queue, settings: SyncSettings) -> OrderFlow {
        let customers =
            CustomerSync::new(ns.clone(), queue.store().clone(), &settings.orders.site, &settings.orders.subsidiary);
        let writer = SalesOrderWriter::new(ns.clone(), settings.batch.clone());
        OrderFlow { inner: Arc::new(Inner { ns, woo, queue, customers, writer, settings }) }
    }

    /// `handlers` plus the `woo.order` and read-back jobs.
    /// The NetSuite client the flow posts with (shared with the item index).
    pub fn netsuite(&self) -> &NetSuiteClient {
        &self.inner.ns
    }

    pub fn register(&self, handlers: Handlers) -> Handlers {
        let (flow, reader) = (self.clone(), self.clone());
        handlers
            .on(KIND.as_str(), move |job| {
                let flow = flow.clone();
                async move { flow.run(&job).await }
            })
            .on(READ_BACK_KIND.as_str(), move |_job| {
                let flow = reader.clone();
                async move {
                    match flow.read_back_inner().await {
                        Ok(_) => Outcome::Done,
                        Err(stop) => flow.outcome(stop).await,
                    }
                }
            })
    }

    fn store(&self) -> &Store {
        self.inner.queue.store()
    }

    fn now(&self) -> i64 {
        self.inner.queue.now()
    }

    /// The async batches the flow submitted (see [`super::sales_order_writer`]).
    pub fn batches_submitted(&self) -> usize {
        self.inner.writer.batches_submitted()
    }

    /// Runs one job to its outcome (exceptions raised on the way).
    pub async fn run(&self, job: &ClaimedJob) -> Outcome {
        let Some(id) = KIND.id_of(&job.entity_key) else {
            return Outcome::Dead { error: format!("{KIND} job for {:?}: not an `order:<id>` key", job.entity_key) };
        };
        let stop = match self.sync(id).await {
            Ok(done) => {
                tracing::info!(order = id, ?done, "order in step with NetSuite");
                return Outcome::Done;
            }
            Err(stop) => stop,
        };
        self.outcome(stop).await
    }

    async fn outcome(&self, stop: Stop) -> Outcome {
        match stop {
            Stop::Retry(error) => Outcome::Retry { error },
            Stop::RetryAfter(error, after) => Outcome::RetryAfter { error, after },
            Stop::Dead(error) => Outcome::Dead { error },
            Stop::Blocked { cause, exception } => {
                if let Err(e) = exception.raise(self.store(), self.now()).await {
                    return Outcome::Retry { error: format!("recording the exception: {e}") };
                }
                Outcome::Blocked { owner: exception.kind.owner(), cause, error: exception.message }
            }
        }
    }

    /// Brings WooCommerce order `id` in step; see the module comment.
    pub async fn sync_order(&self, id: u64) -> Result<Synced, String> {
        self.sync(id).await.map_err(|s| match s {
            Stop::Retry(e) | Stop::RetryAfter(e, _) | Stop::Dead(e) => e,
            Stop::Blocked { cause, exception } => format!("blocked on {cause}: {}", exception.message),
        })
    }

    async fn sync(&self, id: u64) -> Result<Synced, Stop> {
        let done = self.bring_in_step(id).await?;
        self.settled(id, &done).await?;
        Ok(done)
    }

    /// What a run that ended proves gone, besides what posting closes (see `post`): the sweep's
    /// miss of the order (it was processed), and, for an order cancelled, trashed or deleted, what
    /// blocked it (nothing is left to post).
    async fn settled(&self, id: u64, done: &Synced) -> Result<(), sqlx::Error> {
        use crate::monitor::exceptions::{Resolution, resolve_any};
        let key = format!("order:{id}");
        if matches!(done, Synced::Closed { .. } | Synced::NothingToClose) {
            let blocked = [
                ExceptionKind::MissingSku,
                ExceptionKind::CustomerRejected,
                ExceptionKind::SalesOrderRejected,
                ExceptionKind::TaxDifference,
            ];
            resolve_any(self.store(), &blocked, &[&key], Resolution::OrderCancelled, self.now()).await?;
        }
        if !matches!(done, Synced::Posted { .. }) {
            resolve_any(self.store(), &[ExceptionKind::WebhookMiss], &[&key], Resolution::OrderProcessed, self.now())
                .await?;
        }
        Ok(())
    }

    async fn bring_in_step(&self, id: u64) -> Result<Synced, Stop> {
        let link = self.link(id).await?;
        let order =
            match self.inner.woo.order(id).await {
                Ok(v) => Some(serde_json::from_value::<Order>(v).map_err(|e| {
                    Stop::Dead(format!("WooCommerce order {id} is not an order as wc/v3 defines it: {e}"))
                })?),
                Err(WooError::Api { status: 404, .. }) => None,
                Err(e) => return Err(e.into()),
            };
        let Some(order) = order else { return self.close(id, link, "deleted", None).await };
        // The order's units, for stock: in flight until NetSuite's figure shows them.
        let units: Vec<(String, i64)> = order.line_items.iter().map(|l| (l.sku.clone(), l.quantity)).collect();
        let holds_stock = crate::woo::model::holds_stock(&order.status);
        order_units::record(self.store(), id, &units, holds_stock, self.now()).await?;
        // What a person sees waiting behind this order if it blocks.
        order_amounts::record(self.store(), id, order.total, &order.currency, self.now()).await?;
        if matches!(order.status.as_str(), "cancelled" | "trash") {
            return self.close(id, link, &order.status.clone(), Some(&order)).await;
        }
        if !self.inner.settings.statuses.contains(&order.status) {
            return Ok(Synced::Ignored { status: order.status });
        }
        self.post(&order, link).await
    }

    fn mapping_stop(&self, e: MappingError) -> Stop {
        match e {
            MappingError::Unmapped(sku) => Stop::Blocked {
                cause: format!("sku:{sku}"),
                exception: Exception::new(
                    ExceptionKind::UnmappedSku,
                    format!("sku:{sku}"),
                    format!(
                        "SKU {sku} has no NetSuite item (no mapping, and no NetSuite item has it as its name/number)"
                    ),
                    "Map the SKU to its NetSuite item in the SKU mapping screen; every order waiting on it continues by itself.",
                ),
            },
            MappingError::NetSuite(e) => ns_stop(e, |e| Stop::Retry(e.to_string())),
            MappingError::Store(e) => e.into(),
            other @ (MappingError::NoSku { .. } | MappingError::NoDiscountItem) => Stop::Dead(other.to_string()),
        }
    }
}

pub fn order_eid(site: &str, id: u64) -> ExternalId {
    ExternalId::parse(format!("wc-{site}-order-{id}")).expect("site is validated and the id is a number")
}

fn buyer(order: &Order) -> Buyer {
    let b = &order.billing;
    Buyer {
        wc_customer_id: order.customer_id,
        email: b.email.clone(),
        first_name: b.first_name.clone(),
        last_name: b.last_name.clone(),
        company: b.company.clone(),
        phone: b.phone.clone(),
    }
}

/// Shipping address, or billing when the order ships nowhere (virtual goods).
fn shipping_party(order: &Order) -> Party {
    if order.shipping.country.trim().is_empty() { order.billing.clone() } else { order.shipping.clone() }
}

fn customer_stop(order: &Order, e: CustomerError) -> Stop {
    let id = order.id;
    let blocked = |detail: String| Stop::Blocked {
        cause: format!("order:{id}:customer"),
        exception: Exception::new(
            ExceptionKind::CustomerRejected,
            format!("order:{id}"),
            format!("Order #{}: NetSuite refused the customer: {detail}", order.number),
            "Correct the billing details on the WooCommerce order (and the customer's account); saving the order sends it again.",
        ),
    };
    match e {
        CustomerError::NetSuite(e) => ns_stop(e, |e| blocked(e.netsuite_message())),
        CustomerError::Store(e) => e.into(),
        CustomerError::NoEmail(email) => blocked(format!("no usable e-mail address ({email:?})")),
    }
}

fn order_refused(order: &Order, e: &NsError) -> Stop {
    Stop::Blocked {
        cause: format!("order:{}:netsuite", order.id),
        exception: Exception::new(
            ExceptionKind::SalesOrderRejected,
            format!("order:{}", order.id),
            format!("Order #{}: NetSuite refused: {}", order.number, e.netsuite_message()),
            "Fix what NetSuite names (or the order in WooCommerce); wns retries every recheck interval and on every order change.",
        ),
    }
}

/// A refused upsert: tied to one item when NetSuite's error path names a line's item.
fn so_refused(order: &Order, body: &Value, e: &NsError) -> Stop {
    let item = e
        .error_path()
        .and_then(|p| p.strip_prefix("item.items["))
        .and_then(|p| p.split(']').next())
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| body.pointer(&format!("/item/items/{n}/item/id")))
        .and_then(Value::as_str);
    match item {
        Some(item) => {
            let name = body["item"]["items"]
                .as_array()
                .and_then(|l| l.iter().find(|l| l["item"]["id"] == item))
                .and_then(|l| l["description"].as_str())
                .unwrap_or_default();
            Stop::Blocked {
                cause: format!("item:{item}"),
                exception: Exception::new(
                    ExceptionKind::ItemNotSellable,
                    format!("item:{item}"),
                    format!("NetSuite item {item} ({name}) cannot be sold on web orders: {}", e.netsuite_message()),
                    "In NetSuite, make the item available in the web store's subsidiary (and give it a price level / make it active); waiting orders continue by themselves once the item is saved.",
                ),
            }
        }
        None => order_refused(order, e),
    }
}

fn status_of(so: &Value) -> &str {
    so.pointer("/orderStatus/id").and_then(Value::as_str).unwrap_or("B")
}

fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        Value::String(s) => Decimal::from_str(s).ok(),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
