//! NetSuite's errors, parsed from its JSON body, and what each one means for the caller.
//!
//! The error decides retries, nothing else does: *retry* (429, 5xx, timeouts, connection
//! errors), *needs a person* (NetSuite refused the data; its message is kept verbatim for the
//! exception), *fatal* (`INVALID_LOGIN`: the credentials or the role are wrong, so every further
//! request would fail the same way — stop the flow, raise one exception, no retry storm).

use serde::Deserialize;

/// One entry of `o:errorDetails`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorDetail {
    #[serde(default)]
    pub detail: String,
    #[serde(rename = "o:errorCode", default)]
    pub code: String,
    /// JSON path into the request body that NetSuite blames, e.g. `item.items[0].item`.
    #[serde(rename = "o:errorPath")]
    pub path: Option<String>,
    #[serde(rename = "o:errorQueryParam")]
    pub query_param: Option<String>,
}

/// NetSuite's error envelope: `{"type","title","status","o:errorDetails":[…]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub title: String,
    #[serde(rename = "o:errorDetails", default)]
    pub details: Vec<ErrorDetail>,
}

pub use crate::remote::ErrorClass;

#[derive(Debug, thiserror::Error)]
pub enum NsError {
    /// NetSuite answered with an error status.
    #[error("NetSuite {op} answered {status}: {}", summary(.details, .title))]
    Api { op: String, status: u16, title: String, details: Vec<ErrorDetail> },
    /// No answer: connection refused or reset, or our timeout. For a write the record may or may
    /// not exist now, which is why every write wns makes is an upsert by external id.
    #[error("NetSuite {op} got no answer ({}): {source}", if *.timed_out { "timed out" } else { "connection failed" })]
    Transport {
        op: String,
        timed_out: bool,
        #[source]
        source: reqwest::Error,
    },
    /// An answer we could not read (a success without `Location`, a body that is not NetSuite's).
    #[error("NetSuite {op}: unexpected answer: {problem}")]
    Protocol { op: String, problem: String },
    /// The OAuth 2.0 token endpoint refused our client assertion.
    #[error("NetSuite refused the OAuth 2.0 client credentials ({status}): {body}")]
    Token { status: u16, body: String },
    /// Credentials were rejected a moment ago; requests are held back until the next probe so
    /// that a wrong password does not turn into thousands of failed logins.
    #[error(
        "NetSuite rejected the credentials {ago_secs} s ago (INVALID_LOGIN); requests are paused until the credentials are fixed — see the Login Audit Trail in NetSuite"
    )]
    AuthSuspended { ago_secs: u64 },
    /// Our own set-up is wrong (bad key file, bad account id); nothing was sent.
    #[error("NetSuite client set-up: {0}")]
    Config(String),
}

fn summary(details: &[ErrorDetail], title: &str) -> String {
    if details.is_empty() {
        return title.to_string();
    }
    details
        .iter()
        .map(|d| match &d.path {
            Some(p) => format!("{} {} (at {p})", d.code, d.detail),
            None => format!("{} {}", d.code, d.detail),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl NsError {
    /// Builds the error for a non-success answer from its raw body. A body that is not
    /// NetSuite's envelope (a proxy's HTML page, say) is kept as the detail text.
    pub fn from_response(op: &str, status: u16, body: &[u8]) -> NsError {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(b) if !b.details.is_empty() || !b.title.is_empty() => {
                NsError::Api { op: op.into(), status, title: b.title, details: b.details }
            }
            _ => {
                let text = String::from_utf8_lossy(&body[..body.len().min(500)]).trim().to_string();
                NsError::Api { op: op.into(), status, title: text, details: Vec::new() }
            }
        }
    }

    /// The first `o:errorCode`, if NetSuite gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            NsError::Api { details, .. } => details.first().map(|d| d.code.as_str()),
            NsError::AuthSuspended { .. } => Some("INVALID_LOGIN"),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            NsError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn has_code(&self, code: &str) -> bool {
        matches!(self, NsError::Api { details, .. } if details.iter().any(|d| d.code == code))
    }

    /// NetSuite's own words, verbatim, for the exception a person will read.
    pub fn netsuite_message(&self) -> String {
        match self {
            NsError::Api { details, title, .. } => summary(details, title),
            other => other.to_string(),
        }
    }

    /// The first `o:errorPath` (which field of our request NetSuite blames).
    pub fn error_path(&self) -> Option<&str> {
        match self {
            NsError::Api { details, .. } => details.iter().find_map(|d| d.path.as_deref()),
            _ => None,
        }
    }

    pub fn is_throttled(&self) -> bool {
        matches!(self, NsError::Api { status: 429, .. }) || self.has_code("CONCURRENCY_LIMIT_EXCEEDED")
    }

    pub fn is_invalid_login(&self) -> bool {
        matches!(self, NsError::AuthSuspended { .. })
            || matches!(self, NsError::Api { status: 401, .. })
            || self.has_code("INVALID_LOGIN")
    }

    pub fn class(&self) -> ErrorClass {
        match self {
            NsError::Transport { .. } => ErrorClass::Retry,
            NsError::Protocol { .. } => ErrorClass::Retry,
            NsError::Token { status, .. } if *status >= 500 || *status == 429 => ErrorClass::Retry,
            NsError::Token { .. } | NsError::AuthSuspended { .. } | NsError::Config(_) => ErrorClass::Fatal,
            NsError::Api { .. } if self.is_throttled() => ErrorClass::Retry,
            NsError::Api { .. } if self.is_invalid_login() => ErrorClass::Fatal,
            NsError::Api { status, .. } if *status >= 500 => ErrorClass::Retry,
            // Everything else NetSuite refused on its merits: USER_ERROR, INVALID_KEY_OR_REF,
            // INVALID_CONTENT, INSUFFICIENT_PERMISSION, NONEXISTENT_ID, INVALID_PARAMETER, …
            NsError::Api { .. } => ErrorClass::NeedsPerson,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The NetSuite samples in `fixtures/netsuite-samples/` (real recordings, Oracle's documentation
    /// and marked reconstructions, each with its source).
    const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/netsuite-samples");

    fn sample(name: &str) -> Option<(u16, Vec<u8>)> {
        let text = std::fs::read_to_string(format!("{SAMPLES}/{name}")).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let status = v["response"]["status"].as_u64().unwrap() as u16;
        Some((status, serde_json::to_vec(&v["response"]["body"]).unwrap()))
    }

    fn parsed(status: u16, body: &str) -> NsError {
        NsError::from_response("create salesOrder", status, body.as_bytes())
    }

    #[test]
    fn the_real_invalid_login_body_is_fatal_and_keeps_netsuites_words() {
        let body = r#"{"type":"https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.2","title":"Unauthorized","status":401,"o:errorDetails":[{"detail":"Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at Setup > Users/Roles > User Management > View Login Audit Trail.","o:errorCode":"INVALID_LOGIN"}]}"#;
        let e = parsed(401, body);
        assert_eq!(e.class(), ErrorClass::Fatal);
        assert_eq!(e.code(), Some("INVALID_LOGIN"));
        assert!(e.netsuite_message().contains("Login Audit Trail"));
    }

    #[test]
    fn concurrency_limit_is_retried() {
        let e = parsed(
            429,
            r#"{"type":"x","title":"Bad Request","status":429,"o:errorDetails":[{"detail":"Concurrent request limit exceeded. Request blocked.","o:errorCode":"CONCURRENCY_LIMIT_EXCEEDED"}]}"#,
        );
        assert!(e.is_throttled());
        assert_eq!(e.class(), ErrorClass::Retry);
    }

    #[test]
    fn refused_content_needs_a_person_and_names_the_field() {
        let e = parsed(
            400,
            r#"{"type":"x","title":"Bad Request","status":400,"o:errorDetails":[{"detail":"Invalid Field Value 9999 for the following field: item","o:errorCode":"INVALID_KEY_OR_REF","o:errorPath":"item.items[0].item"}]}"#,
        );
        assert_eq!(e.class(), ErrorClass::NeedsPerson);
        assert_eq!(e.error_path(), Some("item.items[0].item"));
        assert!(e.to_string().contains("INVALID_KEY_OR_REF Invalid Field Value 9999"), "{e}");
    }

    #[test]
    fn server_errors_and_foreign_bodies_are_retried() {
        let e = parsed(503, "<html>Service Unavailable</html>");
        assert_eq!(e.class(), ErrorClass::Retry);
        assert!(e.to_string().contains("Service Unavailable"));
    }

    #[test]
    fn every_reference_sample_classifies_as_its_status_says() {
        let dir = std::fs::read_dir(SAMPLES).expect("the NetSuite samples are part of the repository");
        let mut seen = 0;
        for entry in dir.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if !name.starts_with("error-") {
                continue;
            }
            let (status, body) = sample(&name).unwrap();
            let e = NsError::from_response("op", status, &body);
            assert!(e.code().is_some(), "{name}: no code parsed");
            let expected = match status {
                429 | 500..=599 => ErrorClass::Retry,
                401 => ErrorClass::Fatal,
                _ => ErrorClass::NeedsPerson,
            };
            assert_eq!(e.class(), expected, "{name}");
            seen += 1;
        }
        assert!(seen >= 10, "expected the reference error samples, saw {seen}");
    }
}
