//! Async batch upsert: up to 100 records of one type in one request (`Prefer: respond-async`),
//! processed by NetSuite's async processors outside the account's concurrency limit, with an
//! idempotency key so that re-sending a submission whose answer was lost finds the first job
//! instead of starting a second. Each record succeeds or fails on its own.
//!
//! Results are read per task (`/job/{id}/task`, then `/task/{taskId}/result`); the shape of a
//! task result is not documented in detail, so it is read as the synchronous answer of that
//! record would be: 204 with `Location`, or NetSuite's error body with its status.

use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    NetSuiteClient,
    client::{Answer, Call},
    error::NsError,
    governor::Lane,
    model::{BatchItemResult, ExternalId, JobStatus},
};

pub const MAX_BATCH: usize = 100;

#[derive(Deserialize)]
struct TaskList {
    #[serde(default)]
    items: Vec<TaskLink>,
}

#[derive(Deserialize)]
struct TaskLink {
    id: String,
}

impl NetSuiteClient {
    /// Upserts `records` (at most 100, one record type) as one async job and waits for it.
    pub async fn batch_upsert(
        &self,
        lane: Lane,
        record_type: &str,
        records: &[(ExternalId, Value)],
        poll_every: Duration,
    ) -> Result<Vec<BatchItemResult>, NsError> {
        let job = self.submit_batch_upsert(lane, record_type, records).await?;
        self.wait_for_job(lane, &job, poll_every).await?;
        self.job_results(lane, record_type, &job, records).await
    }

    /// Asks for the job's status until it is completed, `poll_every` apart; returns the last.
    pub async fn wait_for_job(&self, lane: Lane, job: &str, poll_every: Duration) -> Result<JobStatus, NsError> {
        loop {
            let status = self.job_status(lane, job).await?;
            if status.completed {
                return Ok(status);
            }
            tokio::time::sleep(poll_every).await;
        }
    }

    /// Submits the batch; returns the job URL. Re-sent with the same idempotency key when the
    /// first answer is lost; NetSuite then answers IDEMPOTENCY_ERROR pointing at the first job.
    pub async fn submit_batch_upsert(
        &self,
        lane: Lane,
        record_type: &str,
        records: &[(ExternalId, Value)],
    ) -> Result<String, NsError> {
        if records.is_empty() || records.len() > MAX_BATCH {
            return Err(NsError::Config(format!("a batch holds 1–{MAX_BATCH} records, got {}", records.len())));
        }
        let items: Vec<Value> = records
            .iter()
            .map(|(eid, body)| {
                let mut body = body.clone();
                if let Value::Object(map) = &mut body {
                    map.insert("externalId".into(), json!(eid.as_str()));
                }
                body
            })
            .collect();
        let body = json!({ "items": items });
        let key = uuid::Uuid::new_v4().to_string();
        let url = self.record_url(record_type, None);
        let op = format!("batch upsert {record_type}");
        let call = Call::write(op.clone(), lane, Method::PUT, url, &body, true)
            .header("Prefer", "respond-async")
            .header("Content-Type", "application/vnd.oracle.resource+json; type=collection")
            .header("X-NetSuite-Idempotency-Key", key);
        let mut call = call;
        call.idempotency_conflict_is_answer = true;
        let answer = self.execute(call).await?;
        self.job_location(&op, &answer)
    }

    pub async fn job_status(&self, lane: Lane, job: &str) -> Result<JobStatus, NsError> {
        let url = self.url(job);
        let answer = self.execute(Call::read("async job status".into(), lane, Method::GET, url)).await?;
        serde_json::from_slice(&answer.body)
            .map_err(|e| NsError::Protocol { op: "async job status".into(), problem: e.to_string() })
    }

    /// Per-record results of a finished job, in the order the records were sent.
    pub async fn job_results(
        &self,
        lane: Lane,
        record_type: &str,
        job: &str,
        records: &[(ExternalId, Value)],
    ) -> Result<Vec<BatchItemResult>, NsError> {
        let tasks_url = self.url(&format!("{}/task", job.trim_end_matches('/')));
        let answer = self.execute(Call::read("async job tasks".into(), lane, Method::GET, tasks_url.clone())).await?;
        let tasks: TaskList = serde_json::from_slice(&answer.body)
            .map_err(|e| NsError::Protocol { op: "async job tasks".into(), problem: e.to_string() })?;
        if tasks.items.len() != records.len() {
            return Err(NsError::Protocol {
                op: "async job tasks".into(),
                problem: format!("{} tasks for {} records", tasks.items.len(), records.len()),
            });
        }
        let mut results = Vec::with_capacity(records.len());
        for (task, (eid, _)) in tasks.items.iter().zip(records) {
            let url = self.url(&format!("{}/task/{}/result", job.trim_end_matches('/'), task.id));
            let op = format!("batch upsert {record_type} {eid}");
            let result = match self.execute(Call::read(op.clone(), lane, Method::GET, url)).await {
                Ok(answer) => self.location_ref(&op, record_type, &answer),
                Err(e @ NsError::Api { .. }) => Err(e),
                Err(e) => return Err(e),
            };
            results.push(BatchItemResult { external_id: eid.clone(), result });
        }
        Ok(results)
    }

    /// The job path (relative to `services/rest/`) from a 202's `Location`, absolute or not.
    fn job_location(&self, op: &str, answer: &Answer) -> Result<String, NsError> {
        let location = answer.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default();
        match location.find("async/v1/job/") {
            // 400 IDEMPOTENCY_ERROR: our own earlier submission got through (its answer was
            // lost); the job it names is the one to wait for.
            Some(i) if answer.status == 202 || answer.status == 400 => Ok(location[i..].to_string()),
            _ => Err(NsError::Protocol {
                op: op.into(),
                problem: format!("expected 202 with an async job Location, got {} {location:?}", answer.status),
            }),
        }
    }
}
