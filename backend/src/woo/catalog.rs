//! The rest of wc/v3 that wns uses: products and variations by SKU, batch stock updates with
//! per-item errors, refunds, WooCommerce Payments deposits and transactions, and the Shipment
//! Tracking meta.

use reqwest::Method;
use serde_json::{Value, json};

use super::{
    client::{WooClient, WooError},
    model::{Deposit, PaymentTransaction, Product, Refund, TrackingItem},
};

/// WooCommerce's default `woocommerce_rest_batch_items_limit` (above it: 413).
pub const MAX_BATCH: usize = 100;

/// The answer for one item of a batch: WooCommerce answers 200 for the batch and puts each
/// item's own error in its place.
#[derive(Debug)]
pub struct BatchItem {
    pub id: u64,
    pub result: Result<Product, WooError>,
}

/// One relative stock change for wns's `POST wns/v1/stock/adjust` route (the WordPress plugin's;
/// WooCommerce core has none): applied atomically next to checkouts, once per idempotency key.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StockDelta {
    pub sku: String,
    pub delta: i64,
    pub idempotency_key: String,
}

/// What the route did with one item: WooCommerce's stock afterwards, or its error.
#[derive(Debug, Clone)]
pub struct Adjusted {
    pub sku: String,
    pub result: Result<i64, (String, String)>,
    /// The key was seen before: nothing was applied again.
    pub replayed: bool,
}

impl WooClient {
    /// Applies up to 100 stock deltas (products and variations alike, by SKU) in one request.
    /// Items fail one by one.
    /// Whether the store offers wns's atomic stock-adjust route, i.e. wns's WordPress plugin is
    /// active: WordPress answers its namespace index, or 404 `rest_no_route` without it.
    pub async fn has_stock_adjust_route(&self) -> Result<bool, WooError> {
        match self.call::<Value>("look for wns's plugin", Method::GET, self.url("wns/v1", &[]), None).await {
            Ok(index) => Ok(index.pointer("/routes/~1wns~1v1~1stock~1adjust").is_some()),
            Err(WooError::Api { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn adjust_stock(&self, items: &[StockDelta]) -> Result<Vec<Adjusted>, WooError> {
        if items.len() > MAX_BATCH {
            return Err(WooError::Protocol {
                op: "adjust stock".into(),
                problem: format!("{} items; the route accepts at most {MAX_BATCH} per request", items.len()),
            });
        }
        let answer: Value = self
            .call("adjust stock", Method::POST, self.url("wns/v1/stock/adjust", &[]), Some(&json!({ "items": items })))
            .await?;
        let rows = answer.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
        Ok(rows
            .into_iter()
            .map(|r| {
                let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
                let result = match (r.get("stock_quantity").and_then(Value::as_i64), r.get("error")) {
                    (Some(q), None) => Ok(q),
                    (_, e) => Err((text(e.and_then(|e| e.get("code"))), text(e.and_then(|e| e.get("message"))))),
                };
                Adjusted {
                    sku: text(r.get("sku")),
                    result,
                    replayed: r.get("replayed").and_then(Value::as_bool).unwrap_or(false),
                }
            })
            .collect())
    }

    /// Products and variations with any of `skus` (≤ 100; WooCommerce's comma-separated `sku`
    /// filter), one page of 100.
    pub async fn products_by_skus(&self, skus: &[&str]) -> Result<Vec<Product>, WooError> {
        let url = self.url("wc/v3/products", &[("sku", skus.join(",")), ("per_page", "100".into())]);
        Ok(self.page("find products by SKU", url).await?.items)
    }

    /// One product or variation by id.
    pub async fn product(&self, id: u64) -> Result<Product, WooError> {
        self.call("get product", Method::GET, self.url(&format!("wc/v3/products/{id}"), &[]), None).await
    }

    /// Products and variations whose SKU is exactly `sku` (WooCommerce's `sku` filter).
    pub async fn products_by_sku(&self, sku: &str) -> Result<Vec<Product>, WooError> {
        let url = self.url("wc/v3/products", &[("sku", sku.to_string())]);
        Ok(self.page("find product by SKU", url).await?.items)
    }

    /// Every variation of `product`, page by page.
    pub async fn variations(&self, product: u64) -> Result<Vec<Product>, WooError> {
        let mut all = Vec::new();
        let mut page = 1;
        loop {
            let url = self.url(
                &format!("wc/v3/products/{product}/variations"),
                &[("per_page", "100".into()), ("page", page.to_string())],
            );
            let p = self.page("list variations", url).await?;
            all.extend(p.items);
            if page >= p.total_pages {
                return Ok(all);
            }
            page += 1;
        }
    }

    /// One page of 100 of the whole catalogue (products, not variations), oldest first.
    pub async fn products_page(&self, page: u32) -> Result<super::client::Page<Product>, WooError> {
        let url = self.url(
            "wc/v3/products",
            &[
                ("per_page", "100".into()),
                ("page", page.to_string()),
                ("orderby", "id".into()),
                ("order", "asc".into()),
            ],
        );
        self.page("list products", url).await
    }

    /// `POST /products/batch` (or `/products/{parent}/variations/batch`) with `update` items,
    /// at most 100. Items fail one by one; the batch only fails as a whole when the request does.
    pub async fn batch_update(&self, parent: Option<u64>, updates: &[Value]) -> Result<Vec<BatchItem>, WooError> {
        if updates.len() > MAX_BATCH {
            return Err(WooError::Protocol {
                op: "batch update".into(),
                problem: format!("{} items; WooCommerce accepts at most {MAX_BATCH} per request", updates.len()),
            });
        }
        let path = match parent {
            Some(p) => format!("wc/v3/products/{p}/variations/batch"),
            None => "wc/v3/products/batch".into(),
        };
        let answer: Value =
            self.call("batch update", Method::POST, self.url(&path, &[]), Some(&json!({ "update": updates }))).await?;
        let items = answer.get("update").and_then(Value::as_array).cloned().unwrap_or_default();
        Ok(items.into_iter().map(batch_item).collect())
    }

    pub async fn refunds(&self, order: u64) -> Result<Vec<Refund>, WooError> {
        let url = self.url(&format!("wc/v3/orders/{order}/refunds"), &[("per_page", "100".into())]);
        Ok(self.page("list refunds", url).await?.items)
    }

    /// WooCommerce Payments deposits (payouts), newest first.
    pub async fn deposits(&self, page: u32) -> Result<Vec<Deposit>, WooError> {
        let query = [
            ("sort", "date".into()),
            ("direction", "desc".into()),
            ("page", page.to_string()),
            ("pagesize", "100".into()),
        ];
        let answer: Value =
            self.call("list deposits", Method::GET, self.url("wc/v3/payments/deposits", &query), None).await?;
        data_array("list deposits", answer)
    }

    /// The transactions (charges, refunds, disputes, fees) paid out in one deposit.
    pub async fn deposit_transactions(&self, deposit: &str, page: u32) -> Result<Vec<PaymentTransaction>, WooError> {
        let query = [
            ("deposit_id", deposit.to_string()),
            ("sort", "date".into()),
            ("direction", "asc".into()),
            ("page", page.to_string()),
            ("pagesize", "100".into()),
        ];
        let answer: Value =
            self.call("list transactions", Method::GET, self.url("wc/v3/payments/transactions", &query), None).await?;
        data_array("list transactions", answer)
    }

    /// Writes the Shipment Tracking items of an order (replacing the list, so a repeat is harmless).
    pub async fn set_tracking(&self, order: u64, items: &[TrackingItem]) -> Result<Value, WooError> {
        self.set_order_meta(order, &[("_wc_shipment_tracking_items", json!(items))]).await
    }
}

fn batch_item(v: Value) -> BatchItem {
    let id = v.get("id").and_then(Value::as_u64).unwrap_or(0);
    if let Some(err) = v.get("error") {
        let text = |k: &str| err.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let status = err.pointer("/data/status").and_then(Value::as_u64).unwrap_or(400) as u16;
        let result =
            Err(WooError::Api { op: format!("batch item {id}"), status, code: text("code"), message: text("message") });
        return BatchItem { id, result };
    }
    let result = serde_json::from_value(v)
        .map_err(|e| WooError::Protocol { op: format!("batch item {id}"), problem: e.to_string() });
    BatchItem { id, result }
}

fn data_array<T: serde::de::DeserializeOwned>(op: &str, answer: Value) -> Result<Vec<T>, WooError> {
    let data = answer.get("data").cloned().unwrap_or(Value::Array(Vec::new()));
    serde_json::from_value(data).map_err(|e| WooError::Protocol { op: op.into(), problem: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_batch_with_one_bad_id_gives_one_error_in_place() {
        let raw = include_str!("../../../fixtures/woocommerce/products-batch-update-one-bad-id.json");
        let v: Value = serde_json::from_str(raw).unwrap();
        let items: Vec<BatchItem> =
            v["response"]["body"]["update"].as_array().unwrap().iter().cloned().map(batch_item).collect();
        assert_eq!(items.len(), 3);
        assert!(items[0].result.is_ok() && items[1].result.is_ok());
        match &items[2].result {
            Err(WooError::Api { status, code, .. }) => {
                assert_eq!((*status, code.as_str()), (400, "woocommerce_rest_product_invalid_id"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(items[2].id, 999_999);
    }
}
