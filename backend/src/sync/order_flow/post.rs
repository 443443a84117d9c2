//! Posting: the sales order body, one upsert by external id, and what an edit may change.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::sync::{
    routing::{self, Route},
    sales_order::{TaxMode, resolve_skus, sales_order},
};
use crate::{
    monitor::exceptions::{self, Exception, ExceptionKind, Resolution},
    netsuite::{Lane, RecordKey},
    store::order_units,
    woo::model::Order,
};

use super::*;

impl OrderFlow {
    pub(super) async fn post(&self, order: &Order, link: Option<Link>) -> Result<Synced, Stop> {
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
        }
        self.save_link(id, &eid, &new, Some(&customer), Some(order.total)).await?;
        order_units::posted(self.store(), id, self.now()).await?;
        self.posted(order, &items).await?;
        if new.tranid.is_some() {
            self.written(id, &new, &customer.netsuite_id, customer.rule.as_str(), &hash).await?;
        } else {
            self.read_back_soon().await?;
        }
        Ok(Synced::Posted { netsuite_id: so.id, tranid: new.tranid.unwrap_or_default(), updated })
    }

    /// The order is in NetSuite: what blocked it is gone, and so is what its posting proves
    /// fixed — its SKUs have items, its items are sellable, the login works, and the sweep's
    /// miss is processed. With NetSuite's tax the order was approved within the tolerance; with
    /// WooCommerce's the read-back compares the totals and decides (see `read_back`).
    async fn posted(&self, order: &Order, items: &BTreeMap<String, String>) -> Result<(), sqlx::Error> {
        let mut kinds = vec![
            ExceptionKind::MissingSku,
            ExceptionKind::CustomerRejected,
            ExceptionKind::SalesOrderRejected,
            ExceptionKind::WebhookMiss,
            ExceptionKind::UnmappedSku,
            ExceptionKind::ItemNotSellable,
            ExceptionKind::NetSuiteLogin,
        ];
        if self.inner.settings.orders.tax_mode == TaxMode::Netsuite {
            kinds.push(ExceptionKind::TaxDifference);
        }
        let mut keys: BTreeSet<String> = BTreeSet::from([format!("order:{}", order.id), "netsuite".to_string()]);
        for li in &order.line_items {
            keys.insert(format!("sku:{}", li.sku));
            if let Some(item) = items.get(&li.sku) {
                keys.insert(format!("item:{item}"));
            }
        }
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        exceptions::resolve_any(self.store(), &kinds, &keys, Resolution::OrderPosted, self.now()).await?;
        Ok(())
    }

    pub(super) async fn frozen(&self, order: &Order, l: &Link, hash: &str, what: &str) -> Result<(), Stop> {
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
}
