//! WooCommerce: the webhook receiver that never loses an order (and, with issue #4's remaining
//! parts, the wc/v3 client, webhook health and the catch-up sweep).

pub mod catalog;
pub mod client;
pub mod health;
pub mod model;
pub mod money;
pub mod sweep;
pub mod webhook;

pub use client::{WooClient, WooError};

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use crate::{metrics::Metrics, queue::Queue};

/// `wns serve`'s WooCommerce chores until `stop`: webhook health at start and every
/// `webhook_check_every_secs` (every minute while a re-enabled webhook is watched), the catch-up
/// sweep every `sweep_every_secs`. Failures are logged
/// and tried again at the next tick; they never stop the service.
pub async fn run_background(
    settings: WooSettings,
    queue: Queue,
    metrics: Arc<Metrics>,
    stop: CancellationToken,
    heartbeat: crate::supervise::Heartbeat,
) {
    let client = match WooClient::new(&settings) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("WooCommerce client: {e}");
            return;
        }
    };
    let every = Duration::from_secs(settings.webhook_check_every_secs.max(10));
    // A webhook wns re-enabled is one failed delivery from being disabled again (WooCommerce keeps
    // its failure count until a delivery succeeds): while one is watched, look every minute.
    let watching_every = every.min(Duration::from_secs(60));
    let mut next_check = tokio::time::Instant::now();
    let mut sweep = tokio::time::interval(Duration::from_secs(settings.sweep_every_secs.max(10)));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep_until(next_check) => {
                let now = queue.now();
                next_check = tokio::time::Instant::now() + every;
                match health::ensure_webhooks(&client, queue.store(), &settings.delivery_url(), now).await {
                    Ok(r) => {
                        heartbeat.ok();
                        // Creating what is missing is routine (a new store, the first start); a webhook
                        // WooCommerce had disabled lost deliveries, and its exception says so.
                        if !r.reenabled.is_empty() {
                            tracing::warn!(created = ?r.created, reenabled = ?r.reenabled, "WooCommerce webhooks re-enabled");
                        } else if !r.created.is_empty() {
                            tracing::info!(created = ?r.created, "WooCommerce webhooks created");
                        }
                        if !r.watching.is_empty() || !r.reenabled.is_empty() {
                            next_check = tokio::time::Instant::now() + watching_every;
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "checking WooCommerce webhooks failed"),
                }
            }
            _ = sweep.tick() => {
                let swept = sweep::sweep(&client, &queue, Some(&metrics), &sweep::SweepOptions::default()).await;
                if swept.is_ok() {
                    heartbeat.ok();
                }
                match swept {
                    Ok(r) if r.missed > 0 => tracing::warn!(missed = r.missed, listed = r.listed, "sweep found orders no webhook delivered"),
                    Ok(r) => tracing::debug!(listed = r.listed, "sweep"),
                    Err(e) => tracing::warn!(error = %e, "order sweep failed"),
                }
            }
        }
    }
}

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WooSettings {
    /// The store's address as WordPress reports it (`https://shop.example`).
    pub base_url: String,
    pub consumer_key: String,
    #[serde(serialize_with = "crate::secrets::serialize_secret")]
    pub consumer_secret: SecretString,
    /// The secret wns's webhooks are created with; every delivery is signed with it.
    #[serde(serialize_with = "crate::secrets::serialize_secret")]
    pub webhook_secret: SecretString,
    /// Larger deliveries are refused with 413 (and counted) before anything is read into memory.
    #[serde(default = "default_max_body")]
    pub webhook_max_body_bytes: usize,
    /// Where the store reaches wns, e.g. `https://wns.example.com`; wns's webhooks deliver to
    /// `<public_url>/webhooks/woocommerce`.
    pub public_url: String,
    /// How often the catch-up sweep lists recently modified orders.
    #[serde(default = "default_sweep")]
    pub sweep_every_secs: u64,
    /// How often webhook health is checked (they are also checked at start).
    #[serde(default = "default_sweep")]
    pub webhook_check_every_secs: u64,
    /// A PEM file of certificate authorities to trust for the store besides the public ones: a
    /// staging store behind a proxy whose certificate the company's own CA signed.
    #[serde(default)]
    pub ca_file: Option<String>,
}

fn default_sweep() -> u64 {
    30
}

fn default_max_body() -> usize {
    2 * 1024 * 1024
}

impl std::fmt::Debug for WooSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WooSettings")
            .field("base_url", &self.base_url)
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"[REDACTED]")
            .field("webhook_secret", &"[REDACTED]")
            .field("webhook_max_body_bytes", &self.webhook_max_body_bytes)
            .field("public_url", &self.public_url)
            .field("ca_file", &self.ca_file)
            .finish_non_exhaustive()
    }
}

impl WooSettings {
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let url = url::Url::parse(&self.base_url)
            .map_err(|e| ("woocommerce.base_url", format!("{:?} is not a URL: {e}", self.base_url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(("woocommerce.base_url", "must start with https:// (or http:// for a local store)".into()));
        }
        if self.consumer_key.is_empty() {
            return Err((
                "woocommerce.consumer_key",
                "create a key at WooCommerce > Settings > Advanced > REST API".into(),
            ));
        }
        use secrecy::ExposeSecret;
        if self.webhook_secret.expose_secret().len() < 16 {
            return Err(("woocommerce.webhook_secret", "use at least 16 letters and digits".into()));
        }
        if self.webhook_max_body_bytes < 64 * 1024 {
            return Err(("woocommerce.webhook_max_body_bytes", "must be at least 65536: large orders are big".into()));
        }
        url::Url::parse(&self.public_url).map_err(|e| {
            ("woocommerce.public_url", format!("{:?} is not a URL the store can reach: {e}", self.public_url))
        })?;
        Ok(())
    }

    pub fn delivery_url(&self) -> String {
        format!("{}/webhooks/woocommerce", self.public_url.trim_end_matches('/'))
    }
}
