//! Nothing under `/api/v1` or `/` answers without a credential, on SQLite and PostgreSQL: user
//! tokens the WordPress plugin mints (signature, audience, issuer, expiry, life, capabilities),
//! operator keys (created, used, revoked), the status page's sign-in, CORS for the configured
//! origins only, and `wns serve` refusing to listen beyond loopback with no way to authenticate.

use std::sync::Arc;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use http_body_util::BodyExt;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};
use tower::ServiceExt;
use wns::{
    api::{
        AppState,
        auth::{ApiSettings, Cap, Claims, create_key, revoke_key},
        router,
    },
    clock::ManualClock,
    metrics::Metrics,
    queue::{Handlers, NewJob, Outcome, Queue, RetryPolicy, Worker, WorkerOptions},
    store::{Backend, Store},
    testing::TestDb,
};

const SECRET: &str = "a-shared-secret-of-at-least-32-chars!!";
const SITE: &str = "https://shop.example";
/// The manual clock's start, in ms.
const NOW_MS: i64 = 1_764_000_000_000;
const NOW: u64 = (NOW_MS / 1000) as u64;

struct Harness {
    _db: TestDb,
    store: Store,
    queue: Queue,
    clock: ManualClock,
    app: axum::Router,
}

async fn harness(backend: Backend) -> Harness {
    harness_with(backend, |s| s).await
}

async fn harness_with(backend: Backend, adjust: impl FnOnce(AppState) -> AppState) -> Harness {
    wns::testing::init_logs();
    let db = TestDb::new(backend).await;
    let store = db.store(4).await;
    let clock = ManualClock::new(NOW_MS);
    let queue = Queue::new(store.clone(), Arc::new(clock.clone()), RetryPolicy::default());
    let api = ApiSettings {
        jwt_secret: Some(SECRET.into()),
        sites: vec![SITE.into()],
        leeway_secs: 30,
        cors_origins: vec![SITE.into()],
        requests_per_minute: 60,
        burst: 20,
    };
    let app = router(adjust(AppState::new(queue.clone(), Arc::new(Metrics::new())).with_api(api)));
    Harness { _db: db, store, queue, clock, app }
}

fn claims(caps: &[&str]) -> Claims {
    Claims {
        iss: SITE.into(),
        sub: "7".into(),
        name: "Mia Merchandiser".into(),
        aud: "wns".into(),
        caps: caps.iter().map(|c| c.to_string()).collect(),
        iat: NOW - 60,
        exp: NOW + 540,
    }
}

fn token(c: &Claims, secret: &str) -> String {
    jsonwebtoken::encode(&Header::default(), c, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

impl Harness {
    async fn call(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        let body = res.into_body().collect().await.unwrap().to_bytes();
        (status, headers, String::from_utf8_lossy(&body).to_string())
    }

    async fn get(&self, path: &str, bearer: Option<&str>) -> (StatusCode, String) {
        let mut req = Request::get(path);
        if let Some(t) = bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let (status, _, body) = self.call(req.body(Body::empty()).unwrap()).await;
        (status, body)
    }

    async fn post(&self, path: &str, bearer: &str) -> (StatusCode, String) {
        let req = Request::post(path).header(header::AUTHORIZATION, format!("Bearer {bearer}")).body(Body::empty());
        let (status, _, body) = self.call(req.unwrap()).await;
        (status, body)
    }

    async fn dead_job(&self) -> i64 {
        let id = self.queue.enqueue(NewJob::new("woo.order", "order:9", json!({}))).await.unwrap();
        let handlers = Handlers::new().on("woo.order", |_| async { Outcome::Dead { error: "gave up".into() } });
        Worker::new(self.queue.clone(), handlers, WorkerOptions::new("w")).drain().await.unwrap();
        id.0
    }
}

fn message(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON error body: {body}"));
    v["error"]["message"].as_str().unwrap_or_default().to_string()
}

async fn no_credential_is_401_with_what_to_send(b: Backend) {
    let h = harness(b).await;
    let (status, headers, body) = h.call(Request::get("/api/v1/queue").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.get(header::WWW_AUTHENTICATE).is_some());
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["error"]["code"], "unauthorized");
    assert!(message(&body).contains("Authorization: Bearer"), "{body}");
    let (status, _) = h.get("/api/v1/jobs/1", Some("not-a-jwt")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn a_valid_user_token_may_view(b: Backend) {
    let h = harness(b).await;
    let (status, body) = h.get("/api/v1/queue", Some(&token(&claims(&["view"]), SECRET))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn bad_user_tokens_are_refused_each_with_its_reason(b: Backend) {
    let h = harness(b).await;
    let base = claims(&["view", "replay"]);
    let cases: Vec<(Claims, &str, &str)> = vec![
        (Claims { exp: NOW - 31, iat: NOW - 600, ..base.clone() }, SECRET, "expired"),
        (base.clone(), "another-secret-of-at-least-32-chars!!!!", "signature"),
        (Claims { aud: "someone-else".into(), ..base.clone() }, SECRET, "`aud`"),
        (Claims { iss: "https://other.example".into(), ..base.clone() }, SECRET, "api.sites"),
        (Claims { iat: NOW - 60, exp: NOW + 3600, ..base.clone() }, SECRET, "life"),
    ];
    for (c, secret, why) in cases {
        let (status, body) = h.get("/api/v1/queue", Some(&token(&c, secret))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {body}");
        assert!(message(&body).contains(why), "{why}: {body}");
    }
    // Within the clock skew an expired token still passes.
    let (status, _) = h.get("/api/v1/queue", Some(&token(&Claims { exp: NOW - 20, ..base }, SECRET))).await;
    assert_eq!(status, StatusCode::OK);
}

async fn a_missing_capability_is_403_and_the_right_one_replays(b: Backend) {
    let h = harness(b).await;
    let job = h.dead_job().await;
    let viewer = token(&claims(&["view"]), SECRET);
    let (status, body) = h.post(&format!("/api/v1/jobs/{job}/replay"), &viewer).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(message(&body).contains("`replay`") && message(&body).contains("Mia Merchandiser"), "{body}");
    let manager = token(&claims(&["view", "replay"]), SECRET);
    let (status, body) = h.post(&format!("/api/v1/jobs/{job}/replay"), &manager).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["result"], "requeued");
    let (status, body) = h.post(&format!("/api/v1/jobs/{job}/replay"), &manager).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "not dead any more: {body}");
    let (status, _) = h.post("/api/v1/jobs/987654/replay", &manager).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn an_operator_key_works_until_it_is_revoked(b: Backend) {
    let h = harness(b).await;
    let caps = [Cap::View].into_iter().collect();
    let key = create_key(&h.store, "grafana", &caps, NOW_MS).await.unwrap();
    assert!(key.starts_with("wns_") && key.len() == 47, "{key}");
    assert!(create_key(&h.store, "grafana", &caps, NOW_MS).await.unwrap_err().contains("exists"));
    let stored: String = sqlx::query_scalar("select key_hash from api_keys").fetch_one(h.store.pool()).await.unwrap();
    assert!(!stored.contains(&key[4..]), "only the hash is stored");
    let (status, _) = h.get("/api/v1/queue", Some(&key)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = h.post("/api/v1/jobs/1/replay", &key).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a view key may not replay");
    assert!(revoke_key(&h.store, "grafana", NOW_MS).await.unwrap());
    let (status, body) = h.get("/api/v1/queue", Some(&key)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(message(&body).contains("revoked"), "{body}");
    let (status, _) = h.get("/api/v1/queue", Some("wns_thisKeyWasNeverMadeByAnyoneAtAllNoNoNoNoNoNo")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn the_status_page_asks_for_a_key_and_keeps_it_in_an_httponly_cookie(b: Backend) {
    let h = harness(b).await;
    let (status, body) = h.get("/", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("<form method=\"post\" action=\"/login\""), "{body}");
    let key = create_key(&h.store, "ops", &[Cap::View].into_iter().collect(), NOW_MS).await.unwrap();
    let (status, headers, _) = h.call(login_form(&key)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_string();
    for path in ["/", "/api/v1/queue"] {
        let req = Request::get(path).header(header::COOKIE, pair.clone()).body(Body::empty()).unwrap();
        assert_eq!(h.call(req).await.0, StatusCode::OK, "{path} with the cookie");
    }
    let (status, _, body) = h.call(login_form("wns_wrong")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("unknown operator key"), "{body}");
}

/// The dashboard's sign-in form, sent with `key`.
fn login_form(key: &str) -> Request<Body> {
    Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("key={key}")))
        .unwrap()
}

/// Signs in with a key of `caps` through the form and returns the cookie's `name=value`.
async fn sign_in(h: &Harness, name: &str, caps: &[Cap]) -> String {
    let key = create_key(&h.store, name, &caps.iter().copied().collect(), NOW_MS).await.unwrap();
    let (status, headers, _) = h.call(login_form(&key)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().split(';').next().unwrap().to_string()
}

async fn with_cookie(h: &Harness, req: axum::http::request::Builder, cookie: &str) -> (StatusCode, String) {
    let (status, _, body) = h.call(req.header(header::COOKIE, cookie).body(Body::empty()).unwrap()).await;
    (status, body)
}

async fn the_dashboard_prints_the_widgets_placeholders_and_grants_it_the_keys_capabilities(b: Backend) {
    let dir = std::env::temp_dir().join(format!("wns-widget-{b:?}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("wns_widget.js"), "export function start(){}").unwrap();
    std::fs::write(dir.join("wns_widget_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let h = harness_with(b, move |mut s| {
        s.widget_dir = Arc::new(dir);
        s
    })
    .await;
    for id in [41, 42] {
        h.queue.enqueue(NewJob::new("woo.order", format!("order:{id}"), json!({}))).await.unwrap();
    }
    for (sku, id) in [("MAPPED-1", 501), ("<b>NEW</b>", 502)] {
        sqlx::query("insert into wc_catalogue (sku, wc_id, wc_parent, categories, manage_stock, stock, seen_at) values ($1, $2, 0, '', 1, 7, 0)")
            .bind(sku)
            .bind(id)
            .execute(h.store.pool())
            .await
            .unwrap();
    }
    sqlx::query(
        "insert into sku_map (sku, netsuite_item_id, source, updated_at) values ('MAPPED-1', '77', 'manual', 0)",
    )
    .execute(h.store.pool())
    .await
    .unwrap();
    let cookie = sign_in(&h, "viewer", &[Cap::View, Cap::MapSkus]).await;

    let (status, page) = with_cookie(&h, Request::get("/?order=42"), &cookie).await;
    assert_eq!(status, StatusCode::OK);
    // The newest order first, each with its badge's placeholder, and the order's timeline box.
    let (p42, p41) = (page.find(r#"data-wns-order="42""#).unwrap(), page.find(r#"<a href="/?order=41">"#).unwrap());
    assert!(p42 < p41, "newest first");
    assert!(page.contains(r#"<div class="wns-sync-box" data-wns-order="42">"#), "{page}");
    // The product without a NetSuite item first, its SKU escaped.
    let (new, mapped) = (page.find("&lt;b&gt;NEW&lt;/b&gt;").unwrap(), page.find("MAPPED-1").unwrap());
    assert!(new < mapped && !page.contains("<b>NEW</b>"), "unmapped first, escaped");
    assert!(page.contains(r#"data-wns-product="502""#) && page.contains(r#"id="wns-sync-app""#));
    assert!(page.contains("tokenUrl:'/login/grant'") && page.contains(r#"src="/widget/wns_widget.js""#));
    assert!(page.contains(".wns-sync-badge"), "the plugin's stylesheet is in the page");

    // The grant: the key's capabilities, no token (the cookie stays the credential), 5 minutes.
    let (status, body) = with_cookie(&h, Request::post("/login/grant"), &cookie).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let grant: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(grant["token"], "");
    assert_eq!(grant["caps"], json!(["view", "map_skus"]));
    assert_eq!(grant["expires_at"].as_i64().unwrap() - grant["issued_at"].as_i64().unwrap(), 300);
    assert_eq!(grant["issued_at"].as_i64().unwrap(), NOW_MS / 1000);
    // Without the cookie: WordPress's error shape, which the widget shows in words.
    let (status, _, body) = h.call(Request::post("/login/grant").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let refused: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(refused["code"], "wns_signed_out");
    assert!(refused["message"].as_str().unwrap().contains("Sign in again"), "{body}");
    // A revoked key ends the page's session at the next grant.
    revoke_key(&h.store, "viewer", NOW_MS).await.unwrap();
    assert_eq!(with_cookie(&h, Request::post("/login/grant"), &cookie).await.0, StatusCode::UNAUTHORIZED);

    // The widget's files, typed; nothing else from the folder.
    let (status, headers, _) = h.call(Request::get("/widget/wns_widget_bg.wasm").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/wasm");
    let (status, headers, body) = h.call(Request::get("/widget/wns_widget.js").body(Body::empty()).unwrap()).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "export function start(){}"));
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/javascript"));
    for path in ["/widget/..%2Fsecret", "/widget/other.js"] {
        assert_eq!(h.call(Request::get(path).body(Body::empty()).unwrap()).await.0, StatusCode::NOT_FOUND, "{path}");
    }
}

async fn without_the_built_widget_the_dashboard_shows_the_queue_and_how_to_build_it(b: Backend) {
    let h = harness_with(b, |mut s| {
        s.widget_dir = Arc::new("/nonexistent/wns-widget".into());
        s
    })
    .await;
    let cookie = sign_in(&h, "viewer", &[Cap::View]).await;
    let (status, page) = with_cookie(&h, Request::get("/"), &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("cargo xtask widget") && page.contains("/nonexistent/wns-widget"), "{page}");
    assert!(!page.contains("/widget/wns_widget.js") && page.contains(r#"id="t""#), "the queue, no widget");
    assert!(page.contains("No orders yet"), "{page}");
    let (status, _, body) = h.call(Request::get("/widget/wns_widget.js").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("cargo xtask widget"), "{body}");
}

async fn only_the_configured_origins_may_call_from_a_browser(b: Backend) {
    let h = harness(b).await;
    let preflight = |origin: &str| {
        Request::options("/api/v1/queue")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
            .body(Body::empty())
            .unwrap()
    };
    let (_, headers, _) = h.call(preflight(SITE)).await;
    assert_eq!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).and_then(|v| v.to_str().ok()), Some(SITE));
    let (_, headers, _) = h.call(preflight("https://evil.example")).await;
    assert!(headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(), "a foreign origin gets no CORS grant");
}

async fn serve_refuses_to_listen_beyond_loopback_with_no_way_to_authenticate(b: Backend) {
    wns::testing::init_logs();
    let db = TestDb::new(b).await;
    let store = db.store(2).await;
    let queue = Queue::new(store.clone(), Arc::new(ManualClock::new(NOW_MS)), RetryPolicy::default());
    let mut settings = wns::config::Settings::default();
    settings.server.bind = "0.0.0.0:0".parse().unwrap();
    let err = wns::app::Application::with_queue(&settings, queue.clone(), Handlers::new()).await.err().unwrap();
    let err = format!("{err:#}");
    assert!(err.contains("refusing to listen on 0.0.0.0") && err.contains("wns keys create"), "{err}");
    create_key(&store, "ops", &[Cap::View].into_iter().collect(), NOW_MS).await.unwrap();
    assert!(wns::app::Application::with_queue(&settings, queue, Handlers::new()).await.is_ok(), "a key is a way in");
}

/// 20 at once, then one a second (60 a minute): the 21st is 429 with `Retry-After`; another
/// caller is not affected, and a second later the first may call again.
async fn each_caller_is_rate_limited_on_its_own(b: Backend) {
    let h = harness(b).await;
    let mia = token(&claims(&["view"]), SECRET);
    for n in 0..20 {
        assert_eq!(h.get("/api/v1/queue", Some(&mia)).await.0, StatusCode::OK, "request {n}");
    }
    let req = Request::get("/api/v1/queue").header(header::AUTHORIZATION, format!("Bearer {mia}")).body(Body::empty());
    let (status, headers, body) = h.call(req.unwrap()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("1"));
    let other = token(&Claims { sub: "8".into(), ..claims(&["view"]) }, SECRET);
    assert_eq!(h.get("/api/v1/queue", Some(&other)).await.0, StatusCode::OK, "another user has their own bucket");
    h.clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(h.get("/api/v1/queue", Some(&mia)).await.0, StatusCode::OK);
}

on_both_databases!(
    each_caller_is_rate_limited_on_its_own,
    no_credential_is_401_with_what_to_send,
    a_valid_user_token_may_view,
    bad_user_tokens_are_refused_each_with_its_reason,
    a_missing_capability_is_403_and_the_right_one_replays,
    an_operator_key_works_until_it_is_revoked,
    the_status_page_asks_for_a_key_and_keeps_it_in_an_httponly_cookie,
    the_dashboard_prints_the_widgets_placeholders_and_grants_it_the_keys_capabilities,
    without_the_built_widget_the_dashboard_shows_the_queue_and_how_to_build_it,
    only_the_configured_origins_may_call_from_a_browser,
    serve_refuses_to_listen_beyond_loopback_with_no_way_to_authenticate,
);
