//! WooCommerce: the webhook receiver that never loses an order (and, with issue #4's remaining
//! parts, the wc/v3 client, webhook health and the catch-up sweep).

pub mod webhook;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WooSettings {
    /// The store's address as WordPress reports it (`https://shop.example`).
    pub base_url: String,
    pub consumer_key: String,
    #[serde(serialize_with = "crate::config::serialize_secret")]
    pub consumer_secret: SecretString,
    /// The secret wns's webhooks are created with; every delivery is signed with it.
    #[serde(serialize_with = "crate::config::serialize_secret")]
    pub webhook_secret: SecretString,
    /// Larger deliveries are refused with 413 (and counted) before anything is read into memory.
    #[serde(default = "default_max_body")]
    pub webhook_max_body_bytes: usize,
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
            .finish()
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
        Ok(())
    }
}
