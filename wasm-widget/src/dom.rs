//! The browser side: finds the placeholders the `wns-sync` plugin printed, asks the backend about
//! them in **one request per kind per screen**, and writes what [`crate::view`] says into them.
//!
//! - Orders lists (`span.wns-sync-status[data-wns-order]`): one `POST /api/v1/orders/status`.
//! - Products list (`span.wns-sync-status[data-wns-product]`) and the product box: one
//!   `POST /api/v1/products/status`.
//! - The order box (`div.wns-sync-box[data-wns-order]`): `GET /api/v1/orders/{id}/timeline`, with
//!   **Replay** for a user whose token carries `replay`.
//! - The NetSuite sync page (`#wns-sync-app`): the open exceptions by owner.
//!
//! Everything refreshes in the background every 30 s, backing off while the backend does not
//! answer ([`crate::session`]). When it is down every placeholder says so in words and nothing else
//! on the WooCommerce screen changes; no error is thrown into the page. The token comes from the
//! plugin (cookie + `X-WP-Nonce`) and is renewed before it expires. On the backend's own dashboard
//! (`/`) the grant carries no token, and the calls carry the dashboard's cookie instead.

use std::{cell::RefCell, rc::Rc};

use serde::{Serialize, de::DeserializeOwned};
use wasm_bindgen::{JsCast, prelude::*};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{Document, Element, HtmlElement, RequestCredentials, RequestInit, Response};
use wns_api_types::{
    ErrorBody, OrderStatus, OrderStatusRequest, OrderTimeline, ProductStatus, ProductStatusRequest, Replayed,
    TokenGrant, WpError,
};

use crate::{
    session::{Backoff, Problem, REQUEST_TIMEOUT_MS, needs_renewal, renew_at_ms},
    view::{self, Tone},
};

/// What the plugin puts in `window.wnsSync`.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Config {
    backend_url: String,
    token_url: String,
    nonce: String,
}

struct Token {
    grant: TokenGrant,
    renew_at_ms: i64,
}

pub(crate) struct App {
    cfg: Config,
    pub(crate) doc: Document,
    token: RefCell<Option<Token>>,
    backoff: RefCell<Backoff>,
}

/// Starts the widget on this screen; the plugin's loader calls it once the wasm is loaded.
#[wasm_bindgen]
pub fn start(config: JsValue) {
    let (Ok(cfg), Some(doc)) = (crate::jsde::from_value::<Config>(config), document()) else {
        return;
    };
    let app = Rc::new(App { cfg, doc, token: RefCell::new(None), backoff: RefCell::new(Backoff::default()) });
    spawn(Box::pin(async move {
        loop {
            let ok = app.refresh().await;
            let wait = app.backoff.borrow_mut().next_delay_ms(ok);
            sleep(wait as i32).await;
        }
    }));
}

#[wasm_bindgen]
extern "C" {
    /// The words in the user's language: `window.wnsSync.t`, which the plugin makes from its text
    /// domain (`assets/wns-sync-l10n.js`) and the loader makes the identity where there is none.
    /// A JavaScript function, not a table in the wasm: each text costs one call (the size budget).
    #[wasm_bindgen(js_namespace = wnsSync, js_name = t)]
    pub(crate) fn tr(text: &str) -> String;
}

/// Sets `e`'s text, in the user's language.
pub(crate) fn say(e: &Element, text: &str) {
    e.set_text_content(Some(&tr(text)));
}

fn document() -> Option<Document> {
    web_sys::window()?.document()
}

pub(crate) fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Runs a task on the page's event loop. Every task goes through this one boxed type, so the
/// executor's code is in the wasm once, not once per kind of task (the size budget).
pub(crate) fn spawn(task: std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>) {
    spawn_local(task);
}

pub(crate) async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

impl App {
    /// One refresh of every placeholder on the screen; false when the backend did not answer.
    async fn refresh(self: &Rc<Self>) -> bool {
        let result = async {
            self.order_badges().await?;
            self.product_cells().await?;
            self.order_boxes().await?;
            self.sync_page().await
        }
        .await;
        match result {
            Ok(()) => true,
            Err(problem) => {
                self.show_everywhere(&problem);
                !matches!(problem, Problem::Unreachable)
            }
        }
    }

    pub(crate) fn placeholders(&self, selector: &str) -> Vec<Element> {
        let Ok(list) = self.doc.query_selector_all(selector) else { return Vec::new() };
        (0..list.length()).filter_map(|i| list.item(i)?.dyn_into::<Element>().ok()).collect()
    }

    fn ids(elements: &[Element], attribute: &str) -> Vec<u64> {
        // In page order, each once. A screen holds a few hundred ids at most; a sort would cost
        // 4 KB of wasm.
        let mut ids: Vec<u64> = Vec::new();
        for id in elements.iter().filter_map(|e| e.get_attribute(attribute)?.parse::<u64>().ok()) {
            if id > 0 && !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    async fn order_badges(&self) -> Result<(), Problem> {
        let spans = self.placeholders("span.wns-sync-status[data-wns-order]");
        self.render_order_badges(&spans).await.map(|_| ())
    }

    /// One `POST /api/v1/orders/status` for `spans`, each given its order's badge; the states.
    pub(crate) async fn render_order_badges(&self, spans: &[Element]) -> Result<Vec<OrderStatus>, Problem> {
        let ids = Self::ids(spans, "data-wns-order");
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let statuses: Vec<OrderStatus> =
            self.api("POST", "/api/v1/orders/status", Some(&OrderStatusRequest { ids })).await?;
        let now = now_ms();
        for span in spans {
            let id: Option<u64> = span.get_attribute("data-wns-order").and_then(|v| v.parse().ok());
            if let Some(s) = statuses.iter().find(|s| Some(s.order_id) == id) {
                let b = view::order_badge(s, now);
                badge(&self.doc, span, &b.label, b.tone, &b.detail, b.link.as_deref());
            }
        }
        Ok(statuses)
    }

    async fn product_cells(&self) -> Result<(), Problem> {
        let places = self.placeholders("[data-wns-product]");
        let ids = Self::ids(&places, "data-wns-product");
        if ids.is_empty() {
            return Ok(());
        }
        let request = ProductStatusRequest { ids, skus: Vec::new() };
        let statuses: Vec<ProductStatus> = self.api("POST", "/api/v1/products/status", Some(&request)).await?;
        for place in &places {
            let id: Option<u64> = place.get_attribute("data-wns-product").and_then(|v| v.parse().ok());
            let Some(p) = statuses.iter().find(|p| p.product_id.is_some() && p.product_id == id) else { continue };
            let cell = view::stock_cell(p);
            let detail = match &cell.drift {
                Some(d) => format!("{} {d}", cell.detail),
                None => cell.detail.clone(),
            };
            if place.tag_name().eq_ignore_ascii_case("div") {
                // The product box: the cell, then NetSuite's figure per web location.
                clear(place);
                let head = self.el("p");
                badge(&self.doc, &head, &cell.label, cell.tone, &detail, None);
                let _ = place.append_child(&head);
                let _ = place.append_child(&self.text_el("p", &detail, "wns-sync-detail"));
                if !p.locations.is_empty() {
                    let list = self.el("ul");
                    for l in &p.locations {
                        let _ = list.append_child(&self.text_el("li", &format!("{}: {}", l.location, l.available), ""));
                    }
                    let _ = place.append_child(&list);
                }
            } else {
                badge(&self.doc, place, &cell.label, cell.tone, &detail, None);
            }
        }
        Ok(())
    }

    async fn order_boxes(self: &Rc<Self>) -> Result<(), Problem> {
        for place in self.placeholders("div.wns-sync-box[data-wns-order]") {
            let Some(id) = place.get_attribute("data-wns-order").and_then(|v| v.parse::<u64>().ok()) else { continue };
            let t: OrderTimeline = self.api("GET", &format!("/api/v1/orders/{id}/timeline"), None::<&()>).await?;
            self.render_timeline(&place, id, &t);
        }
        Ok(())
    }

    fn render_timeline(self: &Rc<Self>, place: &Element, id: u64, t: &OrderTimeline) {
        let now = now_ms();
        clear(place);
        let b = view::order_badge(&t.status, now);
        let head = self.el("p");
        badge(&self.doc, &head, &b.label, b.tone, &b.detail, b.link.as_deref());
        let _ = place.append_child(&head);
        // An open exception says what happened and what to do; the badge's own text only when
        // there is none, so nothing is said twice.
        if t.exceptions.is_empty() {
            let _ = place.append_child(&self.text_el("p", &b.detail, "wns-sync-detail"));
        }
        if !t.attempts.is_empty() {
            let list = self.el("ol");
            let _ = list.set_attribute("class", "wns-sync-timeline");
            let _ = list.set_attribute("aria-label", &tr("Attempts to post this order to NetSuite"));
            for a in &t.attempts {
                let when = view::age_in_words((now - a.finished_at) / 1000);
                // A blocked attempt's error is the exception shown below.
                let error = a.error.as_deref().filter(|_| a.outcome != "blocked").map(|e| format!(": {e}"));
                let error = error.unwrap_or_default();
                let _ = list.append_child(&self.text_el(
                    "li",
                    &format!("#{} {} — {when}{error}", a.attempt, a.outcome),
                    "",
                ));
            }
            let _ = place.append_child(&list);
        }
        for e in &t.exceptions {
            let row = view::exception_row(e, now);
            let p = self.text_el("p", &format!("{}: {} {}", row.owner, row.what, row.fix), "wns-sync-exception");
            let _ = place.append_child(&p);
        }
        if self.may("replay") {
            let Ok(button) = self.doc.create_element("button") else { return };
            let _ = button.set_attribute("type", "button");
            let _ = button.set_attribute("class", "button wns-sync-replay");
            say(&button, "Replay");
            let app = self.clone();
            let target = place.clone();
            let click = Closure::<dyn FnMut()>::new(move || {
                let (app, place) = (app.clone(), target.clone());
                spawn(Box::pin(async move { app.replay(&place, id).await }));
            });
            let _ = button.add_event_listener_with_callback("click", click.as_ref().unchecked_ref());
            click.forget();
            let _ = place.append_child(&button);
        }
    }

    async fn replay(self: &Rc<Self>, place: &Element, id: u64) {
        let answer: Result<Replayed, Problem> =
            self.api("POST", &format!("/api/v1/orders/{id}/replay"), None::<&()>).await;
        let words = match answer {
            Ok(r) if r.result == "requeued" => "Queued again; the badge updates when NetSuite answers.".to_string(),
            Ok(_) => "Already waiting to be posted.".to_string(),
            Err(p) => p.words(),
        };
        let note = self.text_el("p", &words, "wns-sync-detail");
        let _ = note.set_attribute("role", "status");
        let _ = place.append_child(&note);
    }

    /// Every placeholder says what is wrong, in words; nothing else on the screen changes.
    fn show_everywhere(&self, problem: &Problem) {
        let words = problem.words();
        for place in self.placeholders("[data-wns-order], [data-wns-product]") {
            badge(&self.doc, &place, "Sync unavailable", Tone::Neutral, &words, None);
            let _ = place.set_attribute("data-wns-state", "unreachable");
        }
        self.page_notice(Some(&words));
    }

    /// Whether the token in hand carries `cap` (`map_skus`, `replay`, `resolve`).
    pub(crate) fn may(&self, cap: &str) -> bool {
        self.token.borrow().as_ref().is_some_and(|t| t.grant.caps.iter().any(|c| c == cap))
    }

    pub(crate) fn el(&self, tag: &str) -> Element {
        // Only fails for a tag name that is not one; `expect` would link the error's Debug printing.
        self.doc.create_element(tag).unwrap_or_else(|_| unreachable!())
    }

    pub(crate) fn text_el(&self, tag: &str, text: &str, class: &str) -> Element {
        let e = self.el(tag);
        say(&e, text);
        if !class.is_empty() {
            let _ = e.set_attribute("class", class);
        }
        e
    }

    /// A token for the next request, renewed a minute before it expires.
    pub(crate) async fn bearer(&self) -> Result<String, Problem> {
        if let Some(t) = self.token.borrow().as_ref()
            && !needs_renewal(t.renew_at_ms, now_ms())
        {
            return Ok(t.grant.token.clone());
        }
        let issued = now_ms();
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_credentials(RequestCredentials::SameOrigin);
        let headers = web_sys::Headers::new().map_err(|_| Problem::Unreachable)?;
        let _ = headers.set("X-WP-Nonce", &self.cfg.nonce);
        init.set_headers(&headers);
        let res = fetch(&self.cfg.token_url, &init).await?;
        let status = res.status();
        let body = json(&res).await?;
        if !res.ok() {
            let why = crate::jsde::from_value::<WpError>(body).map(|e| e.message).unwrap_or_default();
            return Err(if status >= 500 && why.is_empty() { Problem::Unreachable } else { Problem::NoToken(why) });
        }
        let grant: TokenGrant = crate::jsde::from_value(body).map_err(|_| Problem::Unreachable)?;
        let token = grant.token.clone();
        let server_now = if grant.issued_at > 0 { grant.issued_at } else { issued / 1000 };
        let renew = renew_at_ms(issued, grant.expires_at, server_now);
        *self.token.borrow_mut() = Some(Token { grant, renew_at_ms: renew });
        Ok(token)
    }

    /// A call to the backend's `/api/v1` with the user's token: the answer, or the problem in words.
    pub(crate) async fn api<T: DeserializeOwned, B: Serialize>(
        &self,
        method: &str,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, Problem> {
        let text = match body {
            Some(b) => Some(serde_json::to_string(b).map_err(|_| Problem::Unreachable)?),
            None => None,
        };
        let answer = self.call(method, path, text).await?;
        crate::jsde::from_value(answer).map_err(|_| Problem::Unreachable)
    }

    /// The part of [`App::api`] that does not depend on the types: one copy in the wasm instead
    /// of one per answer type (the size budget).
    async fn call(&self, method: &str, path: &str, body: Option<String>) -> Result<JsValue, Problem> {
        let token = self.bearer().await?;
        let init = RequestInit::new();
        init.set_method(method);
        let headers = web_sys::Headers::new().map_err(|_| Problem::Unreachable)?;
        if token.is_empty() {
            // The backend's own dashboard: its HttpOnly cookie is the credential, same origin only.
            init.set_credentials(RequestCredentials::SameOrigin);
        } else {
            init.set_credentials(RequestCredentials::Omit);
            let _ = headers.set("Authorization", &format!("Bearer {token}"));
        }
        if let Some(text) = body {
            let _ = headers.set("Content-Type", "application/json");
            init.set_body(&JsValue::from_str(&text));
        }
        init.set_headers(&headers);
        let url = format!("{}{path}", self.cfg.backend_url.trim_end_matches('/'));
        let res = fetch(&url, &init).await?;
        let status = res.status();
        let body = json(&res).await?;
        if !res.ok() {
            if status == 401 {
                // The token was refused (a new secret, a clock apart): ask for a new one next time.
                self.token.borrow_mut().take();
            }
            let why = crate::jsde::from_value::<ErrorBody>(body).map(|e| e.error.message).unwrap_or_default();
            return Err(Problem::from_status(status, why));
        }
        Ok(body)
    }
}

/// `fetch` with a timeout: no answer within it counts as unreachable.
async fn fetch(url: &str, init: &RequestInit) -> Result<Response, Problem> {
    let window = web_sys::window().ok_or(Problem::Unreachable)?;
    let abort = web_sys::AbortController::new().map_err(|_| Problem::Unreachable)?;
    init.set_signal(Some(&abort.signal()));
    let stop = abort.clone();
    let timeout = Closure::once(move || stop.abort());
    let timer = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(timeout.as_ref().unchecked_ref(), REQUEST_TIMEOUT_MS)
        .unwrap_or(0);
    let answer = JsFuture::from(window.fetch_with_str_and_init(url, init)).await;
    window.clear_timeout_with_handle(timer);
    drop(timeout);
    answer.map_err(|_| Problem::Unreachable)?.dyn_into::<Response>().map_err(|_| Problem::Unreachable)
}

async fn json(res: &Response) -> Result<JsValue, Problem> {
    let promise = res.json().map_err(|_| Problem::Unreachable)?;
    JsFuture::from(promise).await.map_err(|_| Problem::Unreachable)
}

pub(crate) fn clear(e: &Element) {
    e.set_text_content(None);
}

/// Writes a badge into `place`: the label (a link when there is one), its tone as a class and
/// the longer text as a tooltip and for screen readers.
pub(crate) fn badge(doc: &Document, place: &Element, label: &str, tone: Tone, detail: &str, link: Option<&str>) {
    let detail = tr(detail);
    clear(place);
    let Ok(mark) = doc.create_element(if link.is_some() { "a" } else { "span" }) else { return };
    let _ = mark.set_attribute("class", &format!("wns-sync-badge wns-sync-tone-{}", tone.class()));
    let _ = mark.set_attribute("title", &detail);
    if let Some(href) = link {
        let _ = mark.set_attribute("href", href);
        let _ = mark.set_attribute("target", "_blank");
        let _ = mark.set_attribute("rel", "noopener");
    }
    say(&mark, label);
    let _ = place.append_child(&mark);
    if let Ok(sr) = doc.create_element("span") {
        let _ = sr.set_attribute("class", "screen-reader-text");
        sr.set_text_content(Some(&format!(" {detail}")));
        let _ = place.append_child(&sr);
    }
    if let Some(h) = place.dyn_ref::<HtmlElement>() {
        h.set_hidden(false);
    }
}
