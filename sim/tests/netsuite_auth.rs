//! Who gets in: TBA signatures checked from first principles, OAuth 2.0 client credentials
//! with ES256 and PS256 assertions, and one 401 body for every way of getting it wrong.

mod netsuite_support;

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use netsuite_support::{Ns, Sig, error_of, json, start, start_with};
use reqwest::Method;
use serde_json::{Value, json};
use wns_sim::netsuite::{NetSuiteConfig, OAuth2Client, TbaCredentials};

const INVALID_LOGIN: &str = r#"{"type":"https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.2","title":"Unauthorized","status":401,"o:errorDetails":[{"detail":"Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.","o:errorCode":"INVALID_LOGIN"}]}"#;
const LIMITS: &str = "/services/rest/system/v1/governanceLimits";

async fn assert_invalid_login(r: reqwest::Response) {
    assert_eq!(r.status(), 401);
    let challenge = r.headers().get("www-authenticate").unwrap().to_str().unwrap().to_string();
    assert!(
        challenge.contains("error=\"token_rejected\"") || challenge.contains("error=\"invalid_token\""),
        "{challenge}"
    );
    assert_eq!(r.text().await.unwrap(), INVALID_LOGIN);
}

async fn with_sig(ns: &Ns, sig: &Sig, path: &str) -> reqwest::Response {
    ns.send_signed(sig, Method::GET, path, None, &[]).await
}

#[tokio::test]
async fn a_correctly_signed_request_gets_in_and_is_counted() {
    let ns = start().await;
    let r = ns.get(LIMITS).await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["accountConcurrencyLimit"], 5);
    let c = ns.sim().counters();
    assert_eq!((c.requests, c.auth_failures), (1, 0));
    assert_eq!(c.requests_by_op.get("governance limits"), Some(&1));
}

#[tokio::test]
async fn every_bad_signature_gets_the_same_invalid_login_answer() {
    let ns = start().await;
    let mut spoilt: Vec<(&str, Sig)> = Vec::new();
    let mut s = ns.sig();
    s.creds.consumer_secret.push('x');
    spoilt.push(("wrong consumer secret", s));
    let mut s = ns.sig();
    s.creds.token_secret = "0".repeat(64);
    spoilt.push(("wrong token secret", s));
    let mut s = ns.sig();
    s.realm = "1234567_sb1".into();
    spoilt.push(("lower-case realm", s));
    let mut s = ns.sig();
    // Signed with SHA-256 but declared SHA-1: the method alone is refused since 2023.1.
    s.method_name = "HMAC-SHA1".into();
    spoilt.push(("HMAC-SHA1", s));
    let mut s = ns.sig();
    s.timestamp -= 301;
    spoilt.push(("stale timestamp", s));
    let mut s = ns.sig();
    s.timestamp += 301;
    spoilt.push(("timestamp from the future", s));
    let mut s = ns.sig();
    s.nonce = "abc".into();
    spoilt.push(("short nonce", s));
    let mut s = ns.sig();
    s.creds.consumer_key = "f".repeat(64);
    spoilt.push(("unknown consumer key", s));
    for (what, sig) in &spoilt {
        let r = with_sig(&ns, sig, LIMITS).await;
        assert_eq!(r.status(), 401, "{what}");
        assert_invalid_login(r).await;
    }
    assert_eq!(ns.sim().counters().auth_failures, spoilt.len() as u64);
}

#[tokio::test]
async fn a_nonce_is_good_for_one_request_only() {
    let ns = start().await;
    let sig = ns.sig();
    assert_eq!(with_sig(&ns, &sig, LIMITS).await.status(), 200);
    assert_invalid_login(with_sig(&ns, &sig, LIMITS).await).await;
}

#[tokio::test]
async fn a_query_parameter_changed_after_signing_is_refused() {
    let ns = start().await;
    let sig = ns.sig();
    let signed_url = ns.url("/services/rest/record/v1/customer?limit=10");
    let header = sig.header(&Method::GET, &signed_url);
    let r = ns
        .http
        .get(ns.url("/services/rest/record/v1/customer?limit=11"))
        .header("Authorization", header)
        .send()
        .await
        .unwrap();
    assert_invalid_login(r).await;
}

#[tokio::test]
async fn signed_query_parameters_with_spaces_and_unicode_verify() {
    let ns = start().await;
    let id = ns.customer("Zoë & Co").await;
    for query in [
        "fields=companyName,entityId&note=hello%20w%C3%B6rld",
        "note=a+b%2Bc&fields=companyName",
        "note=%E2%9C%93%20%27%22",
    ] {
        let r = ns.get(&format!("/services/rest/record/v1/customer/{id}?{query}")).await;
        assert_eq!(r.status(), 200, "{query}");
        assert_eq!(json(r).await["companyName"], "Zoë & Co");
    }
}

#[tokio::test]
async fn requests_without_credentials_are_refused() {
    let ns = start().await;
    let r = ns.http.get(ns.url(LIMITS)).send().await.unwrap();
    assert_invalid_login(r).await;
    let r = ns.http.get(ns.url(LIMITS)).header("Authorization", "OAuth garbage").send().await.unwrap();
    assert_invalid_login(r).await;
}

#[tokio::test]
async fn a_second_token_of_the_account_works_too() {
    let ns = start().await;
    let other = TbaCredentials {
        consumer_key: "a".repeat(64),
        consumer_secret: "b".repeat(64),
        token_id: "c".repeat(64),
        token_secret: "d".repeat(64),
    };
    ns.sim().add_tba_credentials(other.clone());
    let sig = Sig::fresh("1234567_SB1", &other);
    assert_eq!(with_sig(&ns, &sig, LIMITS).await.status(), 200);
}

// ---- OAuth 2.0 client credentials ----

const EC_PRIVATE: &str = include_str!("../testdata/ec-p256-test-only.pem");
const EC_PUBLIC: &str = include_str!("../testdata/ec-p256-test-only.pub.pem");
const RSA_PRIVATE: &str = include_str!("../testdata/rsa-2048-test-only.pem");
const RSA_PUBLIC: &str = include_str!("../testdata/rsa-2048-test-only.pub.pem");
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

async fn oauth2_sim(lifetime: Duration) -> Ns {
    let mut cfg = NetSuiteConfig::for_tests();
    cfg.token_lifetime = lifetime;
    cfg.oauth2_clients = vec![
        OAuth2Client {
            client_id: "client-ec".into(),
            certificate_id: "cert-ec".into(),
            public_key_pem: EC_PUBLIC.into(),
        },
        OAuth2Client {
            client_id: "client-rsa".into(),
            certificate_id: "cert-rsa".into(),
            public_key_pem: RSA_PUBLIC.into(),
        },
    ];
    start_with(cfg).await
}

fn claims(ns: &Ns, iss: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": iss,
        "scope": ["restlets", "rest_webservices"],
        "aud": format!("{}/services/rest/auth/oauth2/v1/token", ns.running.base_url),
        "iat": now,
        "exp": now + 3000,
    })
}

fn assertion(alg: Algorithm, kid: &str, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    header.typ = Some("JWT".into());
    let key = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap(),
        Algorithm::PS256 => EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap(),
        _ => EncodingKey::from_secret(b"shared secret"),
    };
    encode(&header, claims, &key).unwrap()
}

async fn request_token(ns: &Ns, jwt: &str) -> reqwest::Response {
    let form =
        [("grant_type", "client_credentials"), ("client_assertion_type", ASSERTION_TYPE), ("client_assertion", jwt)];
    ns.http.post(ns.url("/services/rest/auth/oauth2/v1/token")).form(&form).send().await.unwrap()
}

async fn bearer_get(ns: &Ns, token: &str) -> reqwest::Response {
    ns.http.get(ns.url(LIMITS)).bearer_auth(token).send().await.unwrap()
}

#[tokio::test]
async fn es256_and_ps256_assertions_buy_bearer_tokens_that_open_the_api() {
    let ns = oauth2_sim(Duration::from_secs(3600)).await;
    for (alg, kid, iss) in [(Algorithm::ES256, "cert-ec", "client-ec"), (Algorithm::PS256, "cert-rsa", "client-rsa")] {
        let r = request_token(&ns, &assertion(alg, kid, &claims(&ns, iss))).await;
        assert_eq!(r.status(), 200, "{alg:?}");
        let body = json(r).await;
        assert_eq!(body["expires_in"], "3600");
        assert_eq!(body["token_type"], "bearer");
        let token = body["access_token"].as_str().unwrap();
        assert_eq!(bearer_get(&ns, token).await.status(), 200, "{alg:?}");
    }
    assert_eq!(ns.sim().counters().requests_by_op.get("token"), Some(&2));
}

#[tokio::test]
async fn bad_assertions_are_refused_with_oauth_errors() {
    let ns = oauth2_sim(Duration::from_secs(3600)).await;
    let good = claims(&ns, "client-ec");
    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token");
    let mut expired = good.clone();
    expired["iat"] = json!(chrono::Utc::now().timestamp() - 4000);
    expired["exp"] = json!(chrono::Utc::now().timestamp() - 400);
    let mut too_long = good.clone();
    too_long["exp"] = json!(chrono::Utc::now().timestamp() + 7200);
    let mut no_scope = good.clone();
    no_scope["scope"] = json!("restlets");
    let cases = [
        ("unknown kid", assertion(Algorithm::ES256, "cert-nope", &good), "invalid_client"),
        (
            "issuer of another client",
            assertion(Algorithm::ES256, "cert-ec", &claims(&ns, "client-rsa")),
            "invalid_client",
        ),
        ("wrong aud", assertion(Algorithm::ES256, "cert-ec", &wrong_aud), "invalid_grant"),
        ("expired", assertion(Algorithm::ES256, "cert-ec", &expired), "invalid_grant"),
        ("longer than an hour", assertion(Algorithm::ES256, "cert-ec", &too_long), "invalid_grant"),
        ("no rest_webservices scope", assertion(Algorithm::ES256, "cert-ec", &no_scope), "invalid_grant"),
        ("HS256", assertion(Algorithm::HS256, "cert-ec", &good), "invalid_grant"),
        ("signed by another key", assertion(Algorithm::PS256, "cert-ec", &good), "invalid_client"),
    ];
    for (what, jwt, error) in cases {
        let r = request_token(&ns, &jwt).await;
        assert_eq!(r.status(), 400, "{what}");
        assert_eq!(json(r).await["error"], error, "{what}");
    }
}

#[tokio::test]
async fn unknown_and_expired_bearer_tokens_get_invalid_login() {
    let ns = oauth2_sim(Duration::ZERO).await;
    let r = bearer_get(&ns, "not-a-token").await;
    let challenge = r.headers().get("www-authenticate").unwrap().to_str().unwrap().to_string();
    assert_eq!(
        challenge,
        "Bearer realm=\"1234567_SB1\", error=\"invalid_token\", error_description=\"Invalid login attempt.\""
    );
    assert_eq!(error_of(r).await.1, "INVALID_LOGIN");
    let r = request_token(&ns, &assertion(Algorithm::ES256, "cert-ec", &claims(&ns, "client-ec"))).await;
    let token = json(r).await["access_token"].as_str().unwrap().to_string();
    assert_invalid_login(bearer_get(&ns, &token).await).await;
}
