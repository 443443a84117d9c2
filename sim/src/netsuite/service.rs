//! The path of one REST request: authenticate, take a concurrency slot (or answer 429 at
//! once), draw faults, wait the operation's latency, run it, give the slot back, answer.
//! The slot is released before the response leaves, so a client that frees its own slot on
//! receipt can never be seen over the limit.

use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use chrono::Utc;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::Value;

use super::auth::{Signed, base_uri};
use super::config::LatencyClass;
use super::error::{COLLECTION_CONTENT_TYPE, NsError};
use super::oauth2::{self, TOKEN_PATH, TokenAnswer};
use super::render::View;
use super::reply::{OJson, Reply};
use super::routes::{self, RecordOp, Route};
use super::types::canonical_field;
use super::validate::normalize_body;
use super::{NetSuiteSim, jobs, lock, records, suiteql, transform};

/// "REST requests have a size limit of 104MB."
const MAX_BODY: usize = 104 * 1024 * 1024;

pub fn router(sim: NetSuiteSim) -> Router {
    Router::new().route("/services/rest/{*rest}", any(handle)).with_state(sim)
}

pub type Params = Vec<(String, String)>;

pub fn query_params(q: Option<&str>) -> Params {
    q.map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

pub fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Holds one of the account's concurrent-request slots.
struct Slot<'a>(&'a NetSuiteSim);

impl<'a> Slot<'a> {
    fn enter(sim: &'a NetSuiteSim) -> Option<Slot<'a>> {
        let limit = lock(&sim.inner.live).limit;
        let mut c = lock(&sim.inner.counters);
        if c.in_flight >= limit {
            c.throttled_429 += 1;
            return None;
        }
        c.in_flight += 1;
        c.peak_in_flight = c.peak_in_flight.max(c.in_flight);
        Some(Slot(sim))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut c = lock(&self.0.inner.counters);
        c.in_flight = c.in_flight.saturating_sub(1);
    }
}

async fn handle(State(sim): State<NetSuiteSim>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return NsError::new(413, "INVALID_CONTENT", "The request exceeds the size limit of 104MB.").into_response();
    };
    lock(&sim.inner.counters).requests += 1;
    let scheme = parts
        .headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| "http".to_string(), |s| s.trim().to_ascii_lowercase());
    let host = parts.headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost").to_string();
    let base = format!("{scheme}://{host}");
    *lock(&sim.inner.base_hint) = base.clone();
    if parts.uri.path() == TOKEN_PATH {
        return token(&sim, &parts, &bytes, &base).await;
    }
    if let Some(denied) = refuse_login(&sim, &parts, &scheme, &host) {
        return denied;
    }
    let Some(slot) = Slot::enter(&sim) else {
        return NsError::concurrency().into_response();
    };
    let response = run(&sim, &parts, bytes, &base).await;
    drop(slot);
    response
}

/// `None` when the caller is authenticated, else the 401 to send.
fn refuse_login(sim: &NetSuiteSim, parts: &Parts, scheme: &str, host: &str) -> Option<Response> {
    let account = &sim.inner.account;
    let header = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let bearer =
        header.and_then(|h| h.trim_start().split_at_checked(7)).filter(|(s, _)| s.eq_ignore_ascii_case("bearer "));
    let skew = lock(&sim.inner.live).skew;
    let result = match (bearer, header) {
        (Some((_, token)), _) => lock(&sim.inner.auth).check_bearer(token.trim()),
        (None, Some(h)) => {
            let signed = Signed {
                method: parts.method.as_str(),
                base_uri: base_uri(scheme, host, parts.uri.path()),
                query: parts.uri.query(),
            };
            lock(&sim.inner.auth).check_tba(h, account, skew, &signed, Utc::now().timestamp())
        }
        (None, None) => Err("no Authorization header".into()),
    };
    let Err(reason) = result else { return None };
    tracing::debug!(%reason, path = parts.uri.path(), "netsuite simulator refused a login");
    lock(&sim.inner.counters).auth_failures += 1;
    let challenge = if bearer.is_some() {
        format!("Bearer realm=\"{account}\", error=\"invalid_token\", error_description=\"Invalid login attempt.\"")
    } else {
        format!("OAuth realm=\"{account}\", error=\"token_rejected\", error_description=\"Invalid login attempt.\"")
    };
    let mut res = NsError::invalid_login().into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    Some(res)
}

async fn token(sim: &NetSuiteSim, parts: &Parts, body: &[u8], base: &str) -> Response {
    count_op(sim, "token");
    let delay = latency(sim, LatencyClass::Token);
    tokio::time::sleep(delay).await;
    if parts.method != axum::http::Method::POST {
        return NsError::new(405, "INVALID_METHOD", "Use POST for the token endpoint.").into_response();
    }
    let (skew, lifetime) = {
        let live = lock(&sim.inner.live);
        (live.skew, live.token_lifetime)
    };
    let clients = lock(&sim.inner.auth).oauth2.clone();
    let audience = format!("{base}{TOKEN_PATH}");
    match oauth2::check_request(body, &clients, &audience, skew, Utc::now().timestamp()) {
        Ok(client_id) => {
            let access_token = random_text(sim, 96);
            lock(&sim.inner.auth).issue_token(access_token.clone(), client_id, lifetime);
            TokenAnswer { access_token, expires_in: lifetime.as_secs().to_string(), token_type: "bearer" }
                .into_response()
        }
        Err(e) => {
            tracing::debug!(error = ?e, "netsuite simulator refused a token request");
            lock(&sim.inner.counters).auth_failures += 1;
            e.into_response()
        }
    }
}

pub fn random_text(sim: &NetSuiteSim, n: usize) -> String {
    let mut rng = lock(&sim.inner.rng);
    (0..n).map(|_| rng.sample(Alphanumeric) as char).collect()
}

fn count_op(sim: &NetSuiteSim, name: &str) {
    *lock(&sim.inner.counters).requests_by_op.entry(name.to_string()).or_default() += 1;
}

pub fn latency(sim: &NetSuiteSim, class: LatencyClass) -> Duration {
    let (l, scale) = {
        let live = lock(&sim.inner.live);
        (live.latency.of(class), live.latency.scale)
    };
    l.sample(&mut *lock(&sim.inner.rng), scale)
}

#[derive(Default)]
struct Draw {
    server_error: bool,
    timeout: Option<Duration>,
    lost: bool,
}

fn draw_faults(sim: &NetSuiteSim, is_write: bool) -> Draw {
    let f = lock(&sim.inner.live).faults.clone();
    let mut rng = lock(&sim.inner.rng);
    let mut hit = |rate: f64| rate > 0.0 && rng.random::<f64>() < rate;
    let draw = Draw {
        server_error: hit(f.server_error_rate),
        timeout: hit(f.timeout_rate).then_some(f.timeout_delay),
        lost: is_write && hit(f.lost_response_rate),
    };
    drop(rng);
    let mut c = lock(&sim.inner.counters);
    c.timeouts_injected += u64::from(draw.timeout.is_some());
    c.server_errors_injected += u64::from(draw.server_error);
    c.responses_lost += u64::from(draw.lost && !draw.server_error);
    draw
}

/// The throttling fault: NetSuite also answers 429 for load the account cannot see, so some
/// requests are refused at once whatever is in flight, exactly like the concurrency gate.
fn draw_throttle(sim: &NetSuiteSim) -> bool {
    let rate = lock(&sim.inner.live).faults.throttle_rate;
    let hit = rate > 0.0 && lock(&sim.inner.rng).random::<f64>() < rate;
    if hit {
        lock(&sim.inner.counters).throttled_429 += 1;
    }
    hit
}

async fn run(sim: &NetSuiteSim, parts: &Parts, body: Bytes, base: &str) -> Response {
    let rest = parts.uri.path().strip_prefix("/services/rest/").unwrap_or("");
    let route = match routes::parse(&parts.method, rest, &parts.headers) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    if matches!(route, Route::Record(_) | Route::Batch { .. } | Route::SuiteQl) && draw_throttle(sim) {
        return NsError::concurrency().into_response();
    }
    let prefer = parts.headers.get_all("prefer").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>().join(",");
    let is_async = prefer.to_ascii_lowercase().contains("respond-async");
    count_op(sim, &route.name(is_async && matches!(route, Route::Record(_))));
    let class = match &route {
        Route::Record(_) | Route::Batch { .. } if is_async => LatencyClass::AsyncSubmit,
        Route::Batch { .. } => LatencyClass::AsyncSubmit,
        Route::Record(op) => op.latency_class(),
        Route::SuiteQl => LatencyClass::SuiteQl,
        Route::Job(_) | Route::Governance => LatencyClass::Get,
    };
    let draw = draw_faults(sim, route.is_write());
    tokio::time::sleep(latency(sim, class)).await;
    if let Some(hold) = draw.timeout {
        tokio::time::sleep(hold).await;
    }
    if draw.server_error {
        return NsError::unexpected(&random_text(sim, 20).to_lowercase()).into_response();
    }
    let params = query_params(parts.uri.query());
    let idempotency_key =
        parts.headers.get("x-netsuite-idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    let reply = match route {
        Route::Record(op) if is_async => {
            let work = jobs::Work::Op { op, params, body: body.to_vec() };
            jobs::submit(sim, vec![work], idempotency_key, base)
        }
        Route::Record(op) => exec_record(sim, &op, &params, &body, base),
        Route::Batch { rtype, method } if is_async => match jobs::batch_work(rtype, &method, &body) {
            Ok(work) => jobs::submit(sim, work, idempotency_key, base),
            Err(e) => e.into(),
        },
        // [INFERRED] wording: Oracle says batch requests must be asynchronous.
        Route::Batch { .. } => NsError::invalid_parameter("Batch operations require the header Prefer: respond-async.")
            .at_header("Prefer")
            .into(),
        Route::SuiteQl => suiteql::handle(sim, &params, &parts.headers, &body, base),
        Route::Job(q) => jobs::query(sim, q, base),
        Route::Governance => governance(sim),
    };
    if draw.lost && !draw.server_error {
        return lost_response();
    }
    reply.into_response()
}

/// The write is done; the answer never arrives. A body that fails on its first poll makes
/// hyper abandon the connection before the status line is flushed, so the client sees the
/// connection close with no response at all.
fn lost_response() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "simulated lost response",
        ))
    });
    let mut res = Response::new(Body::from_stream(stream));
    *res.status_mut() = StatusCode::OK;
    res
}

fn governance(sim: &NetSuiteSim) -> Reply {
    let limit = lock(&sim.inner.live).limit;
    let body = OJson::obj()
        .with("accountConcurrencyLimit", Value::from(limit))
        .with("accountUnallocatedConcurrencyLimit", Value::from(limit))
        .with("integrationConcurrencyLimit", Value::from(limit))
        .with("integrationLimitType", OJson::str("accountLimit"));
    Reply::json(200, "application/json", &body)
}

/// One record operation as it runs synchronously; async tasks run exactly this too.
pub fn exec_record(sim: &NetSuiteSim, op: &RecordOp, params: &Params, body: &[u8], base: &str) -> Reply {
    exec(sim, op, params, body, base).unwrap_or_else(Reply::from)
}

fn exec(sim: &NetSuiteSim, op: &RecordOp, params: &Params, body: &[u8], base: &str) -> Result<Reply, NsError> {
    let now = sim.now();
    let setup = sim.setup();
    let url = |t: &str, id: u64| format!("{base}/services/rest/record/v1/{t}/{id}");
    let mut store = lock(&sim.inner.store);
    let expand = param(params, "expandSubResources").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    match op {
        RecordOp::Create { rtype } => {
            let id = records::create(&mut store, rtype, normalize_body(body)?, now, &setup)?;
            Ok(Reply::no_content(url(rtype.name, id)))
        }
        RecordOp::Upsert { rtype, eid } => {
            let id = records::upsert(&mut store, rtype, eid, normalize_body(body)?, now, &setup)?;
            Ok(Reply::no_content(url(rtype.name, id)))
        }
        RecordOp::Patch { rtype, key } => {
            let replace: Vec<String> =
                param(params, "replace").map(|r| r.split(',').map(canonical_field).collect()).unwrap_or_default();
            let id = records::patch(&mut store, rtype, key, normalize_body(body)?, &replace, now, &setup)?;
            Ok(Reply::no_content(url(rtype.name, id)))
        }
        RecordOp::Delete { rtype, key } => {
            records::delete(&mut store, rtype, key, now)?;
            Ok(Reply { status: 204, location: None, content_type: None, body: String::new(), extra: Vec::new() })
        }
        RecordOp::Transform { from, key, to } => {
            let id = transform::transform(&mut store, from, key, to, normalize_body(body)?, now, &setup)?;
            Ok(Reply::no_content(url(to.name, id)))
        }
        RecordOp::Get { rtype, key } => {
            let id = records::resolve(&store, rtype, key)?;
            let only: Option<Vec<String>> =
                param(params, "fields").map(|f| f.split(',').map(|s| s.trim().to_string()).collect());
            let view = View { store: &store, base, expand };
            let record = store.get(id).ok_or_else(NsError::nonexistent_id)?;
            Ok(Reply::singular(&view.record(record, only.as_deref())))
        }
        RecordOp::Sublist { rtype, key, sublist, line } => {
            let id = records::resolve(&store, rtype, key)?;
            let record = store.get(id).ok_or_else(NsError::nonexistent_id)?;
            let view = View { store: &store, base, expand: true };
            let sublist = canonical_field(sublist);
            let found = match line {
                None => view.sublist(record, &sublist),
                Some(l) => view.line(record, &sublist, l),
            };
            found.map(|b| Reply::singular(&b)).ok_or_else(NsError::nonexistent_id)
        }
        RecordOp::List { rtype } => {
            if param(params, "q").is_some() {
                // Honest refusal: the record-collection filter language is not simulated.
                return Err(NsError::invalid_parameter(
                    "The simulator does not support the q parameter on record collections; use SuiteQL.",
                )
                .at_query_param("q"));
            }
            let (limit, offset) = suiteql::paging(params)?;
            let ids = store.ids_of(rtype.name);
            let list_url = format!("{base}/services/rest/record/v1/{}", rtype.name);
            let page = ids.iter().skip(offset as usize).take(limit as usize);
            let items: Vec<OJson> = page
                .map(|id| {
                    OJson::obj()
                        .with("links", OJson::self_link(url(rtype.name, *id)))
                        .with("id", OJson::str(id.to_string()))
                })
                .collect();
            let total = ids.len() as u64;
            let body = OJson::obj()
                .with("links", suiteql::page_links(&list_url, limit, offset, total))
                .with("count", Value::from(items.len()))
                .with("hasMore", Value::Bool(offset + limit < total))
                .with("items", OJson::Arr(items))
                .with("offset", Value::from(offset))
                .with("totalResults", Value::from(total));
            Ok(Reply::json(200, COLLECTION_CONTENT_TYPE, &body))
        }
    }
}
