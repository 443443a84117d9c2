//! How wns proves who it is to NetSuite: token-based auth (OAuth 1.0a, HMAC-SHA256) or OAuth 2.0
//! client credentials (a JWT signed with the certificate's private key, exchanged for a bearer
//! token that is cached until shortly before it expires).
//!
//! TBA is OAuth 1.0a as NetSuite applies it (`crate::remote::oauth1`, shared with WooCommerce's
//! one-legged variant): the realm (the account id as issued, `1234567_SB1`) goes in the header but
//! not in the signature; JSON bodies are not signed.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use super::error::NsError;
pub use crate::remote::oauth1::{OAuth1Signer, oauth_encode, signature_base_string};

/// The four TBA secrets: integration (consumer) and access token.
#[derive(Clone, Deserialize, Serialize)]
pub struct TbaCredentials {
    pub consumer_key: String,
    #[serde(serialize_with = "crate::secrets::serialize_secret")]
    pub consumer_secret: SecretString,
    pub token_id: String,
    #[serde(serialize_with = "crate::secrets::serialize_secret")]
    pub token_secret: SecretString,
}

impl TbaCredentials {
    pub fn new(consumer_key: &str, consumer_secret: &str, token_id: &str, token_secret: &str) -> TbaCredentials {
        TbaCredentials {
            consumer_key: consumer_key.into(),
            consumer_secret: consumer_secret.into(),
            token_id: token_id.into(),
            token_secret: token_secret.into(),
        }
    }
}

impl std::fmt::Debug for TbaCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TbaCredentials")
            .field("consumer_key", &self.consumer_key)
            .field("consumer_secret", &"[REDACTED]")
            .field("token_id", &self.token_id)
            .field("token_secret", &"[REDACTED]")
            .finish()
    }
}

/// NetSuite's token-based auth for the account `realm` (as issued, e.g. `1234567_SB1`).
pub fn tba_signer(realm: impl Into<String>, creds: TbaCredentials) -> OAuth1Signer {
    OAuth1Signer::with_token(realm, creds.consumer_key, creds.consumer_secret, creds.token_id, creds.token_secret)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub enum JwtAlgorithm {
    PS256,
    ES256,
}

/// OAuth 2.0 client credentials ("machine to machine"): the integration's client id, the
/// certificate id NetSuite assigned when the public certificate was uploaded, and its key.
#[derive(Clone, Deserialize, Serialize)]
pub struct OAuth2Credentials {
    pub client_id: String,
    pub certificate_id: String,
    /// The certificate's private key, PEM (PKCS#8, or PKCS#1 for RSA / SEC1 for EC).
    #[serde(serialize_with = "crate::secrets::serialize_secret")]
    pub private_key_pem: SecretString,
    pub algorithm: JwtAlgorithm,
    /// `rest_webservices` is what wns needs; NetSuite also knows `restlets`, `suite_analytics`.
    #[serde(default = "default_scope")]
    pub scope: String,
}

fn default_scope() -> String {
    "rest_webservices".into()
}

impl std::fmt::Debug for OAuth2Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth2Credentials")
            .field("client_id", &self.client_id)
            .field("certificate_id", &self.certificate_id)
            .field("private_key_pem", &"[REDACTED]")
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

#[derive(Serialize)]
struct Assertion<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    /// NetSuite documents it as a string of seconds; accept a number as well.
    #[serde(deserialize_with = "seconds")]
    expires_in: u64,
}

fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    // Through `Value`: an untagged enum cannot see numbers with serde_json's arbitrary precision.
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => {
            n.as_u64().ok_or_else(|| serde::de::Error::custom(format!("{n} is not whole seconds")))
        }
        serde_json::Value::String(s) => s.parse().map_err(serde::de::Error::custom),
        other => Err(serde::de::Error::custom(format!("expires_in: {other} is not a number of seconds"))),
    }
}

/// Mints client assertions and keeps the access token until shortly before it expires. One
/// token request at a time: concurrent callers wait for the same token.
pub struct OAuth2TokenSource {
    creds: OAuth2Credentials,
    key: jsonwebtoken::EncodingKey,
    token_url: Url,
    cached: tokio::sync::Mutex<Option<(SecretString, Instant)>>,
}

impl std::fmt::Debug for OAuth2TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth2TokenSource").field("creds", &self.creds).field("token_url", &self.token_url).finish()
    }
}

/// A token is renewed this long before NetSuite would expire it, so that no request is sent
/// with a token that dies in flight.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);

impl OAuth2TokenSource {
    pub fn new(creds: OAuth2Credentials, token_url: Url) -> Result<OAuth2TokenSource, NsError> {
        let pem = creds.private_key_pem.expose_secret().as_bytes();
        let key = match creds.algorithm {
            JwtAlgorithm::PS256 => jsonwebtoken::EncodingKey::from_rsa_pem(pem),
            JwtAlgorithm::ES256 => jsonwebtoken::EncodingKey::from_ec_pem(pem),
        }
        .map_err(|e| {
            NsError::Config(format!(
                "netsuite.oauth2.private_key_pem is not a {:?} private key in PEM form: {e}",
                creds.algorithm
            ))
        })?;
        Ok(OAuth2TokenSource { creds, key, token_url, cached: tokio::sync::Mutex::new(None) })
    }

    /// A signed client assertion, valid for 30 minutes (NetSuite refuses more than 60).
    pub fn assertion(&self) -> Result<String, NsError> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let alg = match self.creds.algorithm {
            JwtAlgorithm::PS256 => jsonwebtoken::Algorithm::PS256,
            JwtAlgorithm::ES256 => jsonwebtoken::Algorithm::ES256,
        };
        let mut header = jsonwebtoken::Header::new(alg);
        header.kid = Some(self.creds.certificate_id.clone());
        let claims = Assertion {
            iss: &self.creds.client_id,
            scope: &self.creds.scope,
            aud: self.token_url.as_str(),
            iat: now,
            exp: now + 1800,
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| NsError::Config(format!("cannot sign the OAuth 2.0 client assertion: {e}")))
    }

    /// The current access token, fetching a new one when there is none or it is about to expire.
    pub async fn bearer(&self, http: &reqwest::Client) -> Result<SecretString, NsError> {
        let mut cached = self.cached.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let form = [
            ("grant_type", "client_credentials".to_string()),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_string()),
            ("client_assertion", self.assertion()?),
        ];
        let op = "token request";
        let resp = http.post(self.token_url.clone()).form(&form).send().await.map_err(|source| NsError::Transport {
            op: op.into(),
            timed_out: source.is_timeout(),
            source,
        })?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|source| NsError::Transport {
            op: op.into(),
            timed_out: source.is_timeout(),
            source,
        })?;
        if status != 200 {
            return Err(NsError::Token { status, body: String::from_utf8_lossy(&body).chars().take(500).collect() });
        }
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|e| NsError::Protocol { op: op.into(), problem: format!("token answer: {e}") })?;
        let life = Duration::from_secs(answer.expires_in).saturating_sub(TOKEN_MARGIN).max(Duration::from_secs(1));
        let token = SecretString::from(answer.access_token);
        *cached = Some((token.clone(), Instant::now() + life));
        Ok(token)
    }

    /// Forget the token (NetSuite answered 401 to it: revoked or expired early).
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }
}
