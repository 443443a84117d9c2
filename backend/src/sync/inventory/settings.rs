//! `[stock]`: which locations, how often, buffers, and how stock is written.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum WriteMode {
    /// Deltas through the plugin's stock-adjust route (closes the write race).
    #[default]
    Adjust,
    /// WooCommerce's batch endpoint with absolute values, for stores without the plugin.
    Absolute,
}

/// `[stock]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StockSettings {
    /// NetSuite locations whose stock the web store sells.
    pub locations: Vec<String>,
    #[serde(default = "sixty")]
    pub every_secs: u64,
    #[serde(default = "overlap")]
    pub overlap_secs: u64,
    #[serde(default = "nightly")]
    pub full_every_secs: u64,
    #[serde(default = "stale")]
    pub stale_after_secs: u64,
    /// Units held back from every SKU.
    #[serde(default)]
    pub buffer: i64,
    /// Per SKU, instead of `buffer`.
    #[serde(default)]
    pub buffers: BTreeMap<String, i64>,
    /// Per WooCommerce category slug, instead of `buffer` (the largest of a product's
    /// categories; a SKU's own buffer wins). Categories come from the nightly reconciliation.
    #[serde(default)]
    pub category_buffers: BTreeMap<String, i64>,
    #[serde(default)]
    pub write: WriteMode,
    /// Count units of orders NetSuite does not reflect yet (turn off only to measure why not).
    #[serde(default = "yes")]
    pub reserve_in_flight: bool,
    /// Write WooCommerce back to wns's figure when it drifted.
    #[serde(default)]
    pub correct_drift: bool,
    /// A difference must still be there this long after it was first seen to be drift: a
    /// checkout's `product.updated` can arrive before its order's webhook.
    #[serde(default = "drift_grace")]
    pub drift_grace_secs: u64,
}

fn drift_grace() -> u64 {
    120
}

fn sixty() -> u64 {
    60
}
fn overlap() -> u64 {
    120
}
fn nightly() -> u64 {
    86_400
}
fn stale() -> u64 {
    900
}
fn yes() -> bool {
    true
}

impl StockSettings {
    pub fn new(locations: Vec<String>) -> StockSettings {
        StockSettings {
            locations,
            every_secs: sixty(),
            overlap_secs: overlap(),
            full_every_secs: nightly(),
            stale_after_secs: stale(),
            buffer: 0,
            buffers: BTreeMap::new(),
            category_buffers: BTreeMap::new(),
            write: WriteMode::Adjust,
            reserve_in_flight: true,
            correct_drift: false,
            drift_grace_secs: drift_grace(),
        }
    }

    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if self.locations.is_empty() {
            return Err(("stock.locations", "name the NetSuite location ids the web store sells from".into()));
        }
        if self.every_secs == 0 {
            return Err(("stock.every_secs", "must be at least 1".into()));
        }
        if self.buffer < 0 || self.buffers.values().chain(self.category_buffers.values()).any(|b| *b < 0) {
            return Err(("stock.buffer", "buffers are units held back: 0 or more".into()));
        }
        Ok(())
    }

    /// The SKU's own buffer, else the largest of its categories', else the default.
    pub fn buffer_of(&self, sku: &str, categories: &str) -> i64 {
        if let Some(b) = self.buffers.get(sku) {
            return *b;
        }
        categories.split(',').filter_map(|c| self.category_buffers.get(c.trim())).copied().max().unwrap_or(self.buffer)
    }
}
