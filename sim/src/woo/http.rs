//! One REST request as WordPress sees it (parameters from the JSON body, a form body or the
//! query string, in that order of precedence), one answer, and the parameter checks whose error
//! bodies clients meet first: `per_page`, `page`, enums, booleans and dates.

use axum::http::{HeaderMap, Method};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

use super::error::WooError;
use super::json::{OJson, to_php_json};

pub(crate) struct Req {
    /// The method the route sees (`X-HTTP-Method-Override` / `_method` applied to a POST).
    pub method: Method,
    /// The method on the wire, which OAuth signs and key permissions check.
    pub wire_method: Method,
    pub segs: Vec<String>,
    pub query: Vec<(String, String)>,
    pub form: Vec<(String, String)>,
    pub json: Option<OJson>,
    pub headers: HeaderMap,
    /// Reached over HTTPS (`X-Forwarded-Proto: https` counts, as behind a trusted proxy).
    pub ssl: bool,
    /// The site URL with the scheme WordPress would print for this request.
    pub base: String,
    pub authed: bool,
}

impl Req {
    /// `WP_REST_Request::get_param`: JSON body, then form body, then query string.
    pub fn param(&self, name: &str) -> Option<OJson> {
        if let Some(v) = self.json.as_ref().and_then(|j| j.get(name)) {
            return Some(v.clone());
        }
        let from = |pairs: &[(String, String)]| pairs.iter().rev().find(|(k, _)| k == name).map(|(_, v)| OJson::str(v));
        from(&self.form).or_else(|| from(&self.query))
    }

    pub fn has_param(&self, name: &str) -> bool {
        self.param(name).is_some()
    }

    pub fn str_param(&self, name: &str) -> Option<String> {
        self.param(name).and_then(|v| v.to_php_string())
    }

    /// The body as an object (JSON, or a form body read as strings).
    pub fn body(&self) -> OJson {
        match &self.json {
            Some(j) => j.clone(),
            None => OJson::obj(self.form.iter().map(|(k, v)| (k.clone(), OJson::str(v)))),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/wp-json{path}", self.base)
    }

    /// The capability check of an anonymous request: WordPress answers 401 with the route's code.
    pub fn require_auth(&self, code: &str, message: &str) -> Result<(), WooError> {
        if self.authed { Ok(()) } else { Err(WooError::new(401, code, message)) }
    }

    pub fn can_list(&self) -> Result<(), WooError> {
        self.require_auth("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
    }

    pub fn can_view(&self) -> Result<(), WooError> {
        self.require_auth("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
    }

    pub fn can_create(&self) -> Result<(), WooError> {
        self.require_auth("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.")
    }

    pub fn can_edit(&self) -> Result<(), WooError> {
        self.require_auth("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.")
    }

    pub fn can_delete(&self) -> Result<(), WooError> {
        self.require_auth("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource.")
    }

    pub fn can_batch(&self) -> Result<(), WooError> {
        self.require_auth(
            "woocommerce_rest_cannot_batch",
            "Sorry, you are not allowed to batch manipulate this resource.",
        )
    }

    pub fn force(&self) -> Result<bool, WooError> {
        Ok(bool_param(self, "force")?.unwrap_or(false))
    }
}

pub(crate) struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
    /// Replaces the `Link: <…/wp-json/>; rel="https://api.w.org/"` header, as PHP's `header()` does.
    pub link: Option<String>,
    /// Items in a batch, for the per-item latency.
    pub batch_items: usize,
    /// Webhooks to ping before answering: WooCommerce pings a created (or re-pointed) webhook
    /// inside the request, so the receiver has the ping before the caller has the answer.
    pub pings: Vec<u64>,
}

impl Reply {
    pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Reply {
        Reply { status, body: to_php_json(value), headers: Vec::new(), link: None, batch_items: 0, pings: Vec::new() }
    }

    /// Like [`Reply::json`], trimmed to the `_fields` the request asked for (`id` always stays).
    pub fn shaped<T: Serialize + ?Sized>(req: &Req, status: u16, value: &T) -> Reply {
        let Some(fields) = req.str_param("_fields").filter(|f| !f.is_empty()) else {
            return Reply::json(status, value);
        };
        let mut fields: Vec<&str> = fields.split(',').map(str::trim).collect();
        fields.push("id");
        let shaped = match OJson::from_serialize(value) {
            OJson::Arr(items) => OJson::Arr(items.into_iter().map(|i| i.retain_fields(&fields)).collect()),
            other => other.retain_fields(&fields),
        };
        Reply::json(status, &shaped)
    }

    pub fn ok<T: Serialize + ?Sized>(value: &T) -> Reply {
        Reply::json(200, value)
    }

    pub fn created<T: Serialize + ?Sized>(value: &T, location: String) -> Reply {
        Reply::json(201, value).header("Location", location)
    }

    pub fn header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }

    /// `X-WP-Total`, `X-WP-TotalPages` and the `prev`/`next` links of a collection.
    pub fn paged(mut self, req: &Req, route: &str, total: usize, p: &Paging, order_defaults: bool) -> Reply {
        let pages = total.div_ceil(p.per_page as usize);
        self.headers.push(("X-WP-Total", total.to_string()));
        self.headers.push(("X-WP-TotalPages", pages.to_string()));
        let page = p.page as usize;
        let past_end = page > pages;
        let base = link_base(req, route, order_defaults, past_end);
        let mut links = Vec::new();
        if page > 1 {
            links.push(format!("<{}>; rel=\"prev\"", with_page(&base, (page - 1).min(pages))));
        }
        if pages > page {
            links.push(format!("<{}>; rel=\"next\"", with_page(&base, page + 1)));
        }
        if !links.is_empty() {
            self.link = Some(links.join(", "));
        }
        self
    }
}

/// The collection URL with the request's query as WordPress normalises it for paging links.
fn link_base(req: &Req, route: &str, order_defaults: bool, past_end: bool) -> Vec<(String, String)> {
    let mut q: Vec<(String, String)> = Vec::new();
    for (k, v) in &req.query {
        match k.as_str() {
            "dates_are_gmt" | "force" => {
                let b = OJson::str(v).as_bool().unwrap_or(false);
                q.push((k.clone(), if b { "1".into() } else { String::new() }));
            }
            "status" if order_defaults => {
                for (i, s) in v.split(',').enumerate() {
                    q.push((format!("status[{i}]"), s.trim().to_owned()));
                }
            }
            _ => q.push((k.clone(), v.clone())),
        }
    }
    let has = |q: &[(String, String)], key: &str| q.iter().any(|(k, _)| k == key || k.starts_with(&format!("{key}[")));
    if order_defaults && !has(&q, "status") {
        q.push(("status[0]".into(), "any".into()));
    }
    // Recorded for orders: `status[0]=any&dp=2&context=view` are added, except on a page past the
    // end. [INFERRED] Other collections add only `context=view`.
    if !past_end {
        if order_defaults && !has(&q, "dp") {
            q.push(("dp".into(), "2".into()));
        }
        if !has(&q, "context") {
            q.push(("context".into(), "view".into()));
        }
    }
    let mut out = vec![(String::new(), req.url(route))];
    out.extend(q);
    out
}

fn with_page(base: &[(String, String)], page: usize) -> String {
    let mut pairs: Vec<(String, String)> = base[1..].to_vec();
    match pairs.iter_mut().find(|(k, _)| k == "page") {
        Some(slot) => slot.1 = page.to_string(),
        None => pairs.push(("page".into(), page.to_string())),
    }
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", php_urlencode(k), php_urlencode(v))).collect();
    format!("{}?{}", base[0].1, query.join("&"))
}

/// PHP's `urlencode`: everything but `[A-Za-z0-9_.-]` is `%XX`, space is `+`.
pub(crate) fn php_urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub(crate) struct Paging {
    pub page: u64,
    pub per_page: u64,
    pub offset: Option<u64>,
}

impl Paging {
    pub fn window<T>(&self, items: Vec<T>) -> Vec<T> {
        let start = self.offset.unwrap_or((self.page - 1) * self.per_page) as usize;
        items.into_iter().skip(start).take(self.per_page as usize).collect()
    }
}

/// `page` (≥ 1), `per_page` (1–100, default 10) and `offset`, validated as WordPress does.
pub(crate) fn paging(req: &Req, default_per_page: u64) -> Result<Paging, WooError> {
    let per_page = int_param(req, "per_page", Some((1, 100)))?.unwrap_or(default_per_page as i64) as u64;
    let page = int_param(req, "page", Some((1, i64::MAX)))?.unwrap_or(1) as u64;
    let offset = int_param(req, "offset", None)?.map(|o| o.max(0) as u64);
    Ok(Paging { page, per_page, offset })
}

pub(crate) fn int_param(req: &Req, name: &str, bounds: Option<(i64, i64)>) -> Result<Option<i64>, WooError> {
    let Some(v) = req.param(name) else { return Ok(None) };
    let n = v
        .as_i64()
        .ok_or_else(|| WooError::invalid_param(name, "rest_invalid_type", format!("{name} is not of type integer.")))?;
    if let Some((min, max)) = bounds
        && (n < min || n > max)
    {
        let msg = if max == i64::MAX {
            format!("{name} must be greater than or equal to {min}")
        } else {
            format!("{name} must be between {min} (inclusive) and {max} (inclusive)")
        };
        return Err(WooError::invalid_param(name, "rest_out_of_bounds", msg));
    }
    Ok(Some(n))
}

pub(crate) fn bool_param(req: &Req, name: &str) -> Result<Option<bool>, WooError> {
    let Some(v) = req.param(name) else { return Ok(None) };
    v.as_bool()
        .map(Some)
        .ok_or_else(|| WooError::invalid_param(name, "rest_invalid_type", format!("{name} is not of type boolean.")))
}

pub(crate) fn enum_param(req: &Req, name: &str, allowed: &[&str]) -> Result<Option<String>, WooError> {
    let Some(v) = req.str_param(name) else { return Ok(None) };
    if allowed.contains(&v.as_str()) { Ok(Some(v)) } else { Err(WooError::not_in_enum(name, name, allowed)) }
}

/// A `date-time` parameter (`rest_parse_date`): naive times are read in the zone `as_gmt` says.
pub(crate) fn date_param(
    req: &Req,
    name: &str,
    as_gmt: bool,
    local: chrono::FixedOffset,
) -> Result<Option<DateTime<Utc>>, WooError> {
    let Some(v) = req.str_param(name) else { return Ok(None) };
    let bad = || WooError::invalid_param(name, "rest_invalid_date", "Invalid date.");
    if let Ok(t) = DateTime::parse_from_rfc3339(&v.replace(' ', "T")) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let naive = NaiveDateTime::parse_from_str(&v.replace(' ', "T"), "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| bad())?;
    if as_gmt {
        Ok(Some(naive.and_utc()))
    } else {
        let t = naive.and_local_timezone(local).single().ok_or_else(bad)?;
        Ok(Some(t.with_timezone(&Utc)))
    }
}

/// A list given as `a,b`, `a` or a JSON array.
pub(crate) fn list_param(req: &Req, name: &str) -> Option<Vec<String>> {
    let v = req.param(name)?;
    Some(match v {
        OJson::Arr(items) => items.iter().filter_map(OJson::to_php_string).collect(),
        other => other.to_php_string()?.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect(),
    })
}

pub(crate) fn id_list_param(req: &Req, name: &str) -> Option<Vec<u64>> {
    list_param(req, name).map(|l| l.iter().filter_map(|s| s.parse().ok()).collect())
}

/// `_links` with `self` and `collection` (and `up` when given).
#[derive(Serialize)]
pub(crate) struct Links {
    #[serde(rename = "self")]
    pub self_: [Href; 1],
    pub collection: [Href; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<[Href; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub up: Option<[Href; 1]>,
}

#[derive(Serialize)]
pub(crate) struct Href {
    pub href: String,
}

impl Links {
    pub fn new(base: &str, collection: &str, id: u64) -> Links {
        Links {
            self_: [Href { href: format!("{base}/wp-json{collection}/{id}") }],
            collection: [Href { href: format!("{base}/wp-json{collection}") }],
            customer: None,
            up: None,
        }
    }

    pub fn up(mut self, base: &str, path: &str) -> Links {
        self.up = Some([Href { href: format!("{base}/wp-json{path}") }]);
        self
    }
}
