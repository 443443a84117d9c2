//! The `woo.order` job: one WooCommerce order brought in step with its NetSuite sales order.
//!
//! The job carries only the order id (webhooks, the sweep and people all enqueue the same
//! `order:<id>`); the order is read fresh from WooCommerce, so a burst of deliveries or a stale
//! payload costs nothing. Then, by WooCommerce status:
//!
//! - **in `sync.statuses`** (default `processing`, `completed`): SKUs → NetSuite items, the
//!   customer first ([`super::customers`]), the location ([`super::routing`]), the sales order
//!   body ([`super::orders::sales_order`]), then one upsert by the external id
//!   `wc-<site>-order-<id>` (in an async batch during a backlog when `[sync.batch]` is on, see
//!   [`super::so_batch`]) and one read of what NetSuite made of it (document number, total).
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
//! A crash anywhere repeats work, never duplicates it: the customer and the sales order are
//! upserts by external id, the link is written after NetSuite answered, and the WooCommerce write
//! is remembered per body hash (a crash between the note and that record can add the note
//! twice, the only visible repeat).

use std::{collections::BTreeMap, str::FromStr, sync::Arc, time::Duration};

use futures::StreamExt;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::Row;
use tokio_util::sync::CancellationToken;

use super::{
    SyncSettings,
    customers::{Buyer, CustomerError, CustomerMatch, CustomerSync},
    orders::{MappingError, TaxMode, resolve_skus, sales_order},
    routing::{self, Route},
    so_batch::SalesOrderWriter,
};
use crate::{
    monitor::exceptions::{self, Exception, ExceptionKind},
    netsuite::{ErrorClass, ExternalId, Lane, NetSuiteClient, NsError, RecordKey, suiteql::in_list},
    queue::{ClaimedJob, Handlers, NewJob, Outcome, Queue},
    store::{Store, order_units},
    woo::{
        WooClient,
        client::WooError,
        model::{Order, Party},
    },
};

/// The job kind the webhook receiver and the sweep enqueue.
pub const KIND: &str = "woo.order";
/// Document numbers and totals of posted sales orders, read back in bulk.
pub const READ_BACK_KIND: &str = "netsuite.so_read_back";

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

#[derive(Debug, Clone, Default)]
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
    pub fn register(&self, handlers: Handlers) -> Handlers {
        let (flow, reader) = (self.clone(), self.clone());
        handlers
            .on(KIND, move |job| {
                let flow = flow.clone();
                async move { flow.run(&job).await }
            })
            .on(READ_BACK_KIND, move |_job| {
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

    /// The async batches the flow submitted (see [`super::so_batch`]).
    pub fn batches_submitted(&self) -> usize {
        self.inner.writer.batches_submitted()
    }

    /// Runs one job to its outcome (exceptions raised on the way).
    pub async fn run(&self, job: &ClaimedJob) -> Outcome {
        let Some(id) = job.entity_key.strip_prefix("order:").and_then(|n| n.parse::<u64>().ok()) else {
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
        if matches!(order.status.as_str(), "cancelled" | "trash") {
            return self.close(id, link, &order.status.clone(), Some(&order)).await;
        }
        if !self.inner.settings.statuses.contains(&order.status) {
            return Ok(Synced::Ignored { status: order.status });
        }
        self.post(&order, link).await
    }

    async fn post(&self, order: &Order, link: Option<Link>) -> Result<Synced, Stop> {
        let s = &self.inner.settings;
        let id = order.id;
        let now = self.now();
        if let Some(li) = order.line_items.iter().find(|l| l.sku.trim().is_empty()) {
            return Err(Stop::Blocked {
                cause: format!("order:{id}:sku"),
                exception: Exception::new(
                    ExceptionKind::MissingSku,
                    format!("order:{id}"),
                    format!("Order #{}: line \"{}\" has no SKU, so it has no NetSuite item", order.number, li.name),
                    "Give the product a SKU in WooCommerce, then save the order again (it continues by itself).",
                ),
            });
        }
        let skus: Vec<&str> = order.line_items.iter().map(|l| l.sku.as_str()).collect();
        let items = resolve_skus(&self.inner.ns, self.store(), &skus, now).await.map_err(|e| self.mapping_stop(e))?;
        let buyer = buyer(order);
        let customer = self.inner.customers.ensure(&buyer, now).await.map_err(|e| customer_stop(order, e))?;

        let lines: Vec<(String, i64)> = order.line_items.iter().map(|l| (items[&l.sku].clone(), l.quantity)).collect();
        let kept = link.as_ref().and_then(|l| l.route.as_deref()).and_then(|r| serde_json::from_str::<Route>(r).ok());
        let route = match kept {
            Some(Route::Lines(l)) if l.len() != lines.len() => None,
            other => other,
        };
        let route = match route {
            Some(r) => r,
            None => routing::route(&self.inner.ns, &s.routing, &shipping_party(order), &lines)
                .await
                .map_err(|e| ns_stop(e, |e| order_refused(order, e)))?,
        };
        let body =
            sales_order(order, &customer.netsuite_id, &items, &s.orders, &route).map_err(|e| self.mapping_stop(e))?;
        let hash = hex(&Sha256::digest(body.to_string().as_bytes()));

        let mut updated = false;
        if let Some(l) = &link {
            let same = l.body_hash.as_deref() == Some(hash.as_str());
            match l.state.as_str() {
                "posted" if same => {
                    return self
                        .written(id, l, &customer.netsuite_id, customer.rule.as_str(), &hash)
                        .await
                        .map(|_| Synced::Unchanged);
                }
                "fulfilled" => {
                    if !same {
                        self.frozen(order, l, &hash, "changed").await?;
                    }
                    return Ok(Synced::Frozen);
                }
                "posted" | "held_tax" => {
                    if let Some(ns_id) = &l.netsuite_id {
                        let so = self
                            .inner
                            .ns
                            .get(Lane::Orders, "salesOrder", &RecordKey::Internal(ns_id.clone()), false)
                            .await
                            .map_err(|e| ns_stop(e, |e| order_refused(order, e)))?;
                        if so.as_ref().is_some_and(|so| !matches!(status_of(so), "A" | "B")) {
                            self.frozen(order, l, &hash, "changed").await?;
                            return Ok(Synced::Frozen);
                        }
                        updated = true;
                    }
                }
                _ => {}
            }
        }

        let eid = order_eid(&s.orders.site, id);
        let so =
            self.inner.writer.upsert(&eid, &body).await.map_err(|e| ns_stop(e, |e| so_refused(order, &body, e)))?;
        let mut new = Link {
            state: "posted".into(),
            netsuite_id: Some(so.id.clone()),
            tranid: None,
            route: serde_json::to_string(&route).ok(),
            body_hash: Some(hash.clone()),
            woo_written_for: link.as_ref().and_then(|l| l.woo_written_for.clone()),
        };
        if s.orders.tax_mode == TaxMode::Netsuite {
            // NetSuite's total decides whether the order is released, so it is read now; with
            // WooCommerce's tax the document number and the total check wait for the next
            // read-back (one SuiteQL query for up to 500 orders).
            let got = self
                .inner
                .ns
                .get(Lane::Orders, "salesOrder", &RecordKey::Internal(so.id.clone()), false)
                .await
                .map_err(|e| ns_stop(e, |e| order_refused(order, e)))?
                .unwrap_or(Value::Null);
            let tranid = got.get("tranId").and_then(Value::as_str).unwrap_or_default().to_string();
            let ns_total = got.get("total").and_then(decimal);
            new.tranid = Some(tranid.clone());
            let within = ns_total.is_some_and(|t| (t - order.total).abs() <= s.orders.tax_tolerance);
            if !within {
                new.state = "held_tax".into();
                self.save_link(id, &eid, &new, Some(&customer), Some(order.total)).await?;
                let shown = ns_total.map(|t| t.to_string()).unwrap_or_else(|| "no total".into());
                return Err(Stop::Blocked {
                    cause: format!("tax:order:{id}"),
                    exception: Exception::new(
                        ExceptionKind::TaxDifference,
                        format!("order:{id}"),
                        format!(
                            "Order #{}: NetSuite's total {shown} (tax calculated by NetSuite) differs from WooCommerce's {} by more than {}; sales order {tranid} waits in Pending Approval",
                            order.number, order.total, s.orders.tax_tolerance
                        ),
                        "Compare the tax codes/nexus of the customer's ship-to address in NetSuite with WooCommerce's tax rates; fix the set-up, then approve the order in NetSuite or let wns retry (it does so every recheck interval).",
                    ),
                });
            }
            self.inner
                .ns
                .patch(
                    Lane::Orders,
                    "salesOrder",
                    &RecordKey::Internal(so.id.clone()),
                    &json!({ "orderStatus": { "id": "B" } }),
                    &[],
                )
                .await
                .map_err(|e| ns_stop(e, |e| order_refused(order, e)))?;
            exceptions::resolve(self.store(), ExceptionKind::TaxDifference, &format!("order:{id}"), self.now()).await?;
        }
        self.save_link(id, &eid, &new, Some(&customer), Some(order.total)).await?;
        order_units::posted(self.store(), id, self.now()).await?;
        for kind in [ExceptionKind::MissingSku, ExceptionKind::CustomerRejected, ExceptionKind::SalesOrderRejected] {
            exceptions::resolve(self.store(), kind, &format!("order:{id}"), self.now()).await?;
        }
        if new.tranid.is_some() {
            self.written(id, &new, &customer.netsuite_id, customer.rule.as_str(), &hash).await?;
        } else {
            self.read_back_soon().await?;
        }
        Ok(Synced::Posted { netsuite_id: so.id, tranid: new.tranid.unwrap_or_default(), updated })
    }

    /// One pending read-back job gathers every order posted until it runs.
    async fn read_back_soon(&self) -> Result<(), sqlx::Error> {
        let job = NewJob::new(READ_BACK_KIND, "sales-orders", json!({})).run_after(self.now() + 1_000);
        self.inner.queue.enqueue(job).await?;
        Ok(())
    }

    /// The read-back: document numbers and totals of posted sales orders, 500 per SuiteQL query,
    /// then the WooCommerce meta and note of each. Returns how many orders it completed.
    pub async fn read_back(&self) -> Result<usize, String> {
        self.read_back_inner().await.map_err(|s| match s {
            Stop::Retry(e) | Stop::RetryAfter(e, _) | Stop::Dead(e) => e,
            Stop::Blocked { cause, exception } => format!("blocked on {cause}: {}", exception.message),
        })
    }

    async fn read_back_inner(&self) -> Result<usize, Stop> {
        let mut done = 0;
        loop {
            let rows = sqlx::query(
                "select wc_order_id, netsuite_id, route, body_hash, woo_written_for, customer_id, customer_rule, wc_total \
                 from order_links where state = 'posted' and tranid is null and netsuite_id is not null \
                 order by wc_order_id limit 500",
            )
            .fetch_all(self.store().pool())
            .await?;
            if rows.is_empty() {
                return Ok(done);
            }
            struct Pending {
                wc_id: u64,
                link: Link,
                customer_id: String,
                rule: String,
                wc_total: Option<Decimal>,
            }
            let mut pending = Vec::with_capacity(rows.len());
            for r in &rows {
                let text = |i: usize| r.try_get::<Option<String>, _>(i);
                pending.push(Pending {
                    wc_id: r.try_get::<i64, _>(0)? as u64,
                    link: Link {
                        state: "posted".into(),
                        netsuite_id: text(1)?,
                        tranid: None,
                        route: text(2)?,
                        body_hash: text(3)?,
                        woo_written_for: text(4)?,
                    },
                    customer_id: text(5)?.unwrap_or_default(),
                    rule: text(6)?.unwrap_or_default(),
                    wc_total: text(7)?.and_then(|t| Decimal::from_str(&t).ok()),
                });
            }
            let ids: Vec<&str> = pending.iter().filter_map(|p| p.link.netsuite_id.as_deref()).collect();
            let q =
                crate::netsuite::suiteql::WindowedQuery::new("SELECT id, tranid, foreigntotal FROM transaction", "id")
                    .and(format!("id IN {}", in_list(ids.iter().copied())));
            let found: BTreeMap<String, (String, Option<Decimal>)> = self
                .inner
                .ns
                .suiteql_all(Lane::Orders, &q)
                .await
                .map_err(|e| ns_stop(e, |e| Stop::Retry(e.to_string())))?
                .into_iter()
                .filter_map(|r| {
                    let total = r.get("foreigntotal").and_then(|t| Decimal::from_str(t).ok());
                    Some((r.get("id")?.to_string(), (r.get("tranid").unwrap_or_default().to_string(), total)))
                })
                .collect();
            let results: Vec<Result<(), Stop>> = futures::stream::iter(pending)
                .map(|mut p| {
                    let found = p.link.netsuite_id.as_ref().and_then(|id| found.get(id)).cloned();
                    async move {
                        let (tranid, total) = match found {
                            Some(f) => f,
                            None => {
                                // Deleted in NetSuite since: nothing to number; not read again.
                                tracing::warn!(order = p.wc_id, "posted sales order no longer in NetSuite");
                                (String::new(), None)
                            }
                        };
                        sqlx::query("update order_links set tranid = $1, updated_at = $2 where wc_order_id = $3")
                            .bind(&tranid)
                            .bind(self.now())
                            .bind(p.wc_id as i64)
                            .execute(self.store().pool())
                            .await?;
                        if let (Some(ns), Some(wc)) = (total, p.wc_total)
                            && ns != wc
                        {
                            Exception::new(
                                ExceptionKind::TaxDifference,
                                format!("order:{}", p.wc_id),
                                format!(
                                    "Order {}: NetSuite's total {ns} differs from WooCommerce's {wc} although WooCommerce's tax was posted",
                                    p.wc_id
                                ),
                                "A NetSuite script or workflow changed the sales order's amounts; compare the lines of both.",
                            )
                            .raise(self.store(), self.now())
                            .await?;
                        }
                        if tranid.is_empty() {
                            return Ok(());
                        }
                        p.link.tranid = Some(tranid);
                        let hash = p.link.body_hash.clone().unwrap_or_default();
                        self.written(p.wc_id, &p.link, &p.customer_id, &p.rule, &hash).await
                    }
                })
                .buffer_unordered(8)
                .collect()
                .await;
            done += results.iter().filter(|r| r.is_ok()).count();
            if let Some(Err(e)) = results.into_iter().find(Result::is_err) {
                return Err(e);
            }
        }
    }

    /// The WooCommerce side of a posted order: meta and a private note, once per body, once
    /// the document number is known.
    async fn written(&self, wc_id: u64, l: &Link, customer_id: &str, rule: &str, hash: &str) -> Result<(), Stop> {
        if l.woo_written_for.as_deref() == Some(hash) || l.tranid.is_none() {
            return Ok(());
        }
        let ns_id = l.netsuite_id.clone().unwrap_or_default();
        let tranid = l.tranid.clone().unwrap_or_default();
        let woo = &self.inner.woo;
        woo.set_order_meta(
            wc_id,
            &[
                ("_netsuite_sales_order_id", json!(ns_id)),
                ("_netsuite_sales_order_number", json!(tranid)),
                ("_wns_customer_match", json!(rule)),
            ],
        )
        .await?;
        let verb = if l.woo_written_for.is_some() { "updated" } else { "posted" };
        let route = l.route.as_deref().and_then(|r| serde_json::from_str::<Route>(r).ok()).unwrap_or(Route::Unrouted);
        let note = format!(
            "wns: {verb} NetSuite sales order {tranid} (internal id {ns_id}); customer {customer_id} matched by {}; location {}.",
            rule.replace('_', " "),
            route.describe()
        );
        woo.add_order_note(wc_id, &note, false).await?;
        sqlx::query("update order_links set woo_written_for = $1, updated_at = $2 where wc_order_id = $3")
            .bind(hash)
            .bind(self.now())
            .bind(wc_id as i64)
            .execute(self.store().pool())
            .await?;
        Ok(())
    }

    /// Cancelled, trashed or deleted in WooCommerce: close the sales order's open lines.
    async fn close(&self, id: u64, link: Option<Link>, why: &str, order: Option<&Order>) -> Result<Synced, Stop> {
        if let Some(l) = &link
            && l.state == "closed"
        {
            return Ok(Synced::Unchanged);
        }
        let eid = order_eid(&self.inner.settings.orders.site, id);
        let key = match link.as_ref().and_then(|l| l.netsuite_id.clone()) {
            Some(ns_id) => RecordKey::Internal(ns_id),
            // Posted but the link not yet written (a crash in between), or never posted.
            None => RecordKey::External(eid.clone()),
        };
        let refused = |e: &NsError| Stop::Blocked {
            cause: format!("order:{id}:netsuite"),
            exception: Exception::new(
                ExceptionKind::SalesOrderRejected,
                format!("order:{id}"),
                format!(
                    "Order {id} was {why} in WooCommerce; closing its sales order failed: {}",
                    e.netsuite_message()
                ),
                "Close the sales order's lines in NetSuite by hand, or fix what NetSuite names; wns retries every recheck interval.",
            ),
        };
        let Some(so) =
            self.inner.ns.get(Lane::Orders, "salesOrder", &key, true).await.map_err(|e| ns_stop(e, refused))?
        else {
            return Ok(Synced::NothingToClose);
        };
        let ns_id = so.get("id").and_then(Value::as_str).map(str::to_string).unwrap_or_default();
        let lines = so.pointer("/item/items").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut l = link.unwrap_or_default();
        l.netsuite_id = Some(ns_id.clone());
        l.tranid = so.get("tranId").and_then(Value::as_str).map(str::to_string).or(l.tranid);
        if lines.iter().any(|x| x.get("quantityFulfilled").and_then(decimal).is_some_and(|q| q > Decimal::ZERO)) {
            let number = order.map(|o| o.number.clone()).unwrap_or_else(|| id.to_string());
            let e = Exception::new(
                ExceptionKind::ChangedAfterFulfilment,
                format!("order:{id}"),
                format!(
                    "Order #{number} was {why} in WooCommerce after NetSuite fulfilled part of sales order {}; wns left it as it is",
                    l.tranid.clone().unwrap_or(ns_id.clone())
                ),
                "Decide with the customer: return and refund (a credit memo), or restore the order in WooCommerce.",
            );
            e.raise(self.store(), self.now()).await?;
            l.state = "fulfilled".into();
            self.save_link(id, &eid, &l, None, None).await?;
            return Ok(Synced::Frozen);
        }
        let open: Vec<Value> = lines
            .iter()
            .filter(|x| !x.get("isClosed").and_then(Value::as_bool).unwrap_or(false))
            .filter_map(|x| x.get("line").cloned())
            .map(|line| json!({ "line": line, "isClosed": true }))
            .collect();
        if !open.is_empty() {
            self.inner
                .ns
                .patch(
                    Lane::Orders,
                    "salesOrder",
                    &RecordKey::Internal(ns_id.clone()),
                    &json!({ "item": { "items": open } }),
                    &[],
                )
                .await
                .map_err(|e| ns_stop(e, refused))?;
        }
        order_units::closed(self.store(), id, self.now()).await?;
        l.state = "closed".into();
        // A restore must write the whole body again.
        l.body_hash = None;
        self.save_link(id, &eid, &l, None, None).await?;
        if order.is_some() {
            let note = format!(
                "wns: closed the lines of NetSuite sales order {} (order {why} in WooCommerce).",
                l.tranid.clone().unwrap_or(ns_id.clone())
            );
            self.inner.woo.add_order_note(id, &note, false).await?;
        }
        Ok(Synced::Closed { netsuite_id: ns_id })
    }

    async fn frozen(&self, order: &Order, l: &Link, hash: &str, what: &str) -> Result<(), Stop> {
        let e = Exception::new(
            ExceptionKind::ChangedAfterFulfilment,
            format!("order:{}", order.id),
            format!(
                "Order #{} {what} in WooCommerce after NetSuite started fulfilling sales order {}; wns did not edit it",
                order.number,
                l.tranid.clone().unwrap_or_default()
            ),
            "Make the change in NetSuite by hand (or a return/credit memo), or undo it in WooCommerce.",
        );
        e.raise(self.store(), self.now()).await?;
        let eid = order_eid(&self.inner.settings.orders.site, order.id);
        let new = Link { state: "fulfilled".into(), body_hash: Some(hash.into()), ..l.clone() };
        self.save_link(order.id, &eid, &new, None, None).await?;
        Ok(())
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

    async fn link(&self, id: u64) -> Result<Option<Link>, sqlx::Error> {
        let row = sqlx::query(
            "select state, netsuite_id, tranid, route, body_hash, woo_written_for from order_links where wc_order_id = $1",
        )
        .bind(id as i64)
        .fetch_optional(self.store().pool())
        .await?;
        row.map(|r| {
            Ok(Link {
                state: r.try_get(0)?,
                netsuite_id: r.try_get(1)?,
                tranid: r.try_get(2)?,
                route: r.try_get(3)?,
                body_hash: r.try_get(4)?,
                woo_written_for: r.try_get(5)?,
            })
        })
        .transpose()
    }

    async fn save_link(
        &self,
        id: u64,
        eid: &ExternalId,
        l: &Link,
        customer: Option<&CustomerMatch>,
        wc_total: Option<Decimal>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "insert into order_links (wc_order_id, external_id, state, netsuite_id, tranid, customer_id, customer_rule, \
                                      route, body_hash, woo_written_for, updated_at, wc_total) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             on conflict (wc_order_id) do update set state = excluded.state, netsuite_id = excluded.netsuite_id, \
                tranid = excluded.tranid, customer_id = coalesce(excluded.customer_id, order_links.customer_id), \
                customer_rule = coalesce(excluded.customer_rule, order_links.customer_rule), \
                route = coalesce(excluded.route, order_links.route), body_hash = excluded.body_hash, \
                woo_written_for = excluded.woo_written_for, updated_at = excluded.updated_at, \
                wc_total = coalesce(excluded.wc_total, order_links.wc_total)",
        )
        .bind(id as i64)
        .bind(eid.as_str())
        .bind(&l.state)
        .bind(&l.netsuite_id)
        .bind(&l.tranid)
        .bind(customer.map(|c| c.netsuite_id.clone()))
        .bind(customer.map(|c| c.rule.as_str()))
        .bind(&l.route)
        .bind(&l.body_hash)
        .bind(&l.woo_written_for)
        .bind(self.now())
        .bind(wc_total.map(|t| t.to_string()))
        .execute(self.store().pool())
        .await?;
        Ok(())
    }

    /// Requeues orders blocked on causes that are fixed in NetSuite, where wns hears of no fix:
    /// items whose `lastmodifieddate` moved since last seen (and each newly blocked item once),
    /// tax holds and other refusals every time, and the login once NetSuite answers again.
    pub async fn recheck(&self, seen: &mut BTreeMap<String, String>) -> Result<u64, sqlx::Error> {
        let causes: Vec<String> =
            sqlx::query("select distinct blocked_cause from jobs where state = 'blocked' and kind = $1")
                .bind(KIND)
                .fetch_all(self.store().pool())
                .await?
                .iter()
                .filter_map(|r| r.try_get::<Option<String>, _>(0).ok().flatten())
                .collect();
        let mut requeue: Vec<String> = Vec::new();
        let items: Vec<&str> = causes.iter().filter_map(|c| c.strip_prefix("item:")).collect();
        if !items.is_empty() {
            let q = crate::netsuite::suiteql::WindowedQuery::new(
                "SELECT id, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified FROM item",
                "id",
            )
            .and(format!("id IN {}", in_list(items.iter().copied())));
            match self.inner.ns.suiteql_all(Lane::Orders, &q).await {
                Ok(rows) => {
                    for row in rows {
                        let (Some(id), Some(m)) = (row.get("id"), row.get("modified")) else { continue };
                        let cause = format!("item:{id}");
                        if seen.get(&cause).map(String::as_str) != Some(m) {
                            seen.insert(cause.clone(), m.to_string());
                            requeue.push(cause);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "recheck: reading blocked items from NetSuite failed"),
            }
        }
        for c in &causes {
            let periodic = c.starts_with("tax:") || c.ends_with(":netsuite");
            let login = c == "netsuite:login" && self.inner.ns.check().await.is_ok();
            if periodic || login {
                requeue.push(c.clone());
            }
        }
        seen.retain(|k, _| causes.contains(k));
        let mut n = 0;
        for c in requeue {
            n += self.inner.queue.requeue_cause(&c).await?;
        }
        Ok(n)
    }

    /// Runs [`OrderFlow::recheck`] every `sync.recheck_secs` until `shutdown`.
    pub async fn run_recheck(self, shutdown: CancellationToken, heartbeat: crate::supervise::Heartbeat) {
        let every = Duration::from_secs(self.inner.settings.recheck_secs.max(1));
        let mut seen = BTreeMap::new();
        loop {
            tokio::select! { _ = shutdown.cancelled() => return, _ = tokio::time::sleep(every) => {} }
            let rechecked = self.recheck(&mut seen).await;
            if rechecked.is_ok() {
                heartbeat.ok();
            }
            match rechecked {
                Ok(0) => {}
                Ok(n) => tracing::info!(requeued = n, "recheck: orders blocked on NetSuite-side causes run again"),
                Err(e) => tracing::warn!(error = %e, "recheck failed"),
            }
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
