//! The URL space of `/services/rest`, parsed into one operation before anything runs, so the
//! gate, the latency class, the fault draw and the counters all know what a request is.

use axum::http::{HeaderMap, Method, header};

use super::config::LatencyClass;
use super::error::NsError;
use super::records::{Key, parse_key};
use super::types::{Category, RecordType, record_type};

#[derive(Debug, Clone)]
pub enum RecordOp {
    Create { rtype: &'static RecordType },
    Upsert { rtype: &'static RecordType, eid: String },
    Get { rtype: &'static RecordType, key: Key },
    List { rtype: &'static RecordType },
    Sublist { rtype: &'static RecordType, key: Key, sublist: String, line: Option<String> },
    Patch { rtype: &'static RecordType, key: Key },
    Delete { rtype: &'static RecordType, key: Key },
    Transform { from: &'static RecordType, key: Key, to: &'static RecordType },
}

#[derive(Debug, Clone, Copy)]
pub enum JobQuery {
    Status(u64),
    Tasks(u64),
    Task(u64, u64),
    Result(u64, u64),
}

#[derive(Debug, Clone)]
pub enum Route {
    Record(RecordOp),
    /// A collection body (`type=collection`) for several records of one type at once.
    Batch {
        rtype: &'static RecordType,
        method: Method,
    },
    SuiteQl,
    Job(JobQuery),
    Governance,
}

impl RecordOp {
    pub fn name(&self) -> String {
        match self {
            RecordOp::Create { rtype } => format!("create {}", rtype.name),
            RecordOp::Upsert { rtype, .. } => format!("upsert {}", rtype.name),
            RecordOp::Get { rtype, .. } => format!("get {}", rtype.name),
            RecordOp::List { rtype } => format!("list {}", rtype.name),
            RecordOp::Sublist { rtype, .. } => format!("get {} sublist", rtype.name),
            RecordOp::Patch { rtype, .. } => format!("patch {}", rtype.name),
            RecordOp::Delete { rtype, .. } => format!("delete {}", rtype.name),
            RecordOp::Transform { from, to, .. } => format!("transform {}→{}", from.name, to.name),
        }
    }

    pub fn is_write(&self) -> bool {
        !matches!(self, RecordOp::Get { .. } | RecordOp::List { .. } | RecordOp::Sublist { .. })
    }

    pub fn latency_class(&self) -> LatencyClass {
        let rtype = match self {
            RecordOp::Transform { .. } => return LatencyClass::Create,
            _ if !self.is_write() => return LatencyClass::Get,
            RecordOp::Create { rtype } | RecordOp::Upsert { rtype, .. } => rtype,
            RecordOp::Patch { rtype, .. } | RecordOp::Delete { rtype, .. } => rtype,
            _ => return LatencyClass::Get,
        };
        if rtype.category == Category::Transaction { LatencyClass::Create } else { LatencyClass::CreateEntity }
    }
}

impl Route {
    pub fn name(&self, is_async: bool) -> String {
        match self {
            Route::Record(op) if is_async => format!("async {}", op.name()),
            Route::Record(op) => op.name(),
            Route::Batch { .. } => "async batch".into(),
            Route::SuiteQl => "suiteql".into(),
            Route::Job(_) => "get async job".into(),
            Route::Governance => "governance limits".into(),
        }
    }

    pub fn is_write(&self) -> bool {
        match self {
            Route::Record(op) => op.is_write(),
            Route::Batch { .. } => true,
            _ => false,
        }
    }
}

fn record_type_or_404(name: &str) -> Result<&'static RecordType, NsError> {
    // [INFERRED] code and wording for a record type NetSuite does not have.
    record_type(name).ok_or_else(|| {
        NsError::new(
            404,
            "INVALID_RECORD_TYPE",
            format!("Record type '{name}' does not exist or is not available through REST web services."),
        )
    })
}

fn unknown_path() -> NsError {
    // [INFERRED] code and wording.
    NsError::new(404, "NONEXISTENT_PATH", "The requested resource does not exist.")
}

fn method_not_allowed(method: &Method) -> NsError {
    // [INFERRED] code and wording.
    NsError::new(405, "INVALID_METHOD", format!("The HTTP method {method} is not supported for this resource."))
}

pub fn is_collection_body(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().replace(' ', "").contains("type=collection"))
}

/// `path` is everything after `/services/rest/`.
pub fn parse(method: &Method, path: &str, headers: &HeaderMap) -> Result<Route, NsError> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    match segs.as_slice() {
        ["record", "v1", rest @ ..] => parse_record(method, rest, headers),
        ["query", "v1", s] if s.eq_ignore_ascii_case("suiteql") => match *method {
            Method::POST => Ok(Route::SuiteQl),
            _ => Err(method_not_allowed(method)),
        },
        ["async", "v1", "job", rest @ ..] if *method == Method::GET => parse_job(rest),
        ["system", "v1", "governanceLimits"] if *method == Method::GET => Ok(Route::Governance),
        _ => Err(unknown_path()),
    }
}

fn parse_job(rest: &[&str]) -> Result<Route, NsError> {
    let num = |s: &str| s.parse::<u64>().map_err(|_| NsError::nonexistent_id());
    Ok(Route::Job(match rest {
        [job] => JobQuery::Status(num(job)?),
        [job, "task"] => JobQuery::Tasks(num(job)?),
        [job, "task", task] => JobQuery::Task(num(job)?, num(task)?),
        [job, "task", task, "result"] => JobQuery::Result(num(job)?, num(task)?),
        _ => return Err(unknown_path()),
    }))
}

fn parse_record(method: &Method, rest: &[&str], headers: &HeaderMap) -> Result<Route, NsError> {
    let Some((type_name, rest)) = rest.split_first() else { return Err(unknown_path()) };
    let rtype = record_type_or_404(type_name)?;
    let op = match (method.clone(), rest) {
        (Method::POST | Method::PUT | Method::PATCH, []) if is_collection_body(headers) => {
            return Ok(Route::Batch { rtype, method: method.clone() });
        }
        (Method::POST, []) => RecordOp::Create { rtype },
        (Method::GET, []) => RecordOp::List { rtype },
        (Method::PUT, [id]) => match parse_key(id)? {
            Key::Eid(eid) => RecordOp::Upsert { rtype, eid },
            // [INFERRED] wording: Oracle says upsert works only with PUT and an external id.
            Key::Id(_) => {
                return Err(NsError::invalid_parameter(
                    "The upsert operation is only supported with an external ID in the URL (eid:<externalId>).",
                ));
            }
        },
        (Method::GET, [id]) => RecordOp::Get { rtype, key: parse_key(id)? },
        (Method::PATCH, [id]) => RecordOp::Patch { rtype, key: parse_key(id)? },
        (Method::DELETE, [id]) => RecordOp::Delete { rtype, key: parse_key(id)? },
        (Method::POST, [id, t, to])
            if t.eq_ignore_ascii_case("!transform") || t.eq_ignore_ascii_case("%21transform") =>
        {
            RecordOp::Transform { from: rtype, key: parse_key(id)?, to: record_type_or_404(to)? }
        }
        (Method::GET, [id, sublist]) => {
            RecordOp::Sublist { rtype, key: parse_key(id)?, sublist: (*sublist).to_string(), line: None }
        }
        (Method::GET, [id, sublist, line]) => RecordOp::Sublist {
            rtype,
            key: parse_key(id)?,
            sublist: (*sublist).to_string(),
            line: Some((*line).to_string()),
        },
        (Method::PUT, []) => {
            return Err(NsError::invalid_parameter(
                "The upsert operation is only supported with an external ID in the URL (eid:<externalId>).",
            ));
        }
        (m, [] | [_]) => return Err(method_not_allowed(&m)),
        _ => return Err(unknown_path()),
    };
    Ok(Route::Record(op))
}
