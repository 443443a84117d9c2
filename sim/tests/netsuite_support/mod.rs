//! Shared by the NetSuite simulator tests: a TBA signer written from RFC 5849 for these tests
//! (not the client's, and not the simulator's verifier), and a small signed HTTP client.
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand::Rng;
use rand::distr::Alphanumeric;
use reqwest::{Method, Response, Url};
use serde_json::Value;
use sha2::Sha256;
use wns_sim::netsuite::{NetSuiteConfig, NetSuiteSim, RunningNetSuite, TbaCredentials};

const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

fn enc(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// Everything that goes into one Authorization header; tests spoil one field at a time.
#[derive(Clone)]
pub struct Sig {
    pub realm: String,
    pub creds: TbaCredentials,
    pub method_name: String,
    pub nonce: String,
    pub timestamp: i64,
}

impl Sig {
    pub fn fresh(realm: &str, creds: &TbaCredentials) -> Sig {
        let nonce: String = rand::rng().sample_iter(Alphanumeric).take(20).map(char::from).collect();
        Sig {
            realm: realm.into(),
            creds: creds.clone(),
            method_name: "HMAC-SHA256".into(),
            nonce,
            timestamp: chrono::Utc::now().timestamp(),
        }
    }

    /// RFC 5849 §3.4.1: the base string over the URL without query and the sorted, encoded
    /// oauth and query parameters; HMAC-SHA256 keyed with both secrets.
    pub fn header(&self, method: &Method, url: &Url) -> String {
        let mut oauth = vec![
            ("oauth_consumer_key".to_string(), self.creds.consumer_key.clone()),
            ("oauth_nonce".to_string(), self.nonce.clone()),
            ("oauth_signature_method".to_string(), self.method_name.clone()),
            ("oauth_timestamp".to_string(), self.timestamp.to_string()),
            ("oauth_token".to_string(), self.creds.token_id.clone()),
            ("oauth_version".to_string(), "1.0".to_string()),
        ];
        let mut params: Vec<(String, String)> = oauth.iter().map(|(k, v)| (enc(k), enc(v))).collect();
        params.extend(url.query_pairs().map(|(k, v)| (enc(&k), enc(&v))));
        params.sort();
        let joined = params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
        let mut base_url = format!("{}://{}", url.scheme(), url.host_str().unwrap().to_lowercase());
        if let Some(port) = url.port() {
            base_url.push_str(&format!(":{port}"));
        }
        base_url.push_str(url.path());
        let base = format!("{}&{}&{}", method.as_str(), enc(&base_url), enc(&joined));
        let key = format!("{}&{}", enc(&self.creds.consumer_secret), enc(&self.creds.token_secret));
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(base.as_bytes());
        oauth.push(("oauth_signature".into(), STANDARD.encode(mac.finalize().into_bytes())));
        let fields: Vec<String> = oauth.iter().map(|(k, v)| format!("{k}=\"{}\"", enc(v))).collect();
        format!("OAuth realm=\"{}\", {}", self.realm, fields.join(", "))
    }
}

pub struct Ns {
    pub running: RunningNetSuite,
    pub http: reqwest::Client,
    pub creds: TbaCredentials,
}

pub async fn start() -> Ns {
    start_with(NetSuiteConfig::for_tests()).await
}

pub async fn start_with(cfg: NetSuiteConfig) -> Ns {
    let creds = cfg.tba[0].clone();
    let running = NetSuiteSim::spawn(cfg).await.expect("simulator starts");
    Ns { running, http: reqwest::Client::new(), creds }
}

impl Ns {
    pub fn sim(&self) -> &NetSuiteSim {
        &self.running.sim
    }

    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{path}", self.running.base_url)).unwrap()
    }

    pub fn sig(&self) -> Sig {
        Sig::fresh(self.sim().account_id(), &self.creds)
    }

    pub async fn send_signed(
        &self,
        sig: &Sig,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Response {
        let url = self.url(path);
        let mut req = self.http.request(method.clone(), url.clone()).header("Authorization", sig.header(&method, &url));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(serde_json::to_vec(b).unwrap());
        }
        req.send().await.expect("request completes")
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Response {
        self.send_signed(&self.sig(), method, path, body, headers).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.send(Method::POST, path, Some(body), &[]).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.send(Method::PUT, path, Some(body), &[]).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }

    pub async fn suiteql(&self, q: &str, limit: u64, offset: u64) -> Response {
        let body = serde_json::json!({ "q": q });
        let path = format!("/services/rest/query/v1/suiteql?limit={limit}&offset={offset}");
        self.send(Method::POST, &path, Some(&body), &[("Prefer", "transient")]).await
    }

    /// A customer created through REST; returns its internal id.
    pub async fn customer(&self, company: &str) -> String {
        let r = self.post("/services/rest/record/v1/customer", &serde_json::json!({ "companyName": company })).await;
        assert_eq!(r.status(), 204, "{}", r.text().await.unwrap());
        created_id(&r)
    }
}

/// The internal id at the end of a 204's Location.
pub fn created_id(r: &Response) -> String {
    let loc = r.headers().get("location").expect("Location header").to_str().unwrap();
    loc.rsplit('/').next().unwrap().to_string()
}

pub async fn json(r: Response) -> Value {
    let text = r.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// An error body's (status, o:errorCode, detail).
pub async fn error_of(r: Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    assert_eq!(
        r.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/vnd.oracle.resource+json; type=error")
    );
    let body = json(r).await;
    let d = &body["o:errorDetails"][0];
    (status, d["o:errorCode"].as_str().unwrap().to_string(), d["detail"].as_str().unwrap().to_string())
}
