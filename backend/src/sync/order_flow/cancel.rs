//! A cancelled, trashed or deleted order: the sales order's open lines are closed, never deleted.

use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::{
    monitor::exceptions::{Exception, ExceptionKind},
    netsuite::{Lane, NsError, RecordKey},
    store::order_units,
    woo::model::Order,
};

use super::*;

impl OrderFlow {
    /// Cancelled, trashed or deleted in WooCommerce: close the sales order's open lines.
    pub(super) async fn close(
        &self,
        id: u64,
        link: Option<Link>,
        why: &str,
        order: Option<&Order>,
    ) -> Result<Synced, Stop> {
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
}
