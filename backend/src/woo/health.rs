//! Webhook health: WooCommerce disables a webhook after repeated failed deliveries (and never
//! retries a failed one), so a few minutes of wns downtime could silently stop all deliveries.
//! At start and every few minutes wns makes sure its webhooks exist, point at this backend and are
//! active; it re-enables a disabled one and raises an exception saying so (owner: ecommerce),
//! because every delivery in between was lost (the sweep recovers those orders).
//!
//! A re-enabled webhook keeps WooCommerce's count of failed deliveries until one succeeds
//! (`WC_Webhook::log_delivery` resets it only on success; the REST API neither shows nor resets
//! it), so one more failure disables it again. Its exception stays open, and the webhook
//! watched, until an accepted delivery from it proves the count was reset.
//!
//! Nothing here is caused by an unsigned request: deliveries that fail the signature check only
//! raise `webhook_unsigned` (see `woo::webhook`); wns writes its secret to a webhook only when it
//! creates one.

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
    /// Re-enabled webhooks with no successful delivery since: one more failure disables them.
    pub watching: Vec<u64>,
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
            Some(w) if w.status == "active" => {
                report.active.push(topic.to_string());
                if !delivered_since_reenabled(store, w.id, now).await {
                    report.watching.push(w.id);
                }
            }
            Some(w) => {
                client.reenable_webhook(w.id).await?;
                let e = Exception::new(
                    ExceptionKind::WebhookDisabled,
                    format!("webhook:{}", w.id),
                    format!(
                        "WooCommerce had set wns's {topic} webhook (id {}) to {}; wns re-enabled it. Deliveries WooCommerce made while it was off were lost; the order sweep catches those orders up. WooCommerce keeps counting the failed deliveries until one succeeds, so a single further failure disables it again: wns watches it, and this closes by itself at its first successful delivery",
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

/// Whether webhook `id` has nothing to watch: no open `webhook_disabled` exception, or an
/// accepted delivery from it since the exception was last raised (WooCommerce then reset its
/// failure count), which closes the exception. A database error counts as still watched.
async fn delivered_since_reenabled(store: &Store, id: u64, now: i64) -> bool {
    let entity = format!("webhook:{id}");
    let open: Result<Option<i64>, _> = sqlx::query_scalar(
        "select last_seen from exceptions where kind = $1 and entity_key = $2 and resolved_at is null",
    )
    .bind(ExceptionKind::WebhookDisabled.as_str())
    .bind(&entity)
    .fetch_optional(store.pool())
    .await;
    let since = match open {
        Ok(None) => return true,
        Ok(Some(since)) => since,
        Err(e) => {
            tracing::warn!(error = %e, "reading the webhook's exception failed");
            return false;
        }
    };
    let delivered: Result<i64, _> = sqlx::query_scalar(
        "select count(*) from webhook_deliveries where status = 'accepted' and webhook_id = $1 and received_at >= $2",
    )
    .bind(id.to_string())
    .bind(since)
    .fetch_one(store.pool())
    .await;
    match delivered {
        Ok(n) if n > 0 => {
            let delivered = crate::monitor::exceptions::Resolution::WebhookDelivered;
            if let Err(e) =
                crate::monitor::exceptions::resolve(store, ExceptionKind::WebhookDisabled, &entity, delivered, now)
                    .await
            {
                tracing::warn!(error = %e, "closing the webhook's exception failed");
            }
            true
        }
        _ => false,
    }
}
