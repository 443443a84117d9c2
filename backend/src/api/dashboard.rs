//! `GET /`: a plain status page (queue counts, refreshed every second) so that `wns demo` and a
//! fresh `wns serve` have something to look at in a browser. The merchant-facing screens are
//! the wasm widget inside WordPress.

use axum::{Router, response::Html, routing::get};

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(|| async { Html(PAGE) }))
}

const PAGE: &str = r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wns — queue</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:2rem;color:#1d2327}
table{border-collapse:collapse}td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}.dead{color:#b32d2e}.blocked{color:#996800}
</style></head><body>
<h1>wns</h1><p>Jobs by kind and state (refreshed every second). Metrics: <a href="/metrics">/metrics</a>, health: <a href="/healthz">/healthz</a>.</p>
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
