//! OAuth 1.0a request signing (RFC 5849), shared by both clients: NetSuite's token-based auth
//! (realm, access token, `oauth_version`, HMAC-SHA256) and WooCommerce's one-legged variant for
//! stores on plain HTTP. The base string holds the method, the URL without its query (scheme and
//! host lower-case) and every oauth_* and query parameter, sorted and percent-encoded with the
//! RFC 3986 unreserved set; the realm goes in the header but not in the signature; JSON bodies
//! are not signed.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand::{Rng, distr::Alphanumeric};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// RFC 3986 §2.3 unreserved characters stay as they are; everything else is `%XX`.
const OAUTH_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

pub fn oauth_encode(s: &str) -> String {
    utf8_percent_encode(s, OAUTH_ENCODE).to_string()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignatureMethod {
    HmacSha256,
    /// Only for checking the signer against the published OAuth 1.0a vectors, which predate
    /// SHA-256; NetSuite stopped accepting it in 2023.1.
    #[cfg(test)]
    HmacSha1,
}

impl SignatureMethod {
    fn name(self) -> &'static str {
        match self {
            SignatureMethod::HmacSha256 => "HMAC-SHA256",
            #[cfg(test)]
            SignatureMethod::HmacSha1 => "HMAC-SHA1",
        }
    }

    fn sign(self, key: &[u8], text: &[u8]) -> Vec<u8> {
        match self {
            SignatureMethod::HmacSha256 => {
                let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
                mac.update(text);
                mac.finalize().into_bytes().to_vec()
            }
            #[cfg(test)]
            SignatureMethod::HmacSha1 => {
                let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).expect("HMAC takes keys of any length");
                mac.update(text);
                mac.finalize().into_bytes().to_vec()
            }
        }
    }
}

/// RFC 5849 §3.4.1: `METHOD&enc(base URI)&enc(normalized parameters)`. `extra` holds
/// form-encoded body parameters (never JSON bodies); NetSuite requests have none.
pub fn signature_base_string(method: &str, url: &Url, oauth: &[(&str, &str)], extra: &[(String, String)]) -> String {
    let mut base_uri = format!("{}://{}", url.scheme().to_ascii_lowercase(), url.host_str().unwrap_or_default());
    if let Some(port) = url.port() {
        base_uri.push_str(&format!(":{port}"));
    }
    base_uri.push_str(url.path());
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (oauth_encode(&k), oauth_encode(&v)))
        .chain(extra.iter().map(|(k, v)| (oauth_encode(k), oauth_encode(v))))
        .chain(oauth.iter().map(|(k, v)| (oauth_encode(k), oauth_encode(v))))
        .collect();
    params.sort();
    let normalized = params.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    format!("{}&{}&{}", method.to_ascii_uppercase(), oauth_encode(&base_uri), oauth_encode(&normalized))
}

/// Signs requests with OAuth 1.0a: NetSuite's TBA (realm, access token, `oauth_version`) or
/// WooCommerce's one-legged variant over plain HTTP (no realm, no token, version omitted, key
/// `enc(consumer secret)&`).
#[derive(Clone)]
pub struct OAuth1Signer {
    realm: Option<String>,
    consumer_key: String,
    consumer_secret: SecretString,
    token: Option<(String, SecretString)>,
    send_version: bool,
    method: SignatureMethod,
}

impl std::fmt::Debug for OAuth1Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth1Signer")
            .field("realm", &self.realm)
            .field("consumer_key", &self.consumer_key)
            .field("token", &self.token.as_ref().map(|(id, _)| id))
            .finish_non_exhaustive()
    }
}

impl OAuth1Signer {
    /// Three-legged signing with an access token, `realm` in the header (NetSuite's TBA).
    pub fn with_token(
        realm: impl Into<String>,
        consumer_key: impl Into<String>,
        consumer_secret: SecretString,
        token_id: impl Into<String>,
        token_secret: SecretString,
    ) -> OAuth1Signer {
        OAuth1Signer {
            realm: Some(realm.into()),
            consumer_key: consumer_key.into(),
            consumer_secret,
            token: Some((token_id.into(), token_secret)),
            send_version: true,
            method: SignatureMethod::HmacSha256,
        }
    }

    /// WooCommerce's one-legged OAuth 1.0a for stores on plain HTTP.
    pub fn one_legged(consumer_key: impl Into<String>, consumer_secret: SecretString) -> OAuth1Signer {
        OAuth1Signer {
            realm: None,
            consumer_key: consumer_key.into(),
            consumer_secret,
            token: None,
            send_version: false,
            method: SignatureMethod::HmacSha256,
        }
    }

    #[cfg(test)]
    fn with_method(mut self, method: SignatureMethod) -> OAuth1Signer {
        self.method = method;
        self
    }

    /// The `Authorization` header for one request, with a fresh nonce and the current time.
    pub fn authorization(&self, method: &str, url: &Url) -> String {
        let nonce: String = rand::rng().sample_iter(&Alphanumeric).take(20).map(char::from).collect();
        let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        self.authorization_with(method, url, &nonce, timestamp)
    }

    pub fn authorization_with(&self, method: &str, url: &Url, nonce: &str, timestamp: u64) -> String {
        let timestamp = timestamp.to_string();
        let mut oauth = vec![
            ("oauth_consumer_key", self.consumer_key.as_str()),
            ("oauth_nonce", nonce),
            ("oauth_signature_method", self.method.name()),
            ("oauth_timestamp", timestamp.as_str()),
        ];
        if let Some((token, _)) = &self.token {
            oauth.push(("oauth_token", token.as_str()));
        }
        if self.send_version {
            oauth.push(("oauth_version", "1.0"));
        }
        let signature = self.signature(method, url, &oauth, &[]);
        let mut parts = Vec::new();
        if let Some(realm) = &self.realm {
            parts.push(format!("realm=\"{}\"", oauth_encode(realm)));
        }
        for (k, v) in oauth.iter().chain(std::iter::once(&("oauth_signature", signature.as_str()))) {
            parts.push(format!("{k}=\"{}\"", oauth_encode(v)));
        }
        format!("OAuth {}", parts.join(", "))
    }

    /// base64 of the HMAC over the base string, keyed `enc(consumer secret)&enc(token secret)`.
    pub fn signature(&self, method: &str, url: &Url, oauth: &[(&str, &str)], extra: &[(String, String)]) -> String {
        let base = signature_base_string(method, url, oauth, extra);
        let token_secret = self.token.as_ref().map(|(_, s)| s.expose_secret()).unwrap_or("");
        let key = format!("{}&{}", oauth_encode(self.consumer_secret.expose_secret()), oauth_encode(token_secret));
        BASE64.encode(self.method.sign(key.as_bytes(), base.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(ck: &str, cs: &str, tk: &str, ts: &str) -> OAuth1Signer {
        OAuth1Signer::with_token("1234567_SB1", ck, cs.into(), tk, ts.into())
    }

    /// RFC 5849 §3.4.1.1: the worked example of the signature base string.
    #[test]
    fn base_string_matches_rfc_5849_example() {
        let url = Url::parse("http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b").unwrap();
        let oauth = [
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
        ];
        let body = [("c2".to_string(), String::new()), ("a3".to_string(), "2 q".to_string())];
        assert_eq!(
            signature_base_string("post", &url, &oauth, &body),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
        );
    }

    /// Twitter's published "Creating a signature" walkthrough (API v1.1), the most widely used OAuth 1.0a
    /// test vector (HMAC-SHA1, the only method it covers).
    #[test]
    fn signature_matches_the_published_twitter_vector() {
        let s = signer(
            "xvz1evFS4wEEPTGEFPHBog",
            "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
            "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
            "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        )
        .with_method(SignatureMethod::HmacSha1);
        let url = Url::parse("https://api.twitter.com/1.1/statuses/update.json?include_entities=true").unwrap();
        let oauth = [
            ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
            ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1318622958"),
            ("oauth_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"),
            ("oauth_version", "1.0"),
        ];
        let body = [("status".to_string(), "Hello Ladies + Gentlemen, a signed OAuth request!".to_string())];
        assert_eq!(s.signature("POST", &url, &oauth, &body), "hCtSmYh+iHYCEqBWrE7C7hYmtUk=");
    }

    /// The same Twitter inputs signed with HMAC-SHA256, the method NetSuite requires. The
    /// expected value was computed independently with Python's standard library
    /// (`base64.b64encode(hmac.new(key, base, hashlib.sha256).digest())`).
    #[test]
    fn hmac_sha256_signature_matches_an_independent_computation() {
        let s = signer(
            "xvz1evFS4wEEPTGEFPHBog",
            "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
            "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
            "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        );
        let url = Url::parse("https://api.twitter.com/1.1/statuses/update.json?include_entities=true").unwrap();
        let oauth = [
            ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
            ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
            ("oauth_signature_method", "HMAC-SHA256"),
            ("oauth_timestamp", "1318622958"),
            ("oauth_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"),
            ("oauth_version", "1.0"),
        ];
        let body = [("status".to_string(), "Hello Ladies + Gentlemen, a signed OAuth request!".to_string())];
        assert_eq!(s.signature("POST", &url, &oauth, &body), PY_SHA256_SIGNATURE);
    }
    const PY_SHA256_SIGNATURE: &str = "PLbq+OWUE2vwiOZeZBSR06GFvymUHoaBdCIHyD66IcM=";

    #[test]
    fn header_carries_the_realm_unsigned_and_every_value_encoded() {
        let s = signer("ck", "cs", "tk", "ts");
        let url = Url::parse(
            "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql?limit=5&offset=0",
        )
        .unwrap();
        let h = s.authorization_with("POST", &url, "abcDEF123", 1_700_000_000);
        assert!(h.starts_with("OAuth realm=\"1234567_SB1\", oauth_consumer_key=\"ck\""), "{h}");
        assert!(h.contains("oauth_signature_method=\"HMAC-SHA256\""), "{h}");
        let sig = h.rsplit("oauth_signature=\"").next().unwrap().trim_end_matches('"');
        assert!(!sig.contains('+') && !sig.contains('/') && !sig.contains('='), "percent-encoded: {sig}");
        // Same inputs, same signature; another nonce, another signature.
        assert_eq!(h, s.authorization_with("POST", &url, "abcDEF123", 1_700_000_000));
        assert_ne!(h, s.authorization_with("POST", &url, "abcDEF124", 1_700_000_000));
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let s = signer("ck", "very-secret-1", "tk", "very-secret-2");
        let printed = format!("{s:?}");
        assert!(!printed.contains("very-secret"), "{printed}");
    }
}
