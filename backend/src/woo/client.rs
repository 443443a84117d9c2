//! The wc/v3 REST client. Over HTTPS it uses the consumer key and secret with Basic auth; over
//! plain HTTP WooCommerce refuses Basic and query-string keys, so it signs each request with
//! one-legged OAuth 1.0a (HMAC-SHA256, key `secret&`, no token, no version), in the header.
//!
//! Errors come back as WooCommerce's `{"code","message","data":{"status"}}` and classify like
//! NetSuite's: 429/5xx/no answer → retry; 401 (keys wrong or revoked) → fatal; other 4xx → a
//! person must look. Nothing here retries; the job queue does.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use url::Url;

use super::{
    WooSettings,
    model::{OrderSummary, Webhook},
};
use crate::remote::{ErrorClass, oauth1::OAuth1Signer};

#[derive(Debug, thiserror::Error)]
pub enum WooError {
    #[error("WooCommerce {op} answered {status}: {code} {message}")]
    Api { op: String, status: u16, code: String, message: String },
    #[error("WooCommerce {op} got no answer: {}", causes(source))]
    Transport {
        op: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("WooCommerce {op}: unexpected answer: {problem}")]
    Protocol { op: String, problem: String },
}

/// An error with what caused it, down to the root ("error sending request …: invalid peer
/// certificate: UnknownIssuer"): reqwest's own message names only the first step.
fn causes(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut next = std::error::Error::source(e);
    while let Some(cause) = next {
        let words = cause.to_string();
        if !text.contains(&words) {
            text.push_str(": ");
            text.push_str(&words);
        }
        next = cause.source();
    }
    text
}

impl WooError {
    pub fn class(&self) -> ErrorClass {
        match self {
            WooError::Transport { .. } | WooError::Protocol { .. } => ErrorClass::Retry,
            WooError::Api { status, .. } if *status == 429 || *status >= 500 => ErrorClass::Retry,
            WooError::Api { status: 401, .. } => ErrorClass::Fatal,
            WooError::Api { .. } => ErrorClass::NeedsPerson,
        }
    }
}

enum Auth {
    Basic,
    OAuth1(OAuth1Signer),
}

#[derive(Clone)]
pub struct WooClient {
    inner: std::sync::Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// `…/wp-json/`
    api: Url,
    settings: WooSettings,
    auth: Auth,
}

impl std::fmt::Debug for WooClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WooClient").field("api", &self.inner.api.as_str()).finish()
    }
}

/// One page of a list and how many pages there are (`X-WP-TotalPages`).
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total_pages: u32,
    pub total: u64,
}

/// The certificates of `woocommerce.ca_file`, with an error that says what to fix.
fn extra_roots(file: &str) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(file).map_err(|e| format!("woocommerce.ca_file: cannot read {file:?}: {e}"))?;
    let roots = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("woocommerce.ca_file: {file:?} is not a PEM certificate bundle: {e}"))?;
    if roots.is_empty() {
        return Err(format!(
            "woocommerce.ca_file: {file:?} holds no certificate (expected -----BEGIN CERTIFICATE----- blocks)"
        ));
    }
    Ok(roots)
}

impl WooClient {
    pub fn new(settings: &WooSettings) -> Result<WooClient, String> {
        let mut base = Url::parse(&settings.base_url).map_err(|e| format!("woocommerce.base_url: {e}"))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let api = base.join("wp-json/").map_err(|e| e.to_string())?;
        let auth = if api.scheme() == "https" {
            Auth::Basic
        } else {
            Auth::OAuth1(OAuth1Signer::one_legged(settings.consumer_key.clone(), settings.consumer_secret.clone()))
        };
        let mut http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("wns/", env!("CARGO_PKG_VERSION")));
        if let Some(file) = settings.ca_file.as_deref().filter(|f| !f.trim().is_empty()) {
            for ca in extra_roots(file)? {
                http = http.add_root_certificate(ca);
            }
        }
        let http = http.build().map_err(|e| e.to_string())?;
        Ok(WooClient { inner: std::sync::Arc::new(Inner { http, api, settings: settings.clone(), auth }) })
    }

    pub(super) fn url(&self, path: &str, query: &[(&str, String)]) -> Url {
        let mut url = self.inner.api.join(path).expect("paths of this module are relative");
        if !query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        url
    }

    async fn send(
        &self,
        op: &str,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<(reqwest::header::HeaderMap, Vec<u8>), WooError> {
        let mut req = self.inner.http.request(method.clone(), url.clone());
        req = match &self.inner.auth {
            Auth::Basic => req.basic_auth(
                &self.inner.settings.consumer_key,
                Some(self.inner.settings.consumer_secret.expose_secret()),
            ),
            Auth::OAuth1(signer) => req.header("Authorization", signer.authorization(method.as_str(), &url)),
        };
        if let Some(b) = body {
            req = req.json(b);
        }
        let transport = |source| WooError::Transport { op: op.into(), source };
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.map_err(transport)?.to_vec();
        if !(200..300).contains(&status) {
            let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
            return Err(WooError::Api {
                op: op.into(),
                status,
                code: text("code").unwrap_or_else(|| "unknown".into()),
                message: text("message")
                    .unwrap_or_else(|| String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).to_string()),
            });
        }
        Ok((headers, bytes))
    }

    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        op: &str,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<T, WooError> {
        let (_, bytes) = self.send(op, method, url, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| WooError::Protocol { op: op.into(), problem: e.to_string() })
    }

    pub(super) async fn page<T: DeserializeOwned>(&self, op: &str, url: Url) -> Result<Page<T>, WooError> {
        let (headers, bytes) = self.send(op, Method::GET, url, None).await?;
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        let items =
            serde_json::from_slice(&bytes).map_err(|e| WooError::Protocol { op: op.into(), problem: e.to_string() })?;
        Ok(Page {
            items,
            total_pages: header("x-wp-totalpages").unwrap_or(1) as u32,
            total: header("x-wp-total").unwrap_or(0),
        })
    }

    /// Orders modified after `after` (GMT), oldest first, 100 per page. Only the fields the
    /// sweep needs are requested.
    pub async fn orders_modified_after(&self, after: DateTime<Utc>, page: u32) -> Result<Page<OrderSummary>, WooError> {
        let url = self.url(
            "wc/v3/orders",
            &[
                ("modified_after", after.to_rfc3339_opts(SecondsFormat::Secs, true).trim_end_matches('Z').to_string()),
                ("dates_are_gmt", "true".into()),
                ("orderby", "modified".into()),
                ("order", "asc".into()),
                ("per_page", "100".into()),
                ("page", page.to_string()),
                ("_fields", "id,number,status,date_modified_gmt,line_items".into()),
            ],
        );
        self.page("list orders", url).await
    }

    pub async fn order(&self, id: u64) -> Result<Value, WooError> {
        self.call("get order", Method::GET, self.url(&format!("wc/v3/orders/{id}"), &[]), None).await
    }

    /// Upserts meta by key (WooCommerce matches `meta_data` entries by key); totals untouched.
    pub async fn set_order_meta(&self, id: u64, meta: &[(&str, Value)]) -> Result<Value, WooError> {
        let meta: Vec<Value> = meta.iter().map(|(k, v)| json!({ "key": k, "value": v })).collect();
        let body = json!({ "meta_data": meta });
        self.call("update order", Method::PUT, self.url(&format!("wc/v3/orders/{id}"), &[]), Some(&body)).await
    }

    /// Moves the order to `status` (e.g. `completed` once NetSuite has shipped everything).
    /// WooCommerce applies the status after other fields, so its transition hooks see them.
    pub async fn set_order_status(&self, id: u64, status: &str) -> Result<Value, WooError> {
        let body = json!({ "status": status });
        self.call("update order status", Method::PUT, self.url(&format!("wc/v3/orders/{id}"), &[]), Some(&body)).await
    }

    pub async fn add_order_note(&self, id: u64, note: &str, customer_note: bool) -> Result<Value, WooError> {
        let body = json!({ "note": note, "customer_note": customer_note });
        self.call("add order note", Method::POST, self.url(&format!("wc/v3/orders/{id}/notes"), &[]), Some(&body)).await
    }

    pub async fn webhooks(&self) -> Result<Vec<Webhook>, WooError> {
        let mut all = Vec::new();
        let mut page = 1;
        loop {
            let url = self.url("wc/v3/webhooks", &[("per_page", "100".into()), ("page", page.to_string())]);
            let p: Page<Webhook> = self.page("list webhooks", url).await?;
            all.extend(p.items);
            if page >= p.total_pages {
                return Ok(all);
            }
            page += 1;
        }
    }

    pub async fn create_webhook(&self, topic: &str, delivery_url: &str) -> Result<Webhook, WooError> {
        let body = json!({
            "name": format!("wns {topic}"),
            "topic": topic,
            "delivery_url": delivery_url,
            "secret": self.inner.settings.webhook_secret.expose_secret(),
            "status": "active",
        });
        self.call("create webhook", Method::POST, self.url("wc/v3/webhooks", &[]), Some(&body)).await
    }

    /// Sets the webhook's secret to wns's (WooCommerce never shows a secret, so a wrong one is only
    /// seen in deliveries that fail their signature check).
    pub async fn reset_webhook_secret(&self, id: u64) -> Result<Webhook, WooError> {
        let body = json!({ "secret": self.inner.settings.webhook_secret.expose_secret() });
        self.call("update webhook", Method::PUT, self.url(&format!("wc/v3/webhooks/{id}"), &[]), Some(&body)).await
    }

    /// Sets a webhook active again (WooCommerce disables one after repeated failed deliveries).
    pub async fn reenable_webhook(&self, id: u64) -> Result<Webhook, WooError> {
        let body = json!({ "status": "active" });
        self.call("update webhook", Method::PUT, self.url(&format!("wc/v3/webhooks/{id}"), &[]), Some(&body)).await
    }
}
