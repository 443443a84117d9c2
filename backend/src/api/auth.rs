//! Who may call `/api/v1` and `/`: nothing answers there without one of two credentials.
//!
//! - **A WordPress user**, through a short-lived JWT the `wns-sync` plugin mints with the shared
//!   secret (`api.jwt_secret`): HS256, `aud` = `wns`, `iss` = one of `api.sites`, `sub` = the user
//!   id, `name`, `caps` ⊆ {view, map_skus, replay, resolve}, `iat`, `exp` at most 15 minutes after
//!   `iat`. Verified with `jsonwebtoken` (signature, audience, issuer, expiry with
//!   `api.leeway_secs` of clock skew, 30 s by default).
//! - **An operator**, with an API key made by `wns keys create` (`wns_` + 43 random characters,
//!   shown once, stored as its sha256, revocable), sent as `Authorization: Bearer`, or kept in an
//!   HttpOnly cookie by the status page's login form.
//!
//! Each route asks the [`Caller`] for the capability it needs ([`Caller::require`]); a missing
//! credential is 401, a missing capability 403, each with what to do in the message.

use std::collections::BTreeSet;

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ApiError, AppState};
use crate::store::Store;

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cap {
    /// Read order, product, exception and queue status.
    View,
    /// Save, change and remove SKU mappings.
    MapSkus,
    /// Replay blocked and dead jobs.
    Replay,
    /// Resolve, ignore and reopen exceptions.
    Resolve,
}

impl Cap {
    pub const ALL: [Cap; 4] = [Cap::View, Cap::MapSkus, Cap::Replay, Cap::Resolve];

    pub fn as_str(self) -> &'static str {
        match self {
            Cap::View => "view",
            Cap::MapSkus => "map_skus",
            Cap::Replay => "replay",
            Cap::Resolve => "resolve",
        }
    }

    pub fn parse(s: &str) -> Option<Cap> {
        Cap::ALL.into_iter().find(|c| c.as_str() == s.trim())
    }

    /// `view,replay` → the set; an unknown name is an error naming it.
    pub fn parse_list(s: &str) -> Result<BTreeSet<Cap>, String> {
        s.split(',')
            .filter(|c| !c.trim().is_empty())
            .map(|c| {
                Cap::parse(c).ok_or_else(|| {
                    format!("unknown capability {:?}; use some of view, map_skus, replay, resolve", c.trim())
                })
            })
            .collect()
    }
}

/// `[api]`: how WordPress users and operators prove who they are.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    /// The secret the WordPress plugin signs user tokens with (32 characters at least).
    #[serde(default, serialize_with = "crate::secrets::serialize_optional_secret")]
    pub jwt_secret: Option<SecretString>,
    /// The sites whose tokens are accepted: the `iss` the plugin writes (the WordPress site URL).
    #[serde(default)]
    pub sites: Vec<String>,
    /// Clock skew allowed between WordPress and wns when checking `exp`.
    #[serde(default = "default_leeway")]
    pub leeway_secs: u64,
    /// Browser origins (the WordPress admin's) allowed to call `/api/v1` from a page.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// Requests each caller may make per minute, on average…
    #[serde(default = "default_rate")]
    pub requests_per_minute: u32,
    /// … and at once after a quiet spell.
    #[serde(default = "default_burst")]
    pub burst: u32,
}

fn default_rate() -> u32 {
    600
}

fn default_burst() -> u32 {
    120
}

fn default_leeway() -> u64 {
    30
}

impl Default for ApiSettings {
    fn default() -> ApiSettings {
        ApiSettings {
            jwt_secret: None,
            sites: Vec::new(),
            leeway_secs: default_leeway(),
            cors_origins: Vec::new(),
            requests_per_minute: default_rate(),
            burst: default_burst(),
        }
    }
}

impl std::fmt::Debug for ApiSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiSettings")
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "[REDACTED]"))
            .field("sites", &self.sites)
            .field("leeway_secs", &self.leeway_secs)
            .field("cors_origins", &self.cors_origins)
            .finish()
    }
}

impl ApiSettings {
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if let Some(s) = &self.jwt_secret
            && s.expose_secret().len() < 32
        {
            return Err((
                "api.jwt_secret",
                "use at least 32 characters (the same value as the WordPress plugin's)".into(),
            ));
        }
        if self.jwt_secret.is_some() && self.sites.is_empty() {
            return Err(("api.sites", "list the WordPress site URLs whose user tokens wns accepts".into()));
        }
        if self.requests_per_minute == 0 || self.burst == 0 {
            return Err(("api.requests_per_minute", "requests_per_minute and burst must be at least 1".into()));
        }
        if self.leeway_secs > 300 {
            return Err(("api.leeway_secs", "must be at most 300".into()));
        }
        for origin in &self.cors_origins {
            let ok = url::Url::parse(origin).is_ok_and(|u| u.path() == "/" && !origin.ends_with('/'));
            if !ok {
                return Err(("api.cors_origins", format!("{origin:?} is not an origin such as https://shop.example")));
            }
        }
        Ok(())
    }
}

/// A user token's claims, as the plugin writes them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    #[serde(default)]
    pub name: String,
    pub aud: String,
    pub caps: Vec<String>,
    pub iat: u64,
    pub exp: u64,
}

/// The longest life of a user token the plugin may mint.
pub const MAX_TOKEN_SECS: u64 = 15 * 60;

/// Who is calling, and what they may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// For the audit log: `user:<site>#<id> (<name>)` or `key:<name>`.
    pub who: String,
    pub caps: BTreeSet<Cap>,
}

impl Caller {
    pub fn require(&self, cap: Cap) -> Result<(), ApiError> {
        if self.caps.contains(&cap) {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!(
            "{} may not do this: it needs the `{}` capability (a WordPress user gets it from their role; an operator key from `wns keys create --caps`)",
            self.who,
            cap.as_str()
        )))
    }
}

/// The cookie the status page's login form sets.
pub const COOKIE: &str = "wns_key";

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, ApiError> {
        let token = bearer(parts).or_else(|| cookie(parts, COOKIE)).ok_or_else(|| {
            ApiError::Unauthorized(
                "no credential: send `Authorization: Bearer <token>` with a user token from the WordPress plugin or an operator key from `wns keys create`".into(),
            )
        })?;
        let caller = if token.starts_with(KEY_PREFIX) {
            key_caller(state.queue.store(), &token, state.queue.now()).await?
        } else {
            user_caller(&state.api, &token, (state.queue.now() / 1000).max(0) as u64)?
        };
        state.limits.admit(&caller.who, state.queue.now(), &state.api)?;
        Ok(caller)
    }
}

/// Per-caller token buckets: each caller gets `burst` requests at once and `requests_per_minute`
/// on average; beyond that 429 with `Retry-After`. In-process (each replica counts its own), on
/// the queue's clock, so tests move time instead of sleeping.
#[derive(Default)]
pub struct RateLimits {
    buckets: std::sync::Mutex<std::collections::HashMap<String, (f64, i64)>>,
}

impl RateLimits {
    fn admit(&self, who: &str, now_ms: i64, s: &ApiSettings) -> Result<(), ApiError> {
        let per_ms = f64::from(s.requests_per_minute) / 60_000.0;
        let burst = f64::from(s.burst);
        let mut buckets = self.buckets.lock().expect("rate limit lock");
        if buckets.len() > 10_000 {
            buckets.retain(|_, (tokens, at)| *tokens + (now_ms - *at) as f64 * per_ms < burst);
        }
        let (tokens, at) = buckets.entry(who.to_string()).or_insert((burst, now_ms));
        *tokens = (*tokens + (now_ms - *at).max(0) as f64 * per_ms).min(burst);
        *at = now_ms;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            return Ok(());
        }
        let wait_secs = ((1.0 - *tokens) / per_ms / 1000.0).ceil().max(1.0) as u64;
        Err(ApiError::TooManyRequests { retry_after_secs: wait_secs, who: who.to_string() })
    }
}

fn bearer(parts: &Parts) -> Option<String> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

pub(super) fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Verifies a user token at `now` (Unix seconds).
pub fn user_caller(settings: &ApiSettings, token: &str, now: u64) -> Result<Caller, ApiError> {
    let Some(secret) = &settings.jwt_secret else {
        return Err(ApiError::Unauthorized(
            "user tokens are not accepted: wns has no api.jwt_secret configured (set it to the WordPress plugin's shared secret)".into(),
        ));
    };
    let mut v = Validation::new(Algorithm::HS256);
    v.set_audience(&["wns"]);
    v.set_issuer(&settings.sites);
    v.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub"]);
    v.leeway = settings.leeway_secs;
    // Expiry is checked below against wns's own clock (the injectable one), not the library's.
    v.validate_exp = false;
    let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(secret.expose_secret().as_bytes()), &v)
        .map_err(|e| ApiError::Unauthorized(token_problem(&e)))?;
    let c = data.claims;
    if c.exp + settings.leeway_secs < now {
        return Err(ApiError::Unauthorized(format!(
            "the token expired {} s ago; the WordPress plugin renews it, reload the page",
            now - c.exp
        )));
    }
    if c.exp.saturating_sub(c.iat) > MAX_TOKEN_SECS || c.iat > now + settings.leeway_secs {
        return Err(ApiError::Unauthorized(format!(
            "the token's life is longer than {MAX_TOKEN_SECS} s or it starts in the future; check the WordPress server's clock"
        )));
    }
    let caps = c.caps.iter().filter_map(|s| Cap::parse(s)).collect();
    let name = if c.name.is_empty() { String::new() } else { format!(" ({})", c.name) };
    Ok(Caller { who: format!("user:{}#{}{name}", c.iss, c.sub), caps })
}

fn token_problem(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::InvalidSignature => {
            "the token's signature does not verify: api.jwt_secret differs from the WordPress plugin's shared secret"
                .into()
        }
        ErrorKind::InvalidAudience => "the token is not for wns (its `aud` must be \"wns\")".into(),
        ErrorKind::InvalidIssuer => {
            "the token comes from a site wns does not know: add the WordPress site URL to api.sites".into()
        }
        ErrorKind::InvalidAlgorithm => "the token must be signed with HS256".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("the token has no `{c}` claim"),
        _ => format!("the token cannot be read ({e}); it must be a JWT from the WordPress plugin"),
    }
}

const KEY_PREFIX: &str = "wns_";

fn hash(key: &str) -> String {
    Sha256::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// id, name, caps, revoked_at, last_used_at of a key.
type KeyRow = (i64, String, String, Option<i64>, Option<i64>);

async fn key_caller(store: &Store, key: &str, now: i64) -> Result<Caller, ApiError> {
    let row: Option<KeyRow> =
        sqlx::query_as("select id, name, caps, revoked_at, last_used_at from api_keys where key_hash = $1")
            .bind(hash(key))
            .fetch_optional(store.pool())
            .await
            .map_err(ApiError::Unavailable)?;
    let Some((id, name, caps, revoked, last_used)) = row else {
        return Err(ApiError::Unauthorized("unknown operator key; create one with `wns keys create`".into()));
    };
    if revoked.is_some() {
        return Err(ApiError::Unauthorized(format!("the operator key {name:?} was revoked; create a new one")));
    }
    // When a key was last used, to the minute: a write per request would put every read of the
    // API behind SQLite's single writer. A failed bookkeeping write must not refuse the caller.
    if last_used.is_none_or(|t| now - t >= 60_000)
        && let Err(e) = sqlx::query("update api_keys set last_used_at = $1 where id = $2")
            .bind(now)
            .bind(id)
            .execute(store.pool())
            .await
    {
        tracing::debug!(error = %e, "recording a key's last use failed");
    }
    let caps = Cap::parse_list(&caps).unwrap_or_default();
    Ok(Caller { who: format!("key:{name}"), caps })
}

/// An operator key as `wns keys list` shows it (never the key itself).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyInfo {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub caps: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Makes a key named `name` with `caps`; returns the key, which is shown once and not stored.
pub async fn create_key(store: &Store, name: &str, caps: &BTreeSet<Cap>, now: i64) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 64 {
        return Err("give the key a name of 1 to 64 characters (who or what uses it)".into());
    }
    if caps.is_empty() {
        return Err("give the key at least one capability: view, map_skus, replay, resolve".into());
    }
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let secret: String = (0..43).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char).collect();
    let key = format!("{KEY_PREFIX}{secret}");
    let caps: Vec<&str> = caps.iter().map(|c| c.as_str()).collect();
    sqlx::query("insert into api_keys (name, key_hash, prefix, caps, created_at) values ($1, $2, $3, $4, $5)")
        .bind(name)
        .bind(hash(&key))
        .bind(&key[..8])
        .bind(caps.join(","))
        .bind(now)
        .execute(store.pool())
        .await
        .map_err(|e| match e.as_database_error() {
            Some(d) if d.is_unique_violation() => {
                format!("a key named {name:?} exists; revoke it first or pick another name")
            }
            _ => format!("storing the key failed: {e}"),
        })?;
    Ok(key)
}

pub async fn list_keys(store: &Store) -> Result<Vec<KeyInfo>, sqlx::Error> {
    sqlx::query_as("select id, name, prefix, caps, created_at, last_used_at, revoked_at from api_keys order by id")
        .fetch_all(store.pool())
        .await
}

/// Revokes the live key named `name`; false when there is none.
pub async fn revoke_key(store: &Store, name: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("update api_keys set revoked_at = $1 where name = $2 and revoked_at is null")
        .bind(now)
        .bind(name)
        .execute(store.pool())
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Whether anything can authenticate: a user-token secret or a live operator key.
pub async fn can_authenticate(settings: &ApiSettings, store: &Store) -> Result<bool, sqlx::Error> {
    if settings.jwt_secret.is_some() {
        return Ok(true);
    }
    let live: i64 =
        sqlx::query_scalar("select count(*) from api_keys where revoked_at is null").fetch_one(store.pool()).await?;
    Ok(live > 0)
}
