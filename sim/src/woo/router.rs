//! The `/wp-json` entry point, in WordPress' order: authenticate (an auth error wins over
//! everything), match the route (`rest_no_route` otherwise, also for a wrong method), validate
//! parameters, then check permissions inside each handler. Headers are the ones WordPress sends:
//! `Link` to the API root unless paging links replace it, and no-cache headers only for a
//! request made with a valid key.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;

use super::error::WooError;
use super::http::{Reply, Req};
use super::json::OJson;
use super::{WooSim, auth, batch, orders, payments, products, refunds, stock, variations, webhooks};

type Handled = Result<Reply, WooError>;

pub(crate) async fn wp_json(
    State(sim): State<WooSim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pause = sim.sample_latency(&sim.config().latency, 1);
    if !pause.is_zero() {
        tokio::time::sleep(pause).await;
    }
    let req = match build(&sim, method, &uri, headers, &body) {
        Ok(req) => req,
        Err((e, base)) => return respond(&base, Err(e), None, false),
    };
    let base = req.base.clone();
    if sim.take_failure(uri.path()) {
        sim.count(|c| c.requests += 1);
        return respond(&base, Err(WooError::critical()), None, false);
    }
    let now = chrono::Utc::now().timestamp();
    let authed = auth::authenticate(sim.config(), &mut sim.store(), &req, uri.path(), now);
    let (label, allow, result, authed) = match authed {
        Err(e) => {
            sim.count(|c| c.auth_failures += 1);
            ("auth error".to_owned(), None, Err(e), false)
        }
        Ok(authed) => {
            let req = Req { authed, ..req };
            let (label, allow, result) = dispatch(&sim, &req);
            (label, allow, result, authed)
        }
    };
    if let Ok(reply) = &result {
        for &webhook in &reply.pings {
            sim.ping(webhook).await;
        }
    }
    let batch = result.as_ref().map_or(0, |r| r.batch_items);
    if batch > 0 {
        tokio::time::sleep(sim.sample_latency(&sim.config().batch_item_latency, batch)).await;
    }
    sim.count(|c| {
        c.requests += 1;
        *c.requests_by_route.entry(label).or_default() += 1;
    });
    respond(&base, result, allow, authed)
}

fn build(sim: &WooSim, method: Method, uri: &Uri, headers: HeaderMap, body: &Bytes) -> Result<Req, (WooError, String)> {
    let forwarded =
        headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("https"));
    let ssl = sim.config().https || forwarded;
    let site = sim.site_url();
    let base = if ssl { site.replacen("http://", "https://", 1) } else { site };
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect();
    let rest = uri.path().strip_prefix("/wp-json").unwrap_or_default();
    let segs: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let override_method = headers
        .get("x-http-method-override")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| query.iter().find(|(k, _)| k == "_method").map(|(_, v)| v.clone()));
    let wire_method = method.clone();
    let method = match override_method.and_then(|m| Method::from_bytes(m.to_uppercase().as_bytes()).ok()) {
        Some(m) if method == Method::POST => m,
        _ => method,
    };
    let content_type =
        headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let (mut json, mut form) = (None, Vec::new());
    if content_type.starts_with("application/x-www-form-urlencoded") {
        form = url::form_urlencoded::parse(body).into_owned().collect();
    } else if !body.is_empty() && (content_type.contains("json") || content_type.is_empty()) {
        match OJson::parse(body) {
            Ok(v) => json = Some(v),
            Err(_) if content_type.contains("json") => {
                let data = OJson::obj([
                    ("status", OJson::int(400)),
                    ("json_error_code", OJson::int(4)),
                    // PHP's json_last_error_msg(): no position, no detail.
                    ("json_error_message", OJson::str("Syntax error")),
                ]);
                return Err((WooError::with_data(400, "rest_invalid_json", "Invalid JSON body passed.", data), base));
            }
            Err(_) => {}
        }
    }
    Ok(Req { method, wire_method, segs, query, form, json, headers, ssl, base, authed: false })
}

const COLLECTION: &str = "GET, POST";
const ITEM: &str = "GET, POST, PUT, PATCH, DELETE";
const BATCH: &str = "POST, PUT, PATCH";

/// What a method does on a WordPress route (`EDITABLE` is POST, PUT and PATCH).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verb {
    Read,
    Create,
    Edit,
    Delete,
    Other,
}

fn verb(m: &Method) -> Verb {
    match *m {
        Method::GET | Method::HEAD => Verb::Read,
        Method::POST => Verb::Create,
        Method::PUT | Method::PATCH => Verb::Edit,
        Method::DELETE => Verb::Delete,
        _ => Verb::Other,
    }
}

/// A matched route: (pattern for the counters, `Allow` header, answer).
type Route = (&'static str, &'static str, Handled);

fn id(s: &str) -> Option<u64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// A single resource: GET reads, POST/PUT/PATCH edit, DELETE deletes.
fn item(
    v: Verb,
    get: impl FnOnce() -> Handled,
    edit: impl FnOnce() -> Handled,
    delete: impl FnOnce() -> Handled,
) -> Option<Handled> {
    match v {
        Verb::Read => Some(get()),
        Verb::Create | Verb::Edit => Some(edit()),
        Verb::Delete => Some(delete()),
        Verb::Other => None,
    }
}

/// A collection: GET lists, POST creates.
fn collection(v: Verb, list: impl FnOnce() -> Handled, create: impl FnOnce() -> Handled) -> Option<Handled> {
    match v {
        Verb::Read => Some(list()),
        Verb::Create => Some(create()),
        _ => None,
    }
}

fn dispatch(sim: &WooSim, req: &Req) -> (String, Option<&'static str>, Handled) {
    let segs: Vec<&str> = req.segs.iter().map(String::as_str).collect();
    let v = verb(&req.method);
    let routed = match segs.as_slice() {
        [] if v == Verb::Read => {
            let cfg = sim.config();
            Some(("/", "GET", Ok(Reply::ok(&root_index(&req.base, cfg.utc_offset_minutes, cfg.wns_plugin)))))
        }
        ["wc", "v3"] if v == Verb::Read => Some(("/wc/v3", "GET", Ok(Reply::ok(&namespace_index())))),
        ["wc", "v3", "orders", rest @ ..] => order_routes(sim, req, v, rest),
        ["wc", "v3", "products", rest @ ..] => product_routes(sim, req, v, rest),
        ["wc", "v3", "webhooks", rest @ ..] => webhook_routes(sim, req, v, rest),
        ["wc", "v3", "payments", rest @ ..] if v == Verb::Read => payment_routes(sim, req, rest),
        ["wns", "v1"] if v == Verb::Read && sim.config().wns_plugin => {
            Some(("/wns/v1", "GET", Ok(Reply::ok(&wns_namespace_index()))))
        }
        ["wns", "v1", "stock", "adjust"] if v == Verb::Create && sim.config().wns_plugin => {
            Some(("/wns/v1/stock/adjust", "POST", stock::adjust(sim, req)))
        }
        _ => None,
    };
    match routed {
        Some((pattern, allow, result)) => (format!("{} {pattern}", req.method), Some(allow), result),
        None => (format!("{} unmatched", req.method), None, Err(WooError::no_route())),
    }
}

fn order_routes(sim: &WooSim, req: &Req, v: Verb, rest: &[&str]) -> Option<Route> {
    let route = match rest {
        [] => ("/wc/v3/orders", COLLECTION, collection(v, || orders::list(sim, req), || orders::create(sim, req))?),
        [o] => {
            let o = id(o)?;
            let r =
                item(v, || orders::get(sim, req, o), || orders::update(sim, req, o), || orders::delete(sim, req, o))?;
            ("/wc/v3/orders/{id}", ITEM, r)
        }
        [o, "notes"] => {
            let o = id(o)?;
            let r = collection(v, || orders::notes(sim, req, o), || orders::add_note(sim, req, o))?;
            ("/wc/v3/orders/{id}/notes", COLLECTION, r)
        }
        [o, "notes", n] if v == Verb::Read => {
            ("/wc/v3/orders/{id}/notes/{id}", "GET, DELETE", orders::note(sim, req, id(o)?, id(n)?))
        }
        [o, "refunds"] => {
            let o = id(o)?;
            let r = collection(v, || refunds::list(sim, req, o), || refunds::create(sim, req, o))?;
            ("/wc/v3/orders/{id}/refunds", COLLECTION, r)
        }
        [o, "refunds", r] if v == Verb::Read => {
            ("/wc/v3/orders/{id}/refunds/{id}", "GET, DELETE", refunds::get(sim, req, id(o)?, id(r)?))
        }
        _ => return None,
    };
    Some(route)
}

fn product_routes(sim: &WooSim, req: &Req, v: Verb, rest: &[&str]) -> Option<Route> {
    let editing = matches!(v, Verb::Create | Verb::Edit);
    let route = match rest {
        [] => {
            ("/wc/v3/products", COLLECTION, collection(v, || products::list(sim, req), || products::create(sim, req))?)
        }
        ["batch"] if editing => ("/wc/v3/products/batch", BATCH, batch::run(sim, req, batch::Target::Products)),
        [p] => {
            let p = id(p)?;
            let r = item(
                v,
                || products::get(sim, req, p),
                || products::update(sim, req, p),
                || products::delete(sim, req, p),
            )?;
            ("/wc/v3/products/{id}", ITEM, r)
        }
        [p, "variations"] => {
            let p = id(p)?;
            let r = collection(v, || variations::list(sim, req, p), || variations::create(sim, req, p))?;
            ("/wc/v3/products/{id}/variations", COLLECTION, r)
        }
        [p, "variations", "batch"] if editing => {
            let target = batch::Target::Variations(id(p)?);
            ("/wc/v3/products/{id}/variations/batch", BATCH, batch::run(sim, req, target))
        }
        [p, "variations", x] => {
            let (p, x) = (id(p)?, id(x)?);
            let r = item(
                v,
                || variations::get(sim, req, p, x),
                || variations::update(sim, req, p, x),
                || variations::delete(sim, req, p, x),
            )?;
            ("/wc/v3/products/{id}/variations/{id}", ITEM, r)
        }
        _ => return None,
    };
    Some(route)
}

fn webhook_routes(sim: &WooSim, req: &Req, v: Verb, rest: &[&str]) -> Option<Route> {
    let route = match rest {
        [] => {
            ("/wc/v3/webhooks", COLLECTION, collection(v, || webhooks::list(sim, req), || webhooks::create(sim, req))?)
        }
        [w] => {
            let w = id(w)?;
            let r = item(
                v,
                || webhooks::get(sim, req, w),
                || webhooks::update(sim, req, w),
                || webhooks::delete(sim, req, w),
            )?;
            ("/wc/v3/webhooks/{id}", ITEM, r)
        }
        _ => return None,
    };
    Some(route)
}

fn payment_routes(sim: &WooSim, req: &Req, rest: &[&str]) -> Option<Route> {
    Some(match rest {
        ["deposits"] => ("/wc/v3/payments/deposits", "GET", payments::deposits(sim, req)),
        ["deposits", d] => ("/wc/v3/payments/deposits/{id}", "GET", payments::deposit(sim, req, d)),
        ["transactions"] => ("/wc/v3/payments/transactions", "GET", payments::transactions(sim, req)),
        _ => return None,
    })
}

/// `GET /wp-json/`, which answers without credentials: enough for "does the store answer?".
/// [INFERRED] A subset of WordPress' index (no route map).
fn root_index(base: &str, offset_minutes: i32, wns_plugin: bool) -> OJson {
    let namespaces = ["oembed/1.0", "wc/v3", "wc/store/v1", "wns/v1", "wp/v2"];
    let namespaces: Vec<&str> = namespaces.into_iter().filter(|n| wns_plugin || *n != "wns/v1").collect();
    OJson::obj([
        ("name", OJson::str("wns simulated store")),
        ("description", OJson::str("")),
        ("url", OJson::str(base)),
        ("home", OJson::str(base)),
        ("gmt_offset", OJson::Str((f64::from(offset_minutes) / 60.0).to_string())),
        ("timezone_string", OJson::str("")),
        ("namespaces", OJson::Arr(namespaces.iter().map(|n| OJson::str(*n)).collect())),
        ("authentication", OJson::Arr(Vec::new())),
        ("routes", OJson::obj(Vec::<(String, OJson)>::new())),
    ])
}

/// `GET /wp-json/wns/v1`: WordPress's namespace index, as every registered namespace has one.
/// The plugin registers three routes; the token route is for browsers (cookie + nonce) and is not
/// simulated.
fn wns_namespace_index() -> OJson {
    let route = |method: &str| {
        OJson::obj([("namespace", OJson::str("wns/v1")), ("methods", OJson::Arr(vec![OJson::str(method)]))])
    };
    OJson::obj([
        ("namespace", OJson::str("wns/v1")),
        (
            "routes",
            OJson::obj([
                ("/wns/v1", route("GET")),
                ("/wns/v1/token", route("POST")),
                ("/wns/v1/stock/adjust", route("POST")),
            ]),
        ),
    ])
}

fn namespace_index() -> OJson {
    OJson::obj([("namespace", OJson::str("wc/v3")), ("routes", OJson::obj(Vec::<(String, OJson)>::new()))])
}

fn respond(base: &str, result: Handled, allow: Option<&'static str>, authed: bool) -> Response {
    let reply = result.unwrap_or_else(|e| {
        let mut r = Reply::json(e.status, &e.body());
        r.status = e.status;
        r
    });
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.append(name, v);
        }
    };
    put("content-type", "application/json; charset=UTF-8".into());
    put("x-robots-tag", "noindex".into());
    let link = reply.link.clone().unwrap_or_else(|| format!("<{base}/wp-json/>; rel=\"https://api.w.org/\""));
    put("link", link);
    put("x-content-type-options", "nosniff".into());
    put("access-control-expose-headers", "X-WP-Total, X-WP-TotalPages, Link".into());
    put(
        "access-control-allow-headers",
        "Authorization, X-WP-Nonce, Content-Disposition, Content-MD5, Content-Type".into(),
    );
    for (name, value) in reply.headers {
        put(name, value);
    }
    match (authed, allow) {
        (true, Some(allow)) => {
            put("allow", allow.into());
            put("expires", "Wed, 11 Jan 1984 05:00:00 GMT".into());
            put("cache-control", "no-cache, must-revalidate, max-age=0".into());
        }
        _ => put("vary", "Origin".into()),
    }
    (status, headers, reply.body).into_response()
}
