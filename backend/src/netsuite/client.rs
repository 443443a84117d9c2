//! The SuiteTalk REST client: record operations, SuiteQL and async batches, each request signed,
//! governed and classified. See the module comment of [`crate::netsuite`] for what is retried.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use rand::Rng;
use reqwest::{Method, header::HeaderMap};
use secrecy::ExposeSecret;
use serde_json::Value;
use url::Url;

use super::{
    AuthSettings, NetSuiteSettings,
    auth::{self, OAuth1Signer, OAuth2TokenSource},
    error::NsError,
    governor::{Governor, Lane},
    model::{ExternalId, RecordKey, RecordRef},
};

/// A 429 means NetSuite refused to start the request, so repeating it is always safe; this
/// many in a row means the account is saturated by someone else and the job should back off.
const MAX_THROTTLED: u32 = 12;

enum Auth {
    Tba(OAuth1Signer),
    OAuth2(OAuth2TokenSource),
}

struct Inner {
    http: reqwest::Client,
    /// `…/services/rest/`
    rest: Url,
    auth: Auth,
    governor: Governor,
    retries: u32,
    timeout: Duration,
    auth_pause: Duration,
    /// When NetSuite last answered INVALID_LOGIN.
    auth_failed_at: Mutex<Option<Instant>>,
}

/// Cheap to clone; clones share the HTTP connection pool, the token cache and the governor.
#[derive(Clone)]
pub struct NetSuiteClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for NetSuiteClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetSuiteClient").field("rest", &self.inner.rest.as_str()).finish()
    }
}

/// One HTTP exchange as the client sees it.
pub(super) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

pub(super) struct Call<'a> {
    pub op: String,
    pub lane: Lane,
    pub method: Method,
    pub url: Url,
    pub body: Option<&'a Value>,
    pub headers: Vec<(&'static str, String)>,
    /// Safe to send again after no answer or a 5xx.
    pub idempotent: bool,
    /// A batch re-sent with its idempotency key is answered 400 IDEMPOTENCY_ERROR with the
    /// first job's `Location`: for that call it is an answer, not an error.
    pub idempotency_conflict_is_answer: bool,
}

impl NetSuiteClient {
    pub fn new(settings: &NetSuiteSettings, governor: Governor) -> Result<NetSuiteClient, NsError> {
        settings.validate().map_err(|(key, problem)| NsError::Config(format!("{key}: {problem}")))?;
        let base = settings.base_url().map_err(NsError::Config)?;
        let rest = base.join("services/rest/").map_err(|e| NsError::Config(e.to_string()))?;
        let auth = match &settings.auth {
            AuthSettings::Tba(creds) => Auth::Tba(auth::tba_signer(settings.account_id.clone(), creds.clone())),
            AuthSettings::OAuth2(creds) => {
                let token_url = rest.join("auth/oauth2/v1/token").map_err(|e| NsError::Config(e.to_string()))?;
                Auth::OAuth2(OAuth2TokenSource::new(creds.clone(), token_url)?)
            }
        };
        let timeout = Duration::from_secs(settings.request_timeout_secs);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("wns/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| NsError::Config(format!("HTTP client: {e}")))?;
        Ok(NetSuiteClient {
            inner: Arc::new(Inner {
                http,
                rest,
                auth,
                governor,
                retries: settings.retries,
                timeout,
                auth_pause: Duration::from_secs(settings.auth_pause_secs),
                auth_failed_at: Mutex::new(None),
            }),
        })
    }

    pub fn governor(&self) -> &Governor {
        &self.inner.governor
    }

    pub(super) fn url(&self, path: &str) -> Url {
        self.inner.rest.join(path).expect("paths built by this module are relative URLs")
    }

    pub(super) fn record_url(&self, record_type: &str, key: Option<&RecordKey>) -> Url {
        let mut url = self.url("record/v1/");
        {
            let mut segments = url.path_segments_mut().expect("an http(s) URL has path segments");
            segments.pop_if_empty().push(record_type);
            if let Some(k) = key {
                segments.push(&k.path_segment());
            }
        }
        url
    }

    /// `POST /record/v1/{type}`: a new record. Not idempotent — a retry after a lost answer would
    /// create a second record — so wns uses [`NetSuiteClient::upsert`] for everything it owns.
    pub async fn create(&self, lane: Lane, record_type: &str, body: &Value) -> Result<RecordRef, NsError> {
        let op = format!("create {record_type}");
        let url = self.record_url(record_type, None);
        let answer = self.execute(Call::write(op.clone(), lane, Method::POST, url, body, false)).await?;
        self.location_ref(&op, record_type, &answer)
    }

    /// `PUT /record/v1/{type}/eid:{externalId}`: create or update by external id. Safe to repeat.
    pub async fn upsert(
        &self,
        lane: Lane,
        record_type: &str,
        external_id: &ExternalId,
        body: &Value,
    ) -> Result<RecordRef, NsError> {
        let op = format!("upsert {record_type}");
        let url = self.record_url(record_type, Some(&RecordKey::External(external_id.clone())));
        let answer = self.execute(Call::write(op.clone(), lane, Method::PUT, url, body, true)).await?;
        self.location_ref(&op, record_type, &answer)
    }

    /// `GET /record/v1/{type}/{key}`, sublists expanded when asked. `Ok(None)` when NetSuite
    /// says the record does not exist (404 NONEXISTENT_ID).
    pub async fn get(
        &self,
        lane: Lane,
        record_type: &str,
        key: &RecordKey,
        expand_sub_resources: bool,
    ) -> Result<Option<Value>, NsError> {
        let mut url = self.record_url(record_type, Some(key));
        if expand_sub_resources {
            url.query_pairs_mut().append_pair("expandSubResources", "true");
        }
        let call = Call::read(format!("get {record_type}"), lane, Method::GET, url);
        match self.execute(call).await {
            Ok(answer) => Ok(Some(self.json(&format!("get {record_type}"), &answer)?)),
            Err(e) if e.status() == Some(404) && e.has_code("NONEXISTENT_ID") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `PATCH /record/v1/{type}/{key}`; `replace` names sublists whose lines are replaced
    /// instead of merged (`?replace=item`).
    pub async fn patch(
        &self,
        lane: Lane,
        record_type: &str,
        key: &RecordKey,
        body: &Value,
        replace: &[&str],
    ) -> Result<(), NsError> {
        let mut url = self.record_url(record_type, Some(key));
        if !replace.is_empty() {
            url.query_pairs_mut().append_pair("replace", &replace.join(","));
        }
        // Merging lines without `replace` appends non-keyed lines, so only a replacing patch
        // is safe to repeat.
        let idempotent = !replace.is_empty();
        self.execute(Call::write(format!("patch {record_type}"), lane, Method::PATCH, url, body, idempotent)).await?;
        Ok(())
    }

    /// `POST /record/v1/{from}/{key}/!transform/{to}`: e.g. a sales order into an item
    /// fulfilment. Creates a record, so it is not repeated by the client.
    pub async fn transform(
        &self,
        lane: Lane,
        from_type: &str,
        key: &RecordKey,
        to_type: &str,
        body: &Value,
    ) -> Result<RecordRef, NsError> {
        let op = format!("transform {from_type} to {to_type}");
        let mut url = self.record_url(from_type, Some(key));
        url.path_segments_mut().expect("http(s) URL").push("!transform").push(to_type);
        let answer = self.execute(Call::write(op.clone(), lane, Method::POST, url, body, false)).await?;
        self.location_ref(&op, to_type, &answer)
    }

    /// `wns check`: one cheap authenticated SuiteQL query. Bypasses the INVALID_LOGIN pause so
    /// that a person who just fixed the credentials sees the result at once.
    pub async fn check(&self) -> Result<(), NsError> {
        *self.inner.auth_failed_at.lock().expect("auth lock") = None;
        self.suiteql_page(Lane::Orders, "SELECT id FROM location", 1, 0).await.map(|_| ())
    }

    /// Sends a call through the governor, with the retries described in the module comment.
    pub(super) async fn execute(&self, call: Call<'_>) -> Result<Answer, NsError> {
        let mut failures = 0u32;
        let mut throttled = 0u32;
        let mut token_refreshed = false;
        loop {
            self.check_auth_pause()?;
            let permit = self.inner.governor.acquire(call.lane).await;
            let sent = self.send_once(&call).await;
            match sent {
                Ok(a) if a.status == 429 => {
                    permit.throttled();
                    throttled += 1;
                    if throttled > MAX_THROTTLED {
                        return Err(NsError::from_response(&call.op, a.status, &a.body));
                    }
                    pause(Duration::from_millis(25) * 2u32.pow(throttled.min(6))).await;
                }
                Ok(a) if (200..300).contains(&a.status) || (call.idempotency_conflict_is_answer && is_conflict(&a)) => {
                    drop(permit);
                    *self.inner.auth_failed_at.lock().expect("auth lock") = None;
                    return Ok(a);
                }
                Ok(a) => {
                    drop(permit);
                    let e = NsError::from_response(&call.op, a.status, &a.body);
                    if e.is_invalid_login() {
                        if let Auth::OAuth2(tokens) = &self.inner.auth
                            && !token_refreshed
                        {
                            // The token may have been revoked or expired early: one fresh try.
                            tokens.invalidate().await;
                            token_refreshed = true;
                            continue;
                        }
                        *self.inner.auth_failed_at.lock().expect("auth lock") = Some(Instant::now());
                        tracing::error!(op = %call.op, "NetSuite rejected the credentials (INVALID_LOGIN); pausing requests");
                        return Err(e);
                    }
                    if a.status >= 500 && call.idempotent && failures < self.inner.retries {
                        failures += 1;
                        pause(Duration::from_millis(200) * 2u32.pow(failures.min(10))).await;
                        continue;
                    }
                    return Err(e);
                }
                Err(e) => {
                    if matches!(e, NsError::Transport { timed_out: true, .. }) {
                        // NetSuite may still be working on it and counting it against the
                        // account's limit: keep the slot a while longer before reusing it.
                        let hold = self.inner.timeout.min(Duration::from_secs(30));
                        tokio::spawn(async move {
                            tokio::time::sleep(hold).await;
                            drop(permit);
                        });
                    } else {
                        drop(permit);
                    }
                    if call.idempotent && failures < self.inner.retries && matches!(e, NsError::Transport { .. }) {
                        failures += 1;
                        tracing::debug!(op = %call.op, error = %e, "no answer from NetSuite; repeating (idempotent)");
                        pause(Duration::from_millis(200) * 2u32.pow(failures.min(10))).await;
                        continue;
                    }
                    return Err(e);
                }
            }
        }
    }

    fn check_auth_pause(&self) -> Result<(), NsError> {
        let failed = *self.inner.auth_failed_at.lock().expect("auth lock");
        match failed {
            Some(at) if at.elapsed() < self.inner.auth_pause => {
                Err(NsError::AuthSuspended { ago_secs: at.elapsed().as_secs() })
            }
            _ => Ok(()),
        }
    }

    async fn send_once(&self, call: &Call<'_>) -> Result<Answer, NsError> {
        let mut req = self.inner.http.request(call.method.clone(), call.url.clone());
        req = match &self.inner.auth {
            Auth::Tba(signer) => req.header("Authorization", signer.authorization(call.method.as_str(), &call.url)),
            Auth::OAuth2(tokens) => {
                let token = tokens.bearer(&self.inner.http).await?;
                req.header("Authorization", format!("Bearer {}", token.expose_secret()))
            }
        };
        for (name, value) in &call.headers {
            req = req.header(*name, value);
        }
        if let Some(body) = call.body {
            req = req.json(body);
        }
        let transport =
            |source: reqwest::Error| NsError::Transport { op: call.op.clone(), timed_out: source.is_timeout(), source };
        let resp = req.send().await.map_err(transport)?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map_err(transport)?.to_vec();
        Ok(Answer { status, headers, body })
    }

    /// The internal id from `Location: …/record/v1/{type}/{id}` of a 204.
    pub(super) fn location_ref(&self, op: &str, record_type: &str, answer: &Answer) -> Result<RecordRef, NsError> {
        let location = answer.headers.get("location").and_then(|v| v.to_str().ok()).ok_or_else(|| {
            NsError::Protocol { op: op.into(), problem: format!("{} without Location", answer.status) }
        })?;
        let id = location.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
            return Err(NsError::Protocol {
                op: op.into(),
                problem: format!("Location {location:?} ends in no internal id"),
            });
        }
        Ok(RecordRef { record_type: record_type.into(), id: id.into() })
    }

    pub(super) fn json(&self, op: &str, answer: &Answer) -> Result<Value, NsError> {
        serde_json::from_slice(&answer.body)
            .map_err(|e| NsError::Protocol { op: op.into(), problem: format!("body is not JSON: {e}") })
    }
}

impl<'a> Call<'a> {
    pub(super) fn read(op: String, lane: Lane, method: Method, url: Url) -> Call<'a> {
        Call {
            op,
            lane,
            method,
            url,
            body: None,
            headers: Vec::new(),
            idempotent: true,
            idempotency_conflict_is_answer: false,
        }
    }

    pub(super) fn write(
        op: String,
        lane: Lane,
        method: Method,
        url: Url,
        body: &'a Value,
        idempotent: bool,
    ) -> Call<'a> {
        Call {
            op,
            lane,
            method,
            url,
            body: Some(body),
            headers: Vec::new(),
            idempotent,
            idempotency_conflict_is_answer: false,
        }
    }

    pub(super) fn header(mut self, name: &'static str, value: impl Into<String>) -> Call<'a> {
        self.headers.push((name, value.into()));
        self
    }
}

fn is_conflict(a: &Answer) -> bool {
    a.status == 400
        && a.headers.contains_key("location")
        && NsError::from_response("", a.status, &a.body).has_code("IDEMPOTENCY_ERROR")
}

/// Backoff with ±20 % jitter, so that many jobs that failed together do not retry together.
async fn pause(base: Duration) {
    let jitter = rand::rng().random_range(0.8..1.2);
    tokio::time::sleep(base.min(Duration::from_secs(5)).mul_f64(jitter)).await;
}
