//! Webhook health: WooCommerce disables a webhook after repeated failed deliveries (and never
//! retries a failed one), so a few minutes of wns downtime could silently stop all deliveries.
//! At start and every few minutes wns makes sure its webhooks exist, point at this backend and are
//! active; it re-enables a disabled one and raises an exception saying so (owner: ecommerce),
//! because every delivery in between was lost (the sweep recovers those orders).

use sqlx::Row;

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
    /// `(webhook id, topic)` of webhooks whose deliveries failed the signature check since the
    /// last look: their secret was set back to wns's.
    pub secret_reset: Vec<(u64, String)>,
}

/// `since`: quarantined deliveries received after this time (ms) count as a wrong secret.
pub async fn ensure_webhooks(
    client: &WooClient,
    store: &Store,
    delivery_url: &str,
    since: i64,
    now: i64,
) -> Result<HealthReport, WooError> {
    let existing = client.webhooks().await?;
    let mut report = HealthReport::default();
    for topic in TOPICS {
        let ours = existing.iter().find(|w| w.topic == topic && w.delivery_url == delivery_url);
        if let Some(w) = ours
            && quarantined_since(store, w.id, since).await > 0
        {
            client.reset_webhook_secret(w.id).await?;
            tracing::warn!(webhook = w.id, topic, "deliveries failed the signature check; webhook secret set to wns's");
            report.secret_reset.push((w.id, topic.to_string()));
        }
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

/// Deliveries from webhook `id` refused for their signature since `since`; a database error
/// counts as none (the next check looks again).
async fn quarantined_since(store: &Store, id: u64, since: i64) -> i64 {
    let counted = sqlx::query(
        "select count(*) from webhook_deliveries where status = 'quarantined' and webhook_id = $1 and received_at >= $2",
    )
    .bind(id.to_string())
    .bind(since)
    .fetch_one(store.pool())
    .await
    .and_then(|r| r.try_get::<i64, _>(0));
    counted.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "counting quarantined deliveries failed");
        0
    })
}
