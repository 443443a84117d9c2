//! Causes fixed inside NetSuite, where no webhook tells wns: the periodic recheck requeues them.

use std::{collections::BTreeMap, time::Duration};

use sqlx::Row;
use tokio_util::sync::CancellationToken;

use crate::netsuite::{Lane, suiteql::in_list};

use super::*;

impl OrderFlow {
    /// Requeues orders blocked on causes that are fixed in NetSuite, where wns hears of no fix:
    /// items whose `lastmodifieddate` moved since last seen (and each newly blocked item once),
    /// tax holds and other refusals every time, and the login once NetSuite answers again (which
    /// closes `netsuite_login`).
    pub async fn recheck(&self, seen: &mut BTreeMap<String, String>) -> Result<u64, sqlx::Error> {
        let causes: Vec<String> =
            sqlx::query("select distinct blocked_cause from jobs where state = 'blocked' and kind = $1")
                .bind(KIND.as_str())
                .fetch_all(self.store().pool())
                .await?
                .iter()
                .filter_map(|r| r.try_get::<Option<String>, _>(0).ok().flatten())
                .collect();
        let mut requeue: Vec<String> = Vec::new();
        let items: Vec<&str> = causes.iter().filter_map(|c| c.strip_prefix("item:")).collect();
        if !items.is_empty() {
            let q = crate::netsuite::suiteql::WindowedQuery::new(
                "SELECT id, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD HH24:MI:SS') AS modified FROM item",
                "id",
            )
            .and(format!("id IN {}", in_list(items.iter().copied())));
            match self.inner.ns.suiteql_all(Lane::Orders, &q).await {
                Ok(rows) => {
                    for row in rows {
                        let (Some(id), Some(m)) = (row.get("id"), row.get("modified")) else { continue };
                        let cause = format!("item:{id}");
                        if seen.get(&cause).map(String::as_str) != Some(m) {
                            seen.insert(cause.clone(), m.to_string());
                            requeue.push(cause);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "recheck: reading blocked items from NetSuite failed"),
            }
        }
        for c in &causes {
            let periodic = c.starts_with("tax:") || c.ends_with(":netsuite");
            let login = c == "netsuite:login" && self.inner.ns.check().await.is_ok();
            if login {
                crate::monitor::exceptions::resolve(
                    self.store(),
                    ExceptionKind::NetSuiteLogin,
                    "netsuite",
                    crate::monitor::exceptions::Resolution::LoginOk,
                    self.now(),
                )
                .await?;
            }
            if periodic || login {
                requeue.push(c.clone());
            }
        }
        seen.retain(|k, _| causes.contains(k));
        let mut n = 0;
        for c in requeue {
            n += self.inner.queue.requeue_cause(&c).await?;
        }
        Ok(n)
    }

    /// Runs [`OrderFlow::recheck`] every `sync.recheck_secs` until `shutdown`.
    pub async fn run_recheck(self, shutdown: CancellationToken, heartbeat: crate::supervise::Heartbeat) {
        let every = Duration::from_secs(self.inner.settings.recheck_secs.max(1));
        let mut seen = BTreeMap::new();
        loop {
            tokio::select! { _ = shutdown.cancelled() => return, _ = tokio::time::sleep(every) => {} }
            let rechecked = self.recheck(&mut seen).await;
            if rechecked.is_ok() {
                heartbeat.ok();
            }
            match rechecked {
                Ok(0) => {}
                Ok(n) => tracing::info!(requeued = n, "recheck: orders blocked on NetSuite-side causes run again"),
                Err(e) => tracing::warn!(error = %e, "recheck failed"),
            }
        }
    }
}
