//! Webhook health: WooCommerce disables a webhook after repeated failed deliveries (and never
//! retries a failed one), so a few minutes of wns downtime could silently stop all deliveries.
//! At start and every few minutes wns makes sure its webhooks exist, point at this backend and are
//! active; it re-enables a disabled one and raises an exception saying so (owner: ecommerce),
//! because every delivery in between was lost (the sweep recovers those orders).

use super::client::{WooClient, WooError};
use crate::{
    monitor::{Exception, ExceptionKind},
    store::Store,
};

/// The topics wns needs (refunds arrive as `order.updated` of the parent order).
pub const TOPICS: [&str; 5] = ["order.created", "order.updated", "order.deleted", "order.restored", "product.updated"];

#[derive(Debug, Default, PartialEq, Eq)]
pub struct HealthReport {
    pub active: Vec<String>,
    pub created: Vec<String>,
    /// `(webhook id, topic)` of webhooks WooCommerce had disabled or someone paused.
    pub reenabled: Vec<(u64, String)>,
}

pub async fn ensure_webhooks(
    client: &WooClient,
    store: &Store,
    delivery_url: &str,
    now: i64,
) -> Result<HealthReport, WooError> {
    let existing = client.webhooks().await?;
    let mut report = HealthReport::default();
    for topic in TOPICS {
        let ours = existing.iter().find(|w| w.topic == topic && w.delivery_url == delivery_url);
        match ours {
            None => {
                client.create_webhook(topic, delivery_url).await?;
                report.created.push(topic.to_string());
            }
            Some(w) if w.status == "active" => report.active.push(topic.to_string()),
            Some(w) => {
                client.reenable_webhook(w.id).await?;
                let e = Exception::new(
                    ExceptionKind::WebhookDisabled,
                    format!("webhook:{}", w.id),
                    format!(
                        "WooCommerce had set wns's {topic} webhook (id {}) to {}; wns re-enabled it. Deliveries WooCommerce made while it was off were lost; the order sweep catches those orders up",
                        w.id, w.status
                    ),
                    "Usually wns was unreachable for a while (WooCommerce disables a webhook after several failed deliveries). Check that wns is reachable from the store at the delivery URL; if it keeps happening, look at the store's webhook delivery log (WooCommerce > Status > Logs, source webhooks-delivery).",
                );
                if let Err(err) = e.raise(store, now).await {
                    tracing::error!(error = %err, "could not record the webhook-disabled exception");
                }
                report.reenabled.push((w.id, topic.to_string()));
            }
        }
    }
    Ok(report)
}
