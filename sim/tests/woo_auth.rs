//! WooCommerce's authentication rules: over plain HTTP only OAuth 1.0a counts (Basic and
//! query-string keys are ignored, so the request fails as anonymous); over HTTPS Basic works.

mod woo_support;

use reqwest::Method;
use wns_sim::woo::json::OJson;
use wns_sim::woo::{
    KeyPermissions, OAuthMethod, TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET, WooConfig, WooSim, oauth1_header,
    oauth1_header_now,
};
use woo_support::*;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn plain(c: &Client, url: &str, auth: Option<String>, https: bool) -> Answer {
    let mut req = c.http.get(url);
    if let Some(auth) = auth {
        req = req.header("Authorization", auth);
    }
    if https {
        req = req.header("X-Forwarded-Proto", "https");
    }
    answer(req.send().await.unwrap()).await
}

fn basic(secret: &str) -> String {
    use base64::Engine;
    let pair = format!("{TEST_CONSUMER_KEY}:{secret}");
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))
}

#[tokio::test]
async fn basic_auth_over_plain_http_is_ignored_and_fails_as_anonymous() {
    let (_running, c) = start().await;
    let a = plain(&c, &c.url("/orders"), Some(basic(TEST_CONSUMER_SECRET)), false).await;
    let f = fixture("error-basic-over-plain-http");
    assert_eq!((a.status, a.json()), (f.status, f.body));
    assert_eq!(a.header("vary").as_deref(), Some("Origin"));
}

#[tokio::test]
async fn query_string_keys_over_plain_http_are_ignored_too() {
    let (_running, c) = start().await;
    let url = c.url(&format!("/orders?consumer_key={TEST_CONSUMER_KEY}&consumer_secret={TEST_CONSUMER_SECRET}"));
    let a = plain(&c, &url, None, false).await;
    let f = fixture("error-query-keys-over-plain-http");
    assert_eq!((a.status, a.json()), (f.status, f.body));
    let none = plain(&c, &c.url("/orders"), None, false).await;
    assert_eq!((none.status, none.json()), (401, fixture("error-no-auth").body));
}

#[tokio::test]
async fn oauth_with_hmac_sha256_or_sha1_is_accepted_over_plain_http() {
    let (_running, c) = start().await;
    for (i, how) in [OAuthMethod::HmacSha256, OAuthMethod::HmacSha1].into_iter().enumerate() {
        let url = c.url("/orders?per_page=5&status=any");
        let auth =
            oauth1_header("GET", &url, TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET, how, now(), &format!("nonce-{i}"));
        let a = plain(&c, &url, Some(auth), false).await;
        assert_eq!(a.status, 200, "{how:?}: {}", String::from_utf8_lossy(&a.raw));
        assert_eq!(a.header("cache-control").as_deref(), Some("no-cache, must-revalidate, max-age=0"));
    }
}

#[tokio::test]
async fn oauth_with_a_wrong_secret_gets_the_recorded_answer() {
    let (_running, c) = start().await;
    let url = c.url("/orders");
    let wrong = oauth1_header("GET", &url, TEST_CONSUMER_KEY, "cs_wrong", OAuthMethod::HmacSha256, now(), "n1");
    let a = plain(&c, &url, Some(wrong), false).await;
    let f = fixture("error-wrong-secret-oauth");
    assert_eq!((a.status, a.json()), (f.status, f.body));
}

#[tokio::test]
async fn a_reused_nonce_or_a_stale_timestamp_is_refused() {
    let (_running, c) = start().await;
    let url = c.url("/orders");
    let auth =
        oauth1_header("GET", &url, TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET, OAuthMethod::HmacSha256, now(), "once");
    assert_eq!(plain(&c, &url, Some(auth.clone()), false).await.status, 200);
    let again = plain(&c, &url, Some(auth), false).await;
    assert_eq!(again.json().get("message"), Some(&OJson::str("Invalid nonce - nonce has already been used.")));
    let stale = oauth1_header(
        "GET",
        &url,
        TEST_CONSUMER_KEY,
        TEST_CONSUMER_SECRET,
        OAuthMethod::HmacSha256,
        now() - 3600,
        "old",
    );
    let a = plain(&c, &url, Some(stale), false).await;
    assert_eq!((a.status, a.json().get("message")), (401, Some(&OJson::str("Invalid timestamp."))));
}

#[tokio::test]
async fn basic_auth_works_behind_an_https_proxy_and_links_use_https() {
    let (running, c) = start().await;
    recorded_catalogue(&c).await;
    let a = plain(&c, &c.url("/products?sku=WNS-MUG"), Some(basic(TEST_CONSUMER_SECRET)), true).await;
    assert_eq!(a.status, 200);
    assert_same_shape("products-by-sku-basic-auth-https", &fixture("products-by-sku-basic-auth-https").body, &a.json());
    let https_site = running.base_url.replace("http://", "https://");
    assert_eq!(a.header("link"), Some(format!("<{https_site}/wp-json/>; rel=\"https://api.w.org/\"")));
    let permalink = a.json().as_array().unwrap()[0].get("permalink").and_then(OJson::as_str).unwrap().to_owned();
    assert!(permalink.starts_with(&https_site), "{permalink}");

    let wrong = plain(&c, &c.url("/orders"), Some(basic("cs_0000000000000000000000000000000000000000")), true).await;
    let f = fixture("error-wrong-secret-basic");
    assert_eq!((wrong.status, wrong.json()), (f.status, f.body));
}

#[tokio::test]
async fn a_store_configured_for_https_takes_query_string_keys() {
    let cfg = WooConfig { https: true, ..WooConfig::for_tests() };
    let running = WooSim::spawn(cfg).await.unwrap();
    let c = Client::new(&running.base_url);
    let url = c.url(&format!("/orders?consumer_key={TEST_CONSUMER_KEY}&consumer_secret={TEST_CONSUMER_SECRET}"));
    assert_eq!(plain(&c, &url, None, false).await.status, 200);
}

#[tokio::test]
async fn a_read_only_key_cannot_write() {
    let cfg = WooConfig { key_permissions: KeyPermissions::Read, ..WooConfig::for_tests() };
    let running = WooSim::spawn(cfg).await.unwrap();
    let c = Client::new(&running.base_url);
    assert_eq!(c.get("/orders").await.status, 200);
    let a = c.send(Method::POST, "/products", Some(&OJson::obj([("name", OJson::str("X"))]))).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.json().get("message"), Some(&OJson::str("The API key provided does not have write permissions.")));
}

#[tokio::test]
async fn an_anonymous_request_is_refused_by_each_route_in_its_own_words() {
    let (_running, c) = start().await;
    let anonymous = |method: Method, path: &str| c.http.request(method, c.url(path));
    let a = answer(anonymous(Method::GET, "/orders/1").send().await.unwrap()).await;
    assert_eq!(a.json().get("message"), Some(&OJson::str("Sorry, you cannot view this resource.")));
    let a = answer(anonymous(Method::POST, "/products/batch").body("{}").send().await.unwrap()).await;
    assert_eq!((a.status, a.json().get("code")), (401, Some(&OJson::str("woocommerce_rest_cannot_batch"))));
    let a = answer(anonymous(Method::GET, "/orders?per_page=101").send().await.unwrap()).await;
    assert_eq!(a.status, 400, "parameters are validated before permissions");
    let signed = oauth1_header_now("GET", &c.url("/nope"), TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET);
    let a = answer(c.http.get(c.url("/nope")).header("Authorization", signed).send().await.unwrap()).await;
    assert_eq!((a.status, a.json().get("code")), (404, Some(&OJson::str("rest_no_route"))));
}
