//! A finished answer, kept as data so an async job can store the answer its task would have
//! given synchronously and hand it back later. JSON is written with keys in NetSuite's order
//! (`links` first), which `serde_json::Map` would sort away.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use super::error::{NsError, SINGULAR_CONTENT_TYPE};

#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub content_type: Option<&'static str>,
    pub body: String,
    pub extra: Vec<(&'static str, String)>,
}

impl Reply {
    /// 204 + absolute Location: create, upsert, patch, transform (record-create-post-204.json).
    pub fn no_content(location: String) -> Reply {
        Reply { status: 204, location: Some(location), content_type: None, body: String::new(), extra: Vec::new() }
    }

    pub fn json(status: u16, content_type: &'static str, body: &OJson) -> Reply {
        let body = serde_json::to_string(body).expect("ordered JSON always serialises");
        Reply { status, location: None, content_type: Some(content_type), body, extra: Vec::new() }
    }

    pub fn singular(body: &OJson) -> Reply {
        Reply::json(200, SINGULAR_CONTENT_TYPE, body)
    }

    pub fn error(e: &NsError) -> Reply {
        Reply {
            status: e.status,
            location: None,
            content_type: Some(super::error::ERROR_CONTENT_TYPE),
            body: e.body(),
            extra: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: String) -> Reply {
        self.extra.push((name, value));
        self
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl From<NsError> for Reply {
    fn from(e: NsError) -> Reply {
        Reply::error(&e)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, self.body).into_response();
        let headers = res.headers_mut();
        headers.remove(header::CONTENT_TYPE);
        if let Some(ct) = self.content_type {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        if let Some(loc) = self.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            headers.insert(header::LOCATION, loc);
        }
        for (name, value) in self.extra {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(name, v);
            }
        }
        res
    }
}

/// JSON whose object keys keep the order they were pushed in.
#[derive(Debug, Clone, PartialEq)]
pub enum OJson {
    V(Value),
    Obj(Vec<(String, OJson)>),
    Arr(Vec<OJson>),
}

impl OJson {
    pub fn obj() -> OJson {
        OJson::Obj(Vec::new())
    }

    pub fn with(mut self, key: &str, value: impl Into<OJson>) -> OJson {
        if let OJson::Obj(fields) = &mut self {
            fields.push((key.to_string(), value.into()));
        }
        self
    }

    pub fn str(s: impl Into<String>) -> OJson {
        OJson::V(Value::String(s.into()))
    }

    /// `[{"rel": rel, "href": href}, …]`.
    pub fn links(links: &[(&str, String)]) -> OJson {
        OJson::Arr(
            links
                .iter()
                .map(|(rel, href)| OJson::obj().with("rel", OJson::str(*rel)).with("href", OJson::str(href)))
                .collect(),
        )
    }

    pub fn self_link(href: String) -> OJson {
        OJson::links(&[("self", href)])
    }
}

impl From<Value> for OJson {
    fn from(v: Value) -> OJson {
        OJson::V(v)
    }
}

impl Serialize for OJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            OJson::V(v) => v.serialize(s),
            OJson::Obj(fields) => {
                let mut m = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            OJson::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
        }
    }
}
