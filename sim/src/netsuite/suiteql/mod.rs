//! `POST /services/rest/query/v1/suiteql?limit=&offset=` with `Prefer: transient` and
//! `{"q": "…"}`: the query is tokenised, parsed and evaluated honestly over tables built from
//! the records, then paged the way NetSuite pages: at most 1,000 rows a page, the offset a
//! multiple of the limit, nothing past row 100,000.

mod cell;
mod eval;
mod lexer;
mod parser;
mod plan;
mod tables;

use std::sync::Arc;

use axum::http::HeaderMap;
use serde_json::Value;

pub use tables::TableCache;

use super::error::{COLLECTION_CONTENT_TYPE, NsError};
use super::reply::{OJson, Reply};
use super::{NetSuiteSim, lock};

pub const MAX_PAGE: u64 = 1000;
pub const MAX_ROWS: u64 = 100_000;

/// `limit` (default 1000) and `offset` (default 0) from the query string.
/// [INFERRED] wording of the three refusals; the rules themselves are documented.
pub fn paging(params: &[(String, String)]) -> Result<(u64, u64), NsError> {
    let get = |k: &str| params.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|(_, v)| v.as_str());
    let limit = match get("limit") {
        None => MAX_PAGE,
        Some(v) => v.parse::<u64>().ok().filter(|l| (1..=MAX_PAGE).contains(l)).ok_or_else(|| {
            NsError::invalid_parameter(format!(
                "Invalid value '{v}' for the query parameter limit. The value must be between 1 and 1000."
            ))
            .at_query_param("limit")
        })?,
    };
    let offset = match get("offset") {
        None => 0,
        Some(v) => v.parse::<u64>().map_err(|_| {
            NsError::invalid_parameter(format!("Invalid value '{v}' for the query parameter offset."))
                .at_query_param("offset")
        })?,
    };
    if offset % limit != 0 {
        return Err(NsError::invalid_parameter(format!(
            "Invalid value {offset} for the query parameter offset. The offset must be a multiple of the limit ({limit})."
        ))
        .at_query_param("offset"));
    }
    if offset + limit > MAX_ROWS {
        return Err(NsError::invalid_parameter(format!(
            "Invalid value {offset} for the query parameter offset. A query can return at most {MAX_ROWS} results; use a narrower query for the rest."
        ))
        .at_query_param("offset"));
    }
    Ok((limit, offset))
}

/// Paging links in the order of the samples: previous, first, next, last, self.
pub fn page_links(url: &str, limit: u64, offset: u64, total: u64) -> OJson {
    let href = |o: u64| format!("{url}?limit={limit}&offset={o}");
    let reachable = total.min(MAX_ROWS);
    let last = if reachable == 0 { 0 } else { (reachable - 1) / limit * limit };
    let has_more = offset + limit < reachable;
    let mut links: Vec<(&str, String)> = Vec::new();
    if offset > 0 {
        links.push(("previous", href(offset.saturating_sub(limit))));
    }
    if offset > 0 || has_more {
        links.push(("first", href(0)));
    }
    if has_more {
        links.push(("next", href(offset + limit)));
    }
    if offset > 0 || has_more {
        links.push(("last", href(last)));
    }
    links.push(("self", href(offset)));
    OJson::links(&links)
}

pub fn handle(sim: &NetSuiteSim, params: &[(String, String)], headers: &HeaderMap, body: &[u8], base: &str) -> Reply {
    run(sim, params, headers, body, base).unwrap_or_else(Reply::from)
}

fn run(
    sim: &NetSuiteSim,
    params: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
    base: &str,
) -> Result<Reply, NsError> {
    let transient = headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("transient"));
    if !transient {
        // [INFERRED] wording; Oracle documents the header as required for SuiteQL.
        return Err(NsError::invalid_parameter("The SuiteQL query service requires the header Prefer: transient.")
            .at_header("Prefer"));
    }
    let (limit, offset) = paging(params)?;
    let q = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("q").and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| {
            NsError::new(
                400,
                "INVALID_CONTENT",
                "Invalid content. The request body must be a JSON object with a string field q.",
            )
        })?;
    let out = evaluate(sim, q)?;
    let total = out.rows.len() as u64;
    let start = offset.min(total) as usize;
    let end = (offset + limit).min(total) as usize;
    let items: Vec<OJson> = out.rows[start..end]
        .iter()
        .map(|row| {
            let mut item = OJson::obj().with("links", OJson::Arr(Vec::new()));
            for (name, cell) in out.columns.iter().zip(row) {
                if let Some(text) = cell.render() {
                    item = item.with(name, OJson::str(text));
                }
            }
            item
        })
        .collect();
    let url = format!("{base}/services/rest/query/v1/suiteql");
    let body = OJson::obj()
        .with("links", page_links(&url, limit, offset, total))
        .with("count", Value::from(items.len()))
        .with("hasMore", Value::Bool(offset + limit < total.min(MAX_ROWS)))
        .with("items", OJson::Arr(items))
        .with("offset", Value::from(offset))
        .with("totalResults", Value::from(total));
    Ok(Reply::json(200, COLLECTION_CONTENT_TYPE, &body))
}

/// The rows of `q`, from the cache when the same text ran against the same data.
fn evaluate(sim: &NetSuiteSim, q: String) -> Result<Arc<plan::Output>, NsError> {
    let query = parser::parse(&q)?;
    let (scope, version) = {
        let store = lock(&sim.inner.store);
        let mut cache = lock(&sim.inner.tables);
        if let Some(out) = cache.result(&store, &q) {
            return Ok(out);
        }
        let mut tables = Vec::new();
        let mut names = Vec::new();
        for t in std::iter::once(&query.from).chain(query.joins.iter().map(|j| &j.table)) {
            let table = cache
                .table(&store, &t.table)
                .ok_or_else(|| NsError::search(format!("Record '{}' was not found.", t.table.to_ascii_lowercase())))?;
            tables.push(table);
            names.push(t.alias.clone().unwrap_or_else(|| t.table.clone()).to_ascii_lowercase());
        }
        (eval::Scope { tables, names, display: cache.names(&store) }, store.version)
    };
    let out = Arc::new(plan::run(query, &scope)?);
    let store = lock(&sim.inner.store);
    lock(&sim.inner.tables).keep_result(&store, version, q, out.clone());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> Vec<(String, String)> {
        url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()
    }

    #[test]
    fn paging_rules_follow_the_documentation() {
        assert_eq!(paging(&params("")).unwrap(), (1000, 0));
        assert_eq!(paging(&params("limit=10&offset=20")).unwrap(), (10, 20));
        assert_eq!(paging(&params("limit=1000&offset=99000")).unwrap(), (1000, 99000));
        for bad in ["limit=0", "limit=1001", "limit=10&offset=15", "limit=1000&offset=100000", "offset=-1"] {
            assert_eq!(paging(&params(bad)).unwrap_err().code(), "INVALID_PARAMETER", "{bad}");
        }
    }
}
