//! The flows, one file each (see "Sync flows" in `docs/architecture.md`): the customers every order needs, the
//! mapping of an order to its sales order, where it ships from, and the `woo.order` job that
//! ties them together.

pub mod customers;
pub mod inventory;
pub mod items;
pub mod order_flow;
pub mod routing;
pub mod sales_order;
pub mod sales_order_writer;

use serde::{Deserialize, Serialize};

/// `[sync]`: which orders go to NetSuite and how.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SyncSettings {
    /// WooCommerce statuses whose orders are posted (add `on-hold` to post unpaid bank transfers).
    #[serde(default = "default_statuses")]
    pub statuses: Vec<String>,
    /// How often orders blocked on causes fixed inside NetSuite (items, tax, login) are looked at.
    #[serde(default = "default_recheck")]
    pub recheck_secs: u64,
    pub orders: sales_order::OrderMapping,
    #[serde(default)]
    pub routing: routing::RoutingSettings,
    /// `[sync.batch]`: async batches for a backlog of sales orders (off by default).
    #[serde(default)]
    pub batch: sales_order_writer::BatchSettings,
}

fn default_statuses() -> Vec<String> {
    vec!["processing".into(), "completed".into()]
}

fn default_recheck() -> u64 {
    300
}

impl SyncSettings {
    pub fn new(orders: sales_order::OrderMapping) -> SyncSettings {
        SyncSettings {
            statuses: default_statuses(),
            recheck_secs: default_recheck(),
            orders,
            routing: routing::RoutingSettings::default(),
            batch: sales_order_writer::BatchSettings::default(),
        }
    }

    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        const KNOWN: &[&str] = &["pending", "processing", "on-hold", "completed"];
        if let Some(s) = self.statuses.iter().find(|s| !KNOWN.contains(&s.as_str())) {
            return Err(("sync.statuses", format!("{s:?} is not a status to post; use some of {KNOWN:?}")));
        }
        if self.recheck_secs == 0 {
            return Err(("sync.recheck_secs", "must be at least 1".into()));
        }
        self.batch.validate()?;
        self.orders.validate()
    }
}
