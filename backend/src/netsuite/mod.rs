//! NetSuite: the SuiteTalk REST client wns writes through, its authentication, its errors and
//! the account-wide governor every request passes.
//!
//! Every write wns makes is an upsert by external id (`PUT …/eid:<id>`), so any call here may
//! run twice — after a timeout, a lost response or a crash — without creating a second record.
//! The client retries by itself only what is safe to repeat: requests NetSuite refused with 429
//! (it did nothing), and idempotent requests (reads, upserts) that got no answer or a 5xx, a
//! few times. Everything else is returned as an [`NsError`] whose [`ErrorClass`] the job queue
//! acts on.

pub mod auth;
pub mod batch;
pub mod client;
pub mod error;
pub mod governor;
pub mod model;
pub mod query;
pub mod suiteql;

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use url::Url;

pub use auth::{JwtAlgorithm, OAuth2Credentials, TbaCredentials};
pub use client::NetSuiteClient;
pub use error::{ErrorClass, NsError};
pub use governor::{Governor, GovernorSettings, Lane};
pub use model::{ExternalId, RecordKey, RecordRef, Row, SuiteQlPage};

/// How wns authenticates: token-based auth or OAuth 2.0 client credentials (Oracle's method for
/// new integrations).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum AuthSettings {
    Tba(TbaCredentials),
    #[serde(rename = "oauth2")]
    OAuth2(OAuth2Credentials),
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NetSuiteSettings {
    /// The account id as NetSuite issued it: `1234567`, or `1234567_SB1` for a sandbox.
    pub account_id: String,
    /// Where SuiteTalk REST answers. Normally derived from the account id
    /// (`https://1234567-sb1.suitetalk.api.netsuite.com`); set it for the simulator or a proxy.
    pub base_url: Option<String>,
    pub auth: AuthSettings,
    #[serde(default)]
    pub governor: GovernorSettings,
    /// NetSuite itself gives up on a request after 15 minutes; sales orders with scripts can
    /// take tens of seconds.
    #[serde(default = "default_timeout")]
    pub request_timeout_secs: u64,
    /// How often an idempotent request (read, upsert) is repeated after no answer or a 5xx
    /// before the error goes back to the job queue.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// After `INVALID_LOGIN`, how long requests are held back before one probe is let through.
    #[serde(default = "default_auth_pause")]
    pub auth_pause_secs: u64,
}

fn default_timeout() -> u64 {
    120
}
fn default_retries() -> u32 {
    3
}
fn default_auth_pause() -> u64 {
    300
}

impl NetSuiteSettings {
    /// The account with the documented defaults: NetSuite's host from the account id, default
    /// governor, timeout, retries and pause.
    pub fn new(account_id: &str, auth: AuthSettings) -> NetSuiteSettings {
        NetSuiteSettings {
            account_id: account_id.into(),
            base_url: None,
            auth,
            governor: GovernorSettings::default(),
            request_timeout_secs: default_timeout(),
            retries: default_retries(),
            auth_pause_secs: default_auth_pause(),
        }
    }

    /// `1234567_SB1` → `https://1234567-sb1.suitetalk.api.netsuite.com`, unless overridden.
    pub fn base_url(&self) -> Result<Url, String> {
        let raw = match &self.base_url {
            Some(u) => u.clone(),
            None => {
                format!("https://{}.suitetalk.api.netsuite.com", self.account_id.to_ascii_lowercase().replace('_', "-"))
            }
        };
        let mut url = Url::parse(&raw).map_err(|e| format!("netsuite.base_url {raw:?} is not a URL: {e}"))?;
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        Ok(url)
    }

    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let id = &self.account_id;
        let valid = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err((
                "netsuite.account_id",
                format!("{id:?} is not a NetSuite account id such as 1234567 or 1234567_SB1"),
            ));
        }
        if id.chars().any(|c| c.is_ascii_lowercase()) {
            // NetSuite compares the realm exactly: `1234567_sb1` is an "invalid login attempt".
            return Err((
                "netsuite.account_id",
                format!("write it as NetSuite issued it, in capitals: {}", id.to_ascii_uppercase()),
            ));
        }
        self.base_url().map_err(|e| ("netsuite.base_url", e))?;
        self.governor.validate().map_err(|e| ("netsuite.governor", e))?;
        match &self.auth {
            AuthSettings::Tba(t) if t.consumer_key.is_empty() || t.token_id.is_empty() => Err((
                "netsuite.auth",
                "token-based auth needs consumer_key, consumer_secret, token_id and token_secret".into(),
            )),
            AuthSettings::OAuth2(o) if o.private_key_pem.expose_secret().trim().is_empty() => {
                Err(("netsuite.auth.private_key_pem", "the certificate's private key (PEM) is missing".into()))
            }
            _ => Ok(()),
        }
    }
}

/// The client a running `wns` uses: on PostgreSQL the governor's budget is shared by every
/// process on the database, on SQLite (one process) it is this process's own. The governor's
/// metrics join the application's registry.
pub async fn connect(
    settings: &NetSuiteSettings,
    store: &crate::store::Store,
    holder: &str,
    metrics: &crate::metrics::Metrics,
) -> anyhow::Result<NetSuiteClient> {
    let governor = match store.backend() {
        crate::store::Backend::Postgres => {
            let slots =
                governor::GlobalSlots::new(store.clone(), &settings.account_id, holder, settings.governor.budget())
                    .await?;
            Governor::global(&settings.governor, slots)
        }
        crate::store::Backend::Sqlite => Governor::local(&settings.governor),
    };
    metrics.with_registry(|r| governor.register_metrics(r));
    Ok(NetSuiteClient::new(settings, governor)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(account: &str, base: Option<&str>) -> NetSuiteSettings {
        let auth = AuthSettings::Tba(TbaCredentials::new("ck", "cs", "tk", "ts"));
        NetSuiteSettings { base_url: base.map(Into::into), ..NetSuiteSettings::new(account, auth) }
    }

    #[test]
    fn host_comes_from_the_account_id_and_the_realm_keeps_its_case() {
        let s = settings("1234567_SB1", None);
        assert_eq!(s.base_url().unwrap().as_str(), "https://1234567-sb1.suitetalk.api.netsuite.com/");
        assert!(s.validate().is_ok());
        let err = settings("1234567_sb1", None).validate().unwrap_err();
        assert!(err.1.contains("1234567_SB1"), "{err:?}");
        assert_eq!(
            settings("123", Some("http://127.0.0.1:9400")).base_url().unwrap().as_str(),
            "http://127.0.0.1:9400/"
        );
    }
}
