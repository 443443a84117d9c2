//! `GET /`: the dashboard for people who are not in WordPress (`wns demo`, an operator): the same
//! wasm widget the `wns-sync` plugin loads inside WooCommerce, with the same views — the recent
//! orders with their badges, an order's timeline (`/?order=ID`), products with NetSuite's stock
//! and its freshness, the SKU fixer and the exceptions board — above the queue's counts
//! (refreshed every second by a few lines of script, so the page says something even where the
//! widget is not built).
//!
//! Like the API it needs a credential: without one it shows a form taking an operator key, which
//! `POST /login` checks and keeps in an HttpOnly, SameSite=Strict cookie (so the page's own calls
//! to `/api/v1` carry it, and no other site's can). `GET /login?key=…` does the same from a link
//! (what `wns demo` prints); `POST /logout` forgets it.
//!
//! Decisions:
//! - The widget asks for its token where the plugin would (`tokenUrl`): here `POST /login/grant`,
//!   which answers the plugin's shape (`TokenGrant`) with the signed-in key's capabilities and an
//!   **empty token**. The widget then sends no `Authorization` header and its same-origin calls
//!   carry the cookie; the key never reaches the page's script (the cookie stays HttpOnly). The
//!   grant lasts 5 minutes, so a revoked key ends the page's session within that time.
//! - The widget's files are read from `server.widget_dir` at request time, not compiled into the
//!   binary: `cargo build -p wns` needs no wasm toolchain, and `cargo xtask widget` updates a running
//!   dashboard. Missing files leave the page with the queue and a line saying how to build them.
//! - The WordPress admin's look comes from the plugin's own stylesheet plus a few rules standing in
//!   for the admin's base styles (buttons, tables, notices), so both places look alike.

use axum::{
    Form, Json, Router,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use wns_api_types::{TokenGrant, WpError};

use super::{
    ApiError, AppState,
    auth::{COOKIE, Caller, Cap},
};
use crate::{queue::JobKind, store::Store};

/// Where `cargo xtask widget` puts the widget, from a checkout's root.
pub const DEFAULT_WIDGET_DIR: &str = "wp-plugin/wns-sync/assets/pkg";
/// The widget's two files, as wasm-bindgen names them.
const WIDGET_JS: &str = "wns_widget.js";
const WIDGET_WASM: &str = "wns_widget_bg.wasm";
/// How long a dashboard grant lasts before the widget asks again.
const GRANT_SECS: i64 = 300;
/// How many orders and products the dashboard lists.
const RECENT: i64 = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/login", get(login_link).post(login_form))
        .route("/login/grant", post(grant))
        .route("/logout", post(logout))
        .route("/widget/{file}", get(widget_file))
}

#[derive(Deserialize)]
struct PageQuery {
    order: Option<u64>,
}

async fn page(State(state): State<AppState>, caller: Result<Caller, ApiError>, q: Query<PageQuery>) -> Response {
    match caller {
        Ok(c) if c.require(Cap::View).is_ok() => match render(&state, q.order).await {
            Ok(html) => Html(html).into_response(),
            Err(e) => ApiError::from(e).into_response(),
        },
        Ok(c) => login(StatusCode::FORBIDDEN, &format!("{} may not view the queue.", c.who)),
        Err(_) => login(StatusCode::UNAUTHORIZED, ""),
    }
}

/// The page: the placeholders the widget fills, as the plugin prints them in WooCommerce.
async fn render(state: &AppState, order: Option<u64>) -> Result<String, sqlx::Error> {
    let store = state.queue.store();
    let (orders, products) = futures::try_join!(recent_orders(store), some_products(store))?;
    let built = tokio::fs::metadata(state.widget_dir.join(WIDGET_WASM)).await.is_ok()
        && tokio::fs::metadata(state.widget_dir.join(WIDGET_JS)).await.is_ok();
    let mut body = String::new();
    if !built {
        body.push_str(&format!(
            "<div class=\"notice notice-warning\"><p>The widget is not built in <code>{}</code>, so only the queue is shown. Run <code>cargo xtask widget</code> in the checkout, or point <code>server.widget_dir</code> at its files.</p></div>",
            escape(&state.widget_dir.display().to_string())
        ));
    }
    if let Some(id) = order {
        body.push_str(&format!(
            "<h2>Order #{id}</h2><div class=\"postbox\"><div class=\"wns-sync-box\" data-wns-order=\"{id}\"></div></div>"
        ));
    }
    body.push_str("<div class=\"wns-dash-columns\"><div><h2>Recent orders</h2>");
    if orders.is_empty() {
        body.push_str("<p>No orders yet: wns lists them here once the store sends them.</p>");
    } else {
        body.push_str("<table class=\"widefat striped\"><thead><tr><th scope=\"col\">Order</th><th scope=\"col\">NetSuite sync</th></tr></thead><tbody>");
        for id in &orders {
            body.push_str(&format!(
                "<tr><td><a href=\"/?order={id}\">#{id}</a></td><td><span class=\"wns-sync-status\" data-wns-order=\"{id}\"></span></td></tr>"
            ));
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("</div><div><h2>Products</h2>");
    if products.is_empty() {
        body.push_str("<p>No products yet: wns lists the store's catalogue after its first stock pass.</p>");
    } else {
        body.push_str("<table class=\"widefat striped\"><thead><tr><th scope=\"col\">SKU</th><th scope=\"col\">Stock here</th><th scope=\"col\">NetSuite</th></tr></thead><tbody>");
        for (id, sku, stock) in &products {
            let stock = stock.map(|n| n.to_string()).unwrap_or_else(|| "not tracked".into());
            body.push_str(&format!(
                "<tr><td>{}</td><td>{stock}</td><td><span class=\"wns-sync-status\" data-wns-product=\"{id}\"></span></td></tr>",
                escape(sku)
            ));
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("</div></div><div id=\"wns-sync-app\" class=\"wns-sync-app\" data-wns-view=\"exceptions\"></div>");
    let script = if built {
        format!(
            "<script>window.wnsSync={{backendUrl:location.origin,tokenUrl:'/login/grant',nonce:'',wasmUrl:'/widget/{WIDGET_WASM}'}};</script><script type=\"module\" src=\"/widget/{WIDGET_JS}\"></script>"
        )
    } else {
        String::new()
    };
    // The body last: it holds the store's SKUs, which no later replacement may read as a marker.
    Ok(PAGE.replace("{widget}", &script).replace("{css}", CSS).replace("{body}", &body))
}

/// The newest orders wns has queued, newest first.
async fn recent_orders(store: &Store) -> Result<Vec<u64>, sqlx::Error> {
    let keys: Vec<(String,)> = sqlx::query_as(
        "select entity_key from jobs where kind = $1 group by entity_key order by max(id) desc limit $2",
    )
    .bind(JobKind::WooOrder.as_str())
    .bind(RECENT)
    .fetch_all(store.pool())
    .await?;
    Ok(keys.iter().filter_map(|(k,)| JobKind::WooOrder.id_of(k)).collect())
}

/// Products from the store's catalogue: those without a NetSuite item first (what needs a person),
/// then by SKU.
async fn some_products(store: &Store) -> Result<Vec<(i64, String, Option<i64>)>, sqlx::Error> {
    sqlx::query_as(
        "select c.wc_id, c.sku, c.stock from wc_catalogue c \
         order by case when exists (select 1 from sku_map m where m.sku = c.sku) \
         or exists (select 1 from stock_items i where i.sku = c.sku) then 1 else 0 end, c.sku limit $1",
    )
    .bind(RECENT)
    .fetch_all(store.pool())
    .await
}

/// `POST /login/grant`: what the widget asks the plugin for, answered for the signed-in key (see
/// the module comment: the token is empty, the cookie is the credential).
async fn grant(State(state): State<AppState>, caller: Result<Caller, ApiError>) -> Response {
    let refuse = |status: StatusCode, code: &str, message: String| {
        (status, Json(WpError { code: code.into(), message })).into_response()
    };
    match caller {
        Ok(c) if c.require(Cap::View).is_ok() => {
            let now = state.queue.now().div_euclid(1000);
            Json(TokenGrant {
                token: String::new(),
                issued_at: now,
                expires_at: now + GRANT_SECS,
                caps: c.caps.iter().map(|c| c.as_str().to_string()).collect(),
            })
            .into_response()
        }
        Ok(c) => refuse(
            StatusCode::FORBIDDEN,
            "wns_forbidden",
            format!("{} may not view the sync (it needs `view`).", c.who),
        ),
        Err(e) => refuse(StatusCode::UNAUTHORIZED, "wns_signed_out", format!("{e}. Sign in again at /.")),
    }
}

/// `GET /widget/{file}`: the widget's JavaScript and WebAssembly from `server.widget_dir`. Public,
/// like any site's scripts: they hold no data, and every call they make needs the credential.
async fn widget_file(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let kind = match file.as_str() {
        WIDGET_JS => "text/javascript; charset=utf-8",
        WIDGET_WASM => "application/wasm",
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match tokio::fs::read(state.widget_dir.join(&file)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "no-cache")], bytes).into_response(),
        Err(_) => (
            StatusCode::NOT_FOUND,
            format!("{file} is not in {}: run `cargo xtask widget`", state.widget_dir.display()),
        )
            .into_response(),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[derive(Deserialize)]
struct KeyForm {
    key: String,
}

async fn login_form(State(state): State<AppState>, Form(f): Form<KeyForm>) -> Response {
    sign_in(&state, f.key.trim()).await
}

async fn login_link(State(state): State<AppState>, Query(f): Query<KeyForm>) -> Response {
    sign_in(&state, f.key.trim()).await
}

/// Checks the key as the API would, then keeps it in the cookie and shows the page.
async fn sign_in(state: &AppState, key: &str) -> Response {
    let mut parts = axum::http::Request::new(()).into_parts().0;
    if let Ok(v) = HeaderValue::from_str(&format!("Bearer {key}")) {
        parts.headers.insert(header::AUTHORIZATION, v);
    }
    match <Caller as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, state).await {
        Ok(c) if c.require(Cap::View).is_ok() => {
            let mut res = Redirect::to("/").into_response();
            set_cookie(res.headers_mut(), &format!("{COOKIE}={key}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200"));
            res
        }
        Ok(c) => login(StatusCode::FORBIDDEN, &format!("{} may not view the queue (it needs `view`).", c.who)),
        Err(e) => login(StatusCode::UNAUTHORIZED, &e.to_string()),
    }
}

async fn logout() -> Response {
    let mut res = Redirect::to("/").into_response();
    set_cookie(res.headers_mut(), &format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"));
    res
}

fn set_cookie(h: &mut HeaderMap, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(header::SET_COOKIE, v);
    }
}

/// The sign-in form, with `problem` (plain text, escaped) above it.
fn login(status: StatusCode, problem: &str) -> Response {
    let escaped = escape(problem);
    let note =
        if escaped.is_empty() { String::new() } else { format!("<p class=\"problem\" role=\"alert\">{escaped}</p>") };
    (status, Html(LOGIN.replace("{note}", &note))).into_response()
}

const LOGIN: &str = r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wns — sign in</title>
<style>body{font:15px/1.4 system-ui,sans-serif;margin:2rem;color:#1d2327;max-width:36rem}
label{display:block;margin:.5rem 0}input{font:inherit;width:100%;padding:.3rem}.problem{color:#b32d2e}</style>
</head><body><h1>wns</h1>{note}
<form method="post" action="/login"><label for="key">Operator key (from <code>wns keys create</code>)</label>
<input id="key" name="key" type="password" autocomplete="off" required autofocus>
<p><button type="submit">Sign in</button></p></form></body></html>"##;

/// The plugin's stylesheet, so badges, the fixer and the board look as they do in WooCommerce, and
/// a few rules standing in for the WordPress admin's own (colours, buttons, tables, notices).
const CSS: &str = concat!(
    include_str!("../../../wp-plugin/wns-sync/assets/wns-sync.css"),
    r#"
:root{--wp-admin-theme-color:#2271b1}
body{background:#f0f0f1;color:#3c434a;font:13px/1.4em -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Oxygen-Sans,Ubuntu,Cantarell,"Helvetica Neue",sans-serif;margin:0}
.wns-dash-bar{background:#1d2327;color:#f0f0f1;padding:0 20px;height:32px;display:flex;align-items:center;justify-content:space-between}
.wns-dash-bar a,.wns-dash-bar button{color:#f0f0f1}
.wrap{margin:10px 20px 40px}h1{font-size:23px;font-weight:400;margin:.6em 0}h2{font-size:1.3em;margin:1.4em 0 .6em;color:#1d2327}
a{color:#2271b1}a:hover{color:#135e96}
.button,button{display:inline-block;font:inherit;font-size:13px;line-height:2.15;min-height:30px;margin:0;padding:0 10px;cursor:pointer;border:1px solid #2271b1;border-radius:3px;background:#f6f7f7;color:#2271b1;white-space:nowrap}
.button:hover{background:#f0f0f1;border-color:#0a4b78;color:#0a4b78}
.button:focus,button:focus,a:focus,input:focus,select:focus{outline:2px solid #2271b1;outline-offset:1px}
.button-primary{background:#2271b1;color:#fff}.button-primary:hover{background:#135e96;color:#fff}
.button-link{background:none;border:0;padding:0;color:#2271b1;text-decoration:underline;min-height:0;line-height:inherit}
.wns-dash-bar button{background:none;border:0;text-decoration:underline}
input[type=text],input[type=search],select{font:inherit;border:1px solid #8c8f94;border-radius:4px;padding:0 8px;min-height:30px;background:#fff;color:#2c3338}
.widefat{border-spacing:0;width:100%;background:#fff;border:1px solid #c3c4c7;box-shadow:0 1px 1px rgba(0,0,0,.04)}
.widefat td,.widefat th{padding:8px 10px;text-align:left;vertical-align:top}.widefat thead th{border-bottom:1px solid #c3c4c7;font-weight:400}
.striped>tbody>:nth-child(odd){background:#f6f7f7}
.notice{background:#fff;border:1px solid #c3c4c7;border-left:4px solid #72aee6;box-shadow:0 1px 1px rgba(0,0,0,.04);margin:5px 0 15px;padding:1px 12px}
.notice-warning{border-left-color:#dba617}.notice p{margin:.5em 0;padding:2px}
.postbox{background:#fff;border:1px solid #c3c4c7;padding:0 12px 8px;max-width:48em}
.screen-reader-text{border:0;clip:rect(1px,1px,1px,1px);clip-path:inset(50%);height:1px;margin:-1px;overflow:hidden;padding:0;position:absolute;width:1px;word-wrap:normal!important}
.wns-dash-columns{display:grid;grid-template-columns:repeat(auto-fit,minmax(24em,1fr));gap:0 24px}
.wns-dash-queue td,.wns-dash-queue th{text-align:right}.wns-dash-queue td:first-child,.wns-dash-queue th:first-child{text-align:left}
.wns-dash-queue .dead{color:#b32d2e}.wns-dash-queue .blocked{color:#996800}
"#
);

const PAGE: &str = r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>NetSuite sync — wns</title><style>{css}</style></head><body>
<div class="wns-dash-bar"><span>wns · WooCommerce ⇄ NetSuite</span><span><a href="/metrics">Metrics</a> · <a href="/healthz">Health</a> ·
<form method="post" action="/logout" style="display:inline"><button type="submit">Sign out</button></form></span></div>
<div class="wrap"><h1>NetSuite sync</h1>
<p>What WooCommerce's screens show with the wns-sync plugin: each order's sync, NetSuite's stock for each product, SKUs waiting for a NetSuite item, and the exceptions by owner. It refreshes by itself.</p>
{body}
<h2>Queue</h2><p>Jobs by kind and state, refreshed every second.</p>
<table class="widefat striped wns-dash-queue" id="t"><thead><tr><th scope="col">Kind</th><th scope="col">Ready</th><th scope="col">Running</th><th scope="col">Blocked</th><th scope="col">Done</th><th scope="col">Dead</th></tr></thead><tbody></tbody></table>
</div>
<script>
const states=["ready","running","blocked","done","dead"];
async function tick(){
  try{
    const s=await (await fetch("/api/v1/queue")).json();
    const kinds={};
    for(const c of s.counts){(kinds[c.kind]??={})[c.state]=c.count;}
    const body=document.querySelector("#t tbody");body.replaceChildren();
    for(const [k,v] of Object.entries(kinds)){
      const tr=document.createElement("tr");
      const td=document.createElement("td");td.textContent=k;tr.append(td);
      for(const st of states){const c=document.createElement("td");c.className=st;c.textContent=v[st]??0;tr.append(c);}
      body.append(tr);
    }
  }catch(e){}
}
tick();setInterval(tick,1000);
</script>{widget}</body></html>"##;
