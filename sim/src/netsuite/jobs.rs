//! Asynchronous requests (`Prefer: respond-async`) and batches of up to 100 records. A job is
//! a list of tasks run in the background on the account's few async processors; each task
//! keeps exactly the answer its request would have had synchronously, so one bad record in a
//! batch fails alone. Idempotency keys map to the first job submitted with them.
//!
//! [INFERRED] Final `progress` words: `succeeded` when every task succeeded, `failed` when any
//! failed (Oracle shows only `pending`). [INFERRED] A task's `result` mirrors the synchronous
//! answer: 204 + Location for a write, the record for a read, the error envelope on failure;
//! before the task has run it is a 404.

use std::collections::HashMap;

use axum::http::Method;
use serde_json::Value;

use super::error::{COLLECTION_CONTENT_TYPE, NsError};
use super::records::{Key, check_external_id};
use super::render::value_text;
use super::reply::{OJson, Reply};
use super::routes::{JobQuery, RecordOp};
use super::service::{Params, exec_record, latency};
use super::types::RecordType;
use super::{NetSuiteSim, lock};

pub const MAX_BATCH: usize = 100;

pub enum Work {
    Op {
        op: RecordOp,
        params: Params,
        body: Vec<u8>,
    },
    /// A batch item that is wrong before it runs (a PUT item without `externalId`…).
    Fail(NsError),
}

struct Task {
    id: u64,
    result: Option<Reply>,
}

struct Job {
    tasks: Vec<Task>,
}

#[derive(Default)]
pub struct Jobs {
    next_job: u64,
    next_task: u64,
    jobs: HashMap<u64, Job>,
    keys: HashMap<String, u64>,
    pending: usize,
}

impl Jobs {
    pub fn pending(&self) -> usize {
        self.pending
    }
}

fn job_url(base: &str, job: u64) -> String {
    format!("{base}/services/rest/async/v1/job/{job}")
}

/// The items of a collection body as one unit of work each, in batch order.
pub fn batch_work(rtype: &'static RecordType, method: &Method, body: &[u8]) -> Result<Vec<Work>, NsError> {
    let items = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("items").and_then(Value::as_array).cloned())
        .ok_or_else(|| {
            NsError::new(400, "INVALID_CONTENT", "Invalid content. A batch request body must be {\"items\": [...]}.")
        })?;
    if items.is_empty() || items.len() > MAX_BATCH {
        // [INFERRED] wording; the limit of 100 is documented.
        return Err(NsError::invalid_parameter(format!(
            "A batch request must contain between 1 and {MAX_BATCH} records; it contained {}.",
            items.len()
        )));
    }
    Ok(items.into_iter().map(|item| work_for(rtype, method, item)).collect())
}

fn work_for(rtype: &'static RecordType, method: &Method, item: Value) -> Work {
    let field = |k: &str| {
        item.as_object().and_then(|m| m.iter().find(|(n, _)| n.eq_ignore_ascii_case(k))).map(|(_, v)| value_text(v))
    };
    let body = serde_json::to_vec(&item).unwrap_or_default();
    let params = Params::new();
    let op = match *method {
        Method::PUT => match field("externalId") {
            Some(eid) => match check_external_id(&eid) {
                Ok(()) => RecordOp::Upsert { rtype, eid },
                Err(e) => return Work::Fail(e),
            },
            None => {
                return Work::Fail(
                    NsError::user_error("Please enter value(s) for: External ID.").at_path("externalId"),
                );
            }
        },
        Method::PATCH => match field("id").and_then(|id| id.parse().ok()) {
            Some(id) => RecordOp::Patch { rtype, key: Key::Id(id) },
            None => return Work::Fail(NsError::nonexistent_id()),
        },
        _ => RecordOp::Create { rtype },
    };
    Work::Op { op, params, body }
}

/// Registers a job and starts it; answers 202 + Location (async-submit-202.json), or the
/// documented IDEMPOTENCY_ERROR when the key was seen before.
pub fn submit(sim: &NetSuiteSim, work: Vec<Work>, key: Option<String>, base: &str) -> Reply {
    let (job_id, task_ids) = {
        let mut jobs = lock(&sim.inner.jobs);
        if let Some(first) = key.as_ref().and_then(|k| jobs.keys.get(k)) {
            return Reply { location: Some(job_url(base, *first)), ..Reply::error(&NsError::idempotency()) }
                .with_header("Preference-Applied", "respond-async".into());
        }
        jobs.next_job += 1;
        let job_id = jobs.next_job;
        let mut tasks = Vec::new();
        for _ in &work {
            jobs.next_task += 1;
            tasks.push(Task { id: jobs.next_task, result: None });
        }
        let ids: Vec<u64> = tasks.iter().map(|t| t.id).collect();
        jobs.pending += tasks.len();
        jobs.jobs.insert(job_id, Job { tasks });
        if let Some(k) = key {
            jobs.keys.insert(k, job_id);
        }
        (job_id, ids)
    };
    for (work, task_id) in work.into_iter().zip(task_ids) {
        let sim = sim.clone();
        let base = base.to_string();
        tokio::spawn(async move {
            let reply = match work {
                Work::Fail(e) => Reply::error(&e),
                Work::Op { op, params, body } => {
                    let permit = sim.inner.processors.clone().acquire_owned().await;
                    tokio::time::sleep(latency(&sim, op.latency_class())).await;
                    let reply = exec_record(&sim, &op, &params, &body, &base);
                    drop(permit);
                    reply
                }
            };
            finish(&sim, job_id, task_id, reply);
        });
    }
    Reply {
        status: 202,
        location: Some(job_url(base, job_id)),
        content_type: None,
        body: String::new(),
        extra: Vec::new(),
    }
    .with_header("Preference-Applied", "respond-async".into())
}

fn finish(sim: &NetSuiteSim, job: u64, task: u64, reply: Reply) {
    let mut jobs = lock(&sim.inner.jobs);
    jobs.pending = jobs.pending.saturating_sub(1);
    if let Some(t) = jobs.jobs.get_mut(&job).and_then(|j| j.tasks.iter_mut().find(|t| t.id == task)) {
        t.result = Some(reply);
    }
}

fn progress<'a>(tasks: impl Iterator<Item = &'a Task>) -> (bool, &'static str) {
    let (mut done, mut failed) = (true, false);
    for t in tasks {
        match &t.result {
            None => done = false,
            Some(r) if !r.is_success() => failed = true,
            Some(_) => {}
        }
    }
    match (done, failed) {
        (false, _) => (false, "pending"),
        (true, true) => (true, "failed"),
        (true, false) => (true, "succeeded"),
    }
}

pub fn query(sim: &NetSuiteSim, q: JobQuery, base: &str) -> Reply {
    let jobs = lock(&sim.inner.jobs);
    let (job_id, task_id) = match q {
        JobQuery::Status(j) | JobQuery::Tasks(j) => (j, None),
        JobQuery::Task(j, t) | JobQuery::Result(j, t) => (j, Some(t)),
    };
    let Some(job) = jobs.jobs.get(&job_id) else { return NsError::nonexistent_id().into() };
    let url = job_url(base, job_id);
    let task = task_id.map(|id| job.tasks.iter().find(|t| t.id == id));
    match (q, task) {
        (_, Some(None)) => NsError::nonexistent_id().into(),
        (JobQuery::Status(_), _) => {
            let (completed, word) = progress(job.tasks.iter());
            Reply::singular(
                &OJson::obj()
                    .with("links", OJson::self_link(url.clone()))
                    .with("completed", Value::Bool(completed))
                    .with("id", OJson::str(job_id.to_string()))
                    .with("progress", OJson::str(word))
                    .with("task", OJson::obj().with("links", OJson::self_link(format!("{url}/task")))),
            )
        }
        (JobQuery::Tasks(_), _) => {
            let items: Vec<OJson> = job
                .tasks
                .iter()
                .map(|t| {
                    OJson::obj()
                        .with("links", OJson::self_link(format!("{url}/task/{}", t.id)))
                        .with("id", OJson::str(t.id.to_string()))
                })
                .collect();
            let n = items.len();
            let body = OJson::obj()
                .with("links", OJson::self_link(format!("{url}/task")))
                .with("count", Value::from(n))
                .with("hasMore", Value::Bool(false))
                .with("items", OJson::Arr(items))
                .with("offset", Value::from(0))
                .with("totalResults", Value::from(n));
            Reply::json(200, COLLECTION_CONTENT_TYPE, &body)
        }
        (JobQuery::Task(_, _), Some(Some(t))) => {
            let (completed, word) = progress(std::iter::once(t));
            let href = format!("{url}/task/{}", t.id);
            Reply::singular(
                &OJson::obj()
                    .with("links", OJson::self_link(href.clone()))
                    .with("completed", Value::Bool(completed))
                    .with("id", OJson::str(t.id.to_string()))
                    .with("progress", OJson::str(word))
                    .with("result", OJson::obj().with("links", OJson::self_link(format!("{href}/result")))),
            )
        }
        (JobQuery::Result(_, _), Some(Some(t))) => match &t.result {
            Some(r) => r.clone(),
            None => {
                NsError::new(404, "NONEXISTENT_ID", "The task has not finished yet; its result does not exist.").into()
            }
        },
        _ => NsError::nonexistent_id().into(),
    }
}
