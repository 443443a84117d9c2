//! After posting: NetSuite's document number and total read back in bulk, then written to the
//! WooCommerce order (meta and a private note) once per body.

use std::{collections::BTreeMap, str::FromStr};

use futures::StreamExt;
use rust_decimal::Decimal;
use serde_json::json;
use sqlx::Row;

use crate::sync::routing::Route;
use crate::{
    monitor::exceptions::{Exception, ExceptionKind},
    netsuite::{Lane, suiteql::in_list},
    queue::NewJob,
};

use super::*;

impl OrderFlow {
    /// One pending read-back job gathers every order posted until it runs.
    pub(super) async fn read_back_soon(&self) -> Result<(), sqlx::Error> {
        let job = NewJob::new(READ_BACK_KIND, READ_BACK_KIND.key(""), json!({})).run_after(self.now() + 1_000);
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

    pub(super) async fn read_back_inner(&self) -> Result<usize, Stop> {
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
            // A total that differed before (an edit posted since) and now matches closes its
            // `tax_difference`.
            let matching: Vec<String> = pending
                .iter()
                .filter(|p| {
                    let ns = p.link.netsuite_id.as_ref().and_then(|id| found.get(id)).and_then(|f| f.1);
                    ns.is_some() && ns == p.wc_total
                })
                .map(|p| format!("order:{}", p.wc_id))
                .collect();
            let matching: Vec<&str> = matching.iter().map(String::as_str).collect();
            crate::monitor::exceptions::resolve_any(
                self.store(),
                &[ExceptionKind::TaxDifference],
                &matching,
                crate::monitor::exceptions::Resolution::TotalsMatch,
                self.now(),
            )
            .await?;
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
    pub(super) async fn written(
        &self,
        wc_id: u64,
        l: &Link,
        customer_id: &str,
        rule: &str,
        hash: &str,
    ) -> Result<(), Stop> {
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
}
