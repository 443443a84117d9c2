//! SuiteQL through REST: `POST /query/v1/suiteql?limit=&offset=` with `Prefer: transient`.
//! Pages hold at most 1,000 rows, the offset must be a multiple of the limit, and one query
//! returns at most 100,000 rows in all; [`NetSuiteClient::suiteql_all`] reads past that cap by
//! windowing on the id column.

use reqwest::Method;
use serde_json::json;

use super::{
    NetSuiteClient,
    client::Call,
    error::NsError,
    governor::Lane,
    model::{Row, SuiteQlPage},
    suiteql::WindowedQuery,
};

pub const MAX_PAGE: u64 = 1000;
pub const MAX_ROWS_PER_QUERY: u64 = 100_000;

impl NetSuiteClient {
    /// One page. `limit` is clamped to 1–1000 and `offset` must be a multiple of it.
    pub async fn suiteql_page(&self, lane: Lane, q: &str, limit: u64, offset: u64) -> Result<SuiteQlPage, NsError> {
        let limit = limit.clamp(1, MAX_PAGE);
        debug_assert_eq!(offset % limit, 0, "NetSuite refuses an offset that is not a multiple of the limit");
        let mut url = self.url("query/v1/suiteql");
        url.query_pairs_mut().append_pair("limit", &limit.to_string()).append_pair("offset", &offset.to_string());
        let body = json!({ "q": q });
        let call = Call::write("suiteql".into(), lane, Method::POST, url, &body, true).header("Prefer", "transient");
        let answer = self.execute(call).await?;
        serde_json::from_slice(&answer.body).map_err(|e| NsError::Protocol {
            op: "suiteql".into(),
            problem: format!("page is not a SuiteQL answer: {e}"),
        })
    }

    /// Every row of a query, however many: pages of 1,000 within windows of under 100,000 rows
    /// along the query's id column, so the cap is never reached.
    pub async fn suiteql_all(&self, lane: Lane, query: &WindowedQuery) -> Result<Vec<Row>, NsError> {
        let mut rows = Vec::new();
        self.suiteql_each_page(lane, query, |page| {
            rows.extend(page);
            Ok(())
        })
        .await?;
        Ok(rows)
    }

    /// Like [`NetSuiteClient::suiteql_all`], handing over each page as it arrives so a caller
    /// reading 100,000 SKUs need not hold them all.
    pub async fn suiteql_each_page(
        &self,
        lane: Lane,
        query: &WindowedQuery,
        mut each: impl FnMut(Vec<Row>) -> Result<(), NsError>,
    ) -> Result<u64, NsError> {
        let mut after: Option<i64> = None;
        let mut total = 0u64;
        loop {
            let q = query.window(after);
            let mut offset = 0;
            let mut last_id = None;
            let mut in_window = 0u64;
            let more_in_next_window = loop {
                let page = self.suiteql_page(lane, &q, MAX_PAGE, offset).await?;
                let n = page.items.len() as u64;
                if let Some(last) = page.items.last() {
                    last_id = Some(last.get_i64(&query.id_key).ok_or_else(|| NsError::Protocol {
                        op: "suiteql".into(),
                        problem: format!("row without a numeric `{}` column to window on", query.id_key),
                    })?);
                }
                total += n;
                in_window += n;
                each(page.items)?;
                // At the cap NetSuite may say hasMore: false although rows remain, so a full
                // window always gets a successor.
                if in_window >= MAX_ROWS_PER_QUERY - MAX_PAGE && n == MAX_PAGE {
                    break true;
                }
                if !page.has_more || n == 0 {
                    break false;
                }
                offset += MAX_PAGE;
            };
            if !more_in_next_window {
                return Ok(total);
            }
            after = last_id;
        }
    }
}
