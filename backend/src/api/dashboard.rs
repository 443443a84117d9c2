//! `GET /`: a plain status page (queue counts, refreshed every second) so that `wns demo` and a
//! fresh `wns serve` have something to look at in a browser. The merchant-facing screens are
//! the wasm widget inside WordPress.
//!
//! Like the API it needs a credential: without one it shows a form taking an operator key, which
//! `POST /login` checks and keeps in an HttpOnly, SameSite=Strict cookie (so the page's own calls
//! to `/api/v1` carry it, and no other site's can). `GET /login?key=…` does the same from a link
//! (what `wns demo` prints); `POST /logout` forgets it.

use axum::{
    Form, Router,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{
    ApiError, AppState,
    auth::{COOKIE, Caller, Cap},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(page)).route("/login", get(login_link).post(login_form)).route("/logout", post(logout))
}

async fn page(caller: Result<Caller, ApiError>) -> Response {
    match caller {
        Ok(c) if c.require(Cap::View).is_ok() => Html(PAGE).into_response(),
        Ok(c) => login(StatusCode::FORBIDDEN, &format!("{} may not view the queue.", c.who)),
        Err(_) => login(StatusCode::UNAUTHORIZED, ""),
    }
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
    let escaped = problem.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
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

const PAGE: &str = r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wns — queue</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:2rem;color:#1d2327}
table{border-collapse:collapse}td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}.dead{color:#b32d2e}.blocked{color:#996800}
</style></head><body>
<h1>wns</h1><p>Jobs by kind and state (refreshed every second). Metrics: <a href="/metrics">/metrics</a>, health: <a href="/healthz">/healthz</a>.</p>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>
<table id="t"><thead><tr><th>kind</th><th>ready</th><th>running</th><th>blocked</th><th>done</th><th>dead</th></tr></thead><tbody></tbody></table>
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
</script></body></html>"##;
