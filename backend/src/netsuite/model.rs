//! Wire types of SuiteTalk REST: record keys, external ids, SuiteQL pages and async jobs.
//! Parsed at the edge; the rest of wns works with these, never with raw URLs.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A NetSuite external id. NetSuite allows letters, digits, `_` and `-` (a `|` would be read as
/// a multi-select delimiter), so anything else is refused before a request is made.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExternalId(String);

impl ExternalId {
    pub fn parse(s: impl Into<String>) -> Result<ExternalId, String> {
        let s = s.into();
        if s.is_empty() || s.len() > 255 {
            return Err(format!("external id must be 1–255 characters, got {}", s.len()));
        }
        if let Some(c) = s.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-')) {
            return Err(format!("external id {s:?} contains {c:?}; NetSuite allows only letters, digits, '_' and '-'"));
        }
        Ok(ExternalId(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ExternalId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ExternalId::parse(s)
    }
}

impl From<ExternalId> for String {
    fn from(e: ExternalId) -> String {
        e.0
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a record is addressed in a URL: its internal id or `eid:<external id>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordKey {
    Internal(String),
    External(ExternalId),
}

impl RecordKey {
    pub fn path_segment(&self) -> String {
        match self {
            RecordKey::Internal(id) => id.clone(),
            RecordKey::External(e) => format!("eid:{e}"),
        }
    }
}

impl From<ExternalId> for RecordKey {
    fn from(e: ExternalId) -> Self {
        RecordKey::External(e)
    }
}

/// The outcome of a write: NetSuite's internal id (the last segment of `Location`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRef {
    pub record_type: String,
    pub id: String,
}

/// One SuiteQL page. Column names are lower-case and every value is a string; NULL columns are
/// absent from the row.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuiteQlPage {
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub has_more: bool,
    #[serde(default)]
    pub items: Vec<Row>,
    #[serde(default)]
    pub offset: u64,
    #[serde(default)]
    pub total_results: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Row(pub serde_json::Map<String, serde_json::Value>);

impl Row {
    /// A column as text; `None` when NetSuite left it out (NULL).
    pub fn get(&self, column: &str) -> Option<&str> {
        self.0.get(column).and_then(|v| v.as_str())
    }

    pub fn get_i64(&self, column: &str) -> Option<i64> {
        self.0.get(column).and_then(|v| v.as_str().and_then(|s| s.parse().ok()).or_else(|| v.as_i64()))
    }
}

/// `GET /async/v1/job/{id}`.
#[derive(Debug, Clone, Deserialize)]
pub struct JobStatus {
    pub id: String,
    pub completed: bool,
    #[serde(default)]
    pub progress: String,
}

/// The result of one record of an async batch, in the order the records were sent.
#[derive(Debug)]
pub struct BatchItemResult {
    pub external_id: ExternalId,
    pub result: Result<RecordRef, super::NsError>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids_refuse_what_netsuite_would_misread() {
        assert!(ExternalId::parse("wc-shop-order-1001").is_ok());
        assert!(ExternalId::parse("wc-shop-guest-0a1b2c3d4e5f6789").is_ok());
        let err = ExternalId::parse("a|b").unwrap_err();
        assert!(err.contains("'|'"), "{err}");
        assert!(ExternalId::parse("").is_err());
        assert!(ExternalId::parse("ü").is_err());
    }

    #[test]
    fn suiteql_rows_read_nulls_as_absent() {
        let page: SuiteQlPage = serde_json::from_str(
            r#"{"links":[],"count":1,"hasMore":false,"items":[{"links":[],"id":"12","itemid":"SKU-1"}],"offset":0,"totalResults":1}"#,
        )
        .unwrap();
        let row = &page.items[0];
        assert_eq!((row.get("itemid"), row.get_i64("id"), row.get("displayname")), (Some("SKU-1"), Some(12), None));
    }
}
