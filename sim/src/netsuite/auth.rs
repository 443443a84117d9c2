//! Who may call: TBA (OAuth 1.0a, HMAC-SHA256) verified from first principles (RFC 5849 §3.4),
//! and bearer tokens minted by the OAuth 2.0 token endpoint (`oauth2.rs`). Every failure gets
//! the same 401 INVALID_LOGIN body, as in NetSuite, where the reason is only in the Login Audit
//! Trail; here it goes to the trace log instead.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::Sha256;

use super::config::{OAuth2Client, TbaCredentials};

/// RFC 3986 unreserved characters stay; everything else is percent-encoded (RFC 5849 §3.6).
const OAUTH_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

pub fn oauth_encode(s: &str) -> String {
    utf8_percent_encode(s, OAUTH_ENCODE).to_string()
}

pub struct AuthState {
    pub tba: Vec<TbaCredentials>,
    pub oauth2: Vec<OAuth2Client>,
    /// (consumer key, token, nonce) → timestamp of its first use.
    nonces: HashMap<(String, String, String), i64>,
    last_purge: i64,
    /// access token → (client id, expiry).
    tokens: HashMap<String, (String, Instant)>,
}

/// The parts of a request that TBA signs.
pub struct Signed<'a> {
    pub method: &'a str,
    /// Scheme and host lower-case, port only when not the default, path; no query.
    pub base_uri: String,
    pub query: Option<&'a str>,
}

impl AuthState {
    pub fn new(tba: Vec<TbaCredentials>, oauth2: Vec<OAuth2Client>) -> AuthState {
        AuthState { tba, oauth2, nonces: HashMap::new(), last_purge: 0, tokens: HashMap::new() }
    }

    pub fn issue_token(&mut self, token: String, client_id: String, lifetime: Duration) {
        let now = Instant::now();
        self.tokens.retain(|_, (_, exp)| *exp > now);
        self.tokens.insert(token, (client_id, now + lifetime));
    }

    pub fn check_bearer(&self, token: &str) -> Result<(), String> {
        match self.tokens.get(token) {
            Some((_, exp)) if *exp > Instant::now() => Ok(()),
            Some(_) => Err("access token expired".into()),
            None => Err("unknown access token".into()),
        }
    }

    /// Verifies a TBA `Authorization` header; `now` is Unix seconds.
    pub fn check_tba(
        &mut self,
        header: &str,
        account: &str,
        skew: Duration,
        req: &Signed,
        now: i64,
    ) -> Result<(), String> {
        let params = parse_oauth_header(header).ok_or("malformed OAuth header")?;
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        if get("realm") != Some(account) {
            return Err(format!("realm {:?} is not the account id {account:?}", get("realm")));
        }
        if get("oauth_signature_method") != Some("HMAC-SHA256") {
            return Err(format!("signature method {:?}", get("oauth_signature_method")));
        }
        if get("oauth_version").is_some_and(|v| v != "1.0") {
            return Err("oauth_version is not 1.0".into());
        }
        let (ck, token) = (get("oauth_consumer_key").unwrap_or(""), get("oauth_token").unwrap_or(""));
        let creds = self
            .tba
            .iter()
            .find(|c| c.consumer_key == ck && c.token_id == token)
            .ok_or("unknown consumer key or token")?
            .clone();
        let ts: i64 = get("oauth_timestamp").and_then(|t| t.parse().ok()).ok_or("bad timestamp")?;
        if (now - ts).unsigned_abs() > skew.as_secs() {
            return Err(format!("timestamp {ts} is {}s away from now", now - ts));
        }
        let nonce = get("oauth_nonce").unwrap_or("");
        if !(6..=64).contains(&nonce.len()) || !nonce.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("nonce {nonce:?} is not 6-64 alphanumeric characters"));
        }
        let signature = get("oauth_signature").ok_or("no signature")?;
        let expected = signature_base(&params, req);
        verify(&creds, &expected, signature)?;
        self.remember_nonce(ck, token, nonce, ts, now, skew)
    }

    fn remember_nonce(
        &mut self,
        ck: &str,
        token: &str,
        nonce: &str,
        ts: i64,
        now: i64,
        skew: Duration,
    ) -> Result<(), String> {
        let window = skew.as_secs() as i64;
        if now - self.last_purge > 10 {
            self.nonces.retain(|_, seen| now - *seen <= 2 * window);
            self.last_purge = now;
        }
        let key = (ck.to_string(), token.to_string(), nonce.to_string());
        if self.nonces.contains_key(&key) {
            return Err(format!("nonce {nonce} reused"));
        }
        self.nonces.insert(key, ts);
        Ok(())
    }
}

/// `OAuth realm="…", oauth_consumer_key="…", …` → decoded pairs, in any order, tolerant of
/// spaces and line breaks around commas. A parameter given twice makes the header invalid.
fn parse_oauth_header(header: &str) -> Option<Vec<(String, String)>> {
    let header = header.trim_start();
    let (scheme, rest) = header.split_at_checked(5)?;
    if !scheme.eq_ignore_ascii_case("oauth") {
        return None;
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=')?;
        let v = v.trim();
        let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
        let (k, v) = (k.trim().to_string(), percent_decode_str(v).decode_utf8().ok()?.into_owned());
        if out.iter().any(|(n, _)| *n == k) {
            return None;
        }
        out.push((k, v));
    }
    Some(out)
}

/// `METHOD & enc(base URI) & enc(normalised parameters)`: the oauth_* parameters except the
/// signature (realm is not a parameter) plus the decoded query, each encoded, sorted, joined.
pub fn signature_base(oauth: &[(String, String)], req: &Signed) -> String {
    let mut params: Vec<(String, String)> = oauth
        .iter()
        .filter(|(k, _)| k.starts_with("oauth_") && k != "oauth_signature")
        .map(|(k, v)| (oauth_encode(k), oauth_encode(v)))
        .collect();
    if let Some(q) = req.query {
        params.extend(url::form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (oauth_encode(&k), oauth_encode(&v))));
    }
    params.sort();
    let normalized: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(
        "{}&{}&{}",
        req.method.to_ascii_uppercase(),
        oauth_encode(&req.base_uri),
        oauth_encode(&normalized.join("&"))
    )
}

fn verify(creds: &TbaCredentials, base: &str, signature: &str) -> Result<(), String> {
    let key = format!("{}&{}", oauth_encode(&creds.consumer_secret), oauth_encode(&creds.token_secret));
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).map_err(|e| e.to_string())?;
    mac.update(base.as_bytes());
    let given = STANDARD.decode(signature).map_err(|_| "signature is not base64")?;
    mac.verify_slice(&given).map_err(|_| "signature mismatch".to_string())
}

/// `http://host[:port]/path` as signed: lower-case scheme and host, default ports dropped.
pub fn base_uri(scheme: &str, host: &str, path: &str) -> String {
    let scheme = scheme.to_ascii_lowercase();
    let host = host.to_ascii_lowercase();
    let default = if scheme == "https" { ":443" } else { ":80" };
    let host = host.strip_suffix(default).unwrap_or(&host);
    format!("{scheme}://{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_parsing_tolerates_order_and_spacing_and_decodes_values() {
        let h = "OAuth oauth_nonce=\"abc123\" ,\n realm=\"1234567_SB1\",oauth_signature=\"a%2Bb%3D\"";
        let p = parse_oauth_header(h).unwrap();
        assert!(p.contains(&("realm".into(), "1234567_SB1".into())));
        assert!(p.contains(&("oauth_signature".into(), "a+b=".into())));
        assert!(parse_oauth_header("Basic abc").is_none());
        assert!(parse_oauth_header("OAuth a=\"1\", a=\"2\"").is_none());
    }

    /// RFC 5849 §3.4.1.1's example, with its parameters, hashed by us.
    #[test]
    fn base_string_matches_the_rfc_example_construction() {
        let oauth: Vec<(String, String)> = [
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
            ("oauth_signature", "ignored"),
            ("realm", "Example"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let req = Signed {
            method: "post",
            base_uri: base_uri("HTTP", "EXAMPLE.com:80", "/request"),
            query: Some("b5=%3D%253D&a3=a&c%40=&a2=r%20b"),
        };
        let base = signature_base(&oauth, &req);
        assert_eq!(
            base,
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
        );
    }
}
