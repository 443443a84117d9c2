//! What each WooCommerce order is worth (`order_amounts`), as the order flow last read it, so a
//! person looking at a blocked SKU or an exception sees the money waiting behind it. Sums are
//! exact decimals, one per currency (a shop selling in two currencies gets two figures, never a
//! converted one).

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use wns_api_types::Money;

use super::Store;

/// Records order `order_id`'s total (called each time the order flow reads the order).
pub async fn record(store: &Store, order_id: u64, total: Decimal, currency: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into order_amounts (wc_order_id, total, currency, read_at) values ($1, $2, $3, $4) \
         on conflict (wc_order_id) do update set total = excluded.total, currency = excluded.currency, \
         read_at = excluded.read_at",
    )
    .bind(order_id as i64)
    .bind(total.to_string())
    .bind(currency)
    .bind(now)
    .execute(store.pool())
    .await?;
    Ok(())
}

/// Orders blocked on one cause and what they are worth.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub orders: u64,
    /// Per currency; an order whose total wns has not read yet counts in `orders` only.
    pub money: BTreeMap<String, Decimal>,
}

impl Waiting {
    pub fn add(&mut self, amount: Option<(Decimal, String)>) {
        self.orders += 1;
        if let Some((total, currency)) = amount {
            *self.money.entry(currency).or_default() += total;
        }
    }

    /// The sums as the API shows them, currencies in alphabetical order.
    pub fn money(&self) -> Vec<Money> {
        self.money
            .iter()
            .map(|(currency, amount)| Money { currency: currency.clone(), amount: amount.to_string() })
            .collect()
    }
}

/// Every blocked order of kind `kind` with its cause (`jobs.blocked_cause`), its id (from the
/// entity key) and its amount where known: one query, whatever the number of blocked orders.
pub async fn blocked(store: &Store, kind: &str) -> Result<Vec<BlockedOrder>, sqlx::Error> {
    /// cause, entity key, since, total, currency
    type Row = (String, String, i64, Option<String>, Option<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "select j.blocked_cause, j.entity_key, j.updated_at, a.total, a.currency from jobs j \
         left join order_amounts a on j.entity_key = 'order:' || cast(a.wc_order_id as text) \
         where j.kind = $1 and j.state = 'blocked' order by j.updated_at, j.id",
    )
    .bind(kind)
    .fetch_all(store.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(cause, key, since, total, currency)| BlockedOrder {
            cause,
            order_id: key.strip_prefix("order:").and_then(|id| id.parse().ok()),
            since,
            amount: total.and_then(|t| t.parse::<Decimal>().ok()).zip(currency),
        })
        .collect())
}

/// One blocked order, as [`blocked`] reads it.
#[derive(Debug, Clone)]
pub struct BlockedOrder {
    pub cause: String,
    pub order_id: Option<u64>,
    /// When it was blocked (the job's last update, ms since the epoch).
    pub since: i64,
    pub amount: Option<(Decimal, String)>,
}

/// [`blocked`] summed per `key(cause)`.
pub fn per<K: std::hash::Hash + Eq>(orders: &[BlockedOrder], key: impl Fn(&str) -> K) -> HashMap<K, Waiting> {
    let mut out: HashMap<K, Waiting> = HashMap::new();
    for o in orders {
        out.entry(key(&o.cause)).or_default().add(o.amount.clone());
    }
    out
}
