//! WooCommerce wire types: only the fields wns reads, parsed at the edge. Times: WooCommerce
//! writes `YYYY-MM-DDTHH:MM:SS` without a zone; the `_gmt` fields are UTC.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct OrderSummary {
    pub id: u64,
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub status: String,
    pub date_modified_gmt: Option<String>,
}

impl OrderSummary {
    pub fn modified(&self) -> Option<DateTime<Utc>> {
        self.date_modified_gmt.as_deref().and_then(parse_gmt)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Webhook {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    pub status: String,
    pub topic: String,
    #[serde(default)]
    pub delivery_url: String,
}

/// `2026-11-26T20:49:05` (a `_gmt` field) as UTC.
pub fn parse_gmt(s: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").ok().map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/woocommerce");

    fn body(name: &str) -> serde_json::Value {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap()).unwrap();
        v["response"]["body"].clone()
    }

    #[test]
    fn recorded_order_lists_and_webhooks_parse() {
        let orders: Vec<OrderSummary> = serde_json::from_value(body("orders-list-page1.json")).unwrap();
        assert_eq!(orders[0].id, 23);
        assert_eq!(orders[0].modified().unwrap().to_rfc3339(), "2026-11-26T20:49:05+00:00");
        let hooks: Vec<Webhook> = serde_json::from_value(body("webhooks-list.json")).unwrap();
        assert!(hooks.iter().any(|h| h.topic == "order.deleted" && h.status == "active"));
    }
}
