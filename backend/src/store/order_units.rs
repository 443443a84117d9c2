//! The order-units ledger (`order_units`): the units of every WooCommerce order wns has seen,
//! and whether NetSuite's stock figure reflects them yet. Written by the webhook receiver (in the
//! delivery's transaction), the sweep and the order flow; read by the stock flow, which counts
//! units that NetSuite does not reflect yet as in flight (see `sync::inventory`).

use std::collections::BTreeMap;

use super::Store;

/// Units of a WooCommerce order: `lines` are (SKU, quantity); `active` when the order holds
/// stock in WooCommerce (processing, on-hold, completed).
pub async fn record(
    store: &Store,
    order_id: u64,
    lines: &[(String, i64)],
    active: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = store.pool().begin().await?;
    record_in(&mut tx, order_id, lines, active, now).await?;
    tx.commit().await
}

/// [`record`] inside the caller's transaction (the webhook receiver's, the sweep's).
pub async fn record_in(
    tx: &mut sqlx::AnyConnection,
    order_id: u64,
    lines: &[(String, i64)],
    active: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    let mut per_sku: BTreeMap<&str, i64> = BTreeMap::new();
    for (sku, q) in lines {
        *per_sku.entry(sku.as_str()).or_default() += q;
    }
    sqlx::query("update order_units set quantity = 0 where wc_order_id = $1")
        .bind(order_id as i64)
        .execute(&mut *tx)
        .await?;
    for (sku, q) in per_sku {
        sqlx::query(
            "insert into order_units (wc_order_id, sku, quantity, active, seen_at) values ($1, $2, $3, $4, $5) \
             on conflict (wc_order_id, sku) do update set quantity = excluded.quantity, active = excluded.active",
        )
        .bind(order_id as i64)
        .bind(sku)
        .bind(q)
        .bind(active as i32)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("update order_units set active = $2 where wc_order_id = $1")
        .bind(order_id as i64)
        .bind(active as i32)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// NetSuite saved the order's sales order (committing its units) at `now`.
pub async fn posted(store: &Store, order_id: u64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update order_units set posted_quantity = quantity, posted_at = $2, closed_at = null where wc_order_id = $1",
    )
    .bind(order_id as i64)
    .bind(now)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// NetSuite closed the order's lines (releasing the commitment) at `now`.
pub async fn closed(store: &Store, order_id: u64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("update order_units set closed_at = $2, active = 0 where wc_order_id = $1")
        .bind(order_id as i64)
        .bind(now)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Of `order_ids`, those the ledger has no units for.
pub async fn unknown(store: &Store, order_ids: &[u64]) -> Result<Vec<u64>, sqlx::Error> {
    if order_ids.is_empty() {
        return Ok(Vec::new());
    }
    let list: Vec<String> = order_ids.iter().map(u64::to_string).collect();
    let known: Vec<i64> = sqlx::query_scalar(&format!(
        "select distinct wc_order_id from order_units where wc_order_id in ({})",
        list.join(", ")
    ))
    .fetch_all(store.pool())
    .await?;
    Ok(order_ids.iter().copied().filter(|id| !known.contains(&(*id as i64))).collect())
}
