//! `order_links`: what wns knows of each order's sales order (ids, route, body hash, state).

use rust_decimal::Decimal;

use crate::netsuite::ExternalId;
use crate::sync::customers::CustomerMatch;

use super::*;

impl OrderFlow {
    pub(super) async fn link(&self, id: u64) -> Result<Option<Link>, sqlx::Error> {
        sqlx::query_as(
            "select state, netsuite_id, tranid, route, body_hash, woo_written_for from order_links where wc_order_id = $1",
        )
        .bind(id as i64)
        .fetch_optional(self.store().pool())
        .await
    }

    pub(super) async fn save_link(
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
}
