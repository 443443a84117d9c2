//! Asynchronous requests and batches: 202 with the job's Location, tasks that keep the answer
//! each record would have had, one bad record failing alone, and idempotency keys.

mod netsuite_support;

use netsuite_support::{Ns, error_of, json, start};
use reqwest::Method;
use serde_json::{Value, json};

const CUSTOMER: &str = "/services/rest/record/v1/customer";
const COLLECTION: (&str, &str) = ("Content-Type", "application/vnd.oracle.resource+json; type=collection");
const ASYNC: (&str, &str) = ("Prefer", "respond-async");

async fn batch(ns: &Ns, method: Method, items: Value, extra: &[(&str, &str)]) -> reqwest::Response {
    let url = ns.url(CUSTOMER);
    let mut req = ns.http.request(method.clone(), url.clone()).header("Authorization", ns.sig().header(&method, &url));
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.body(serde_json::to_vec(&json!({ "items": items })).unwrap()).send().await.unwrap()
}

fn path_of(url: &str, ns: &Ns) -> String {
    url.strip_prefix(&ns.running.base_url).unwrap_or(url).to_string()
}

#[tokio::test]
async fn a_batch_runs_in_the_background_and_one_bad_record_fails_alone() {
    let ns = start().await;
    let items =
        json!([{ "companyName": "A", "externalId": "a" }, { "email": "no-name@x.test" }, { "companyName": "C" }]);
    let r = batch(&ns, Method::POST, items, &[COLLECTION, ASYNC]).await;
    assert_eq!(r.status(), 202);
    assert_eq!(r.headers()["preference-applied"], "respond-async");
    let job = path_of(r.headers()["location"].to_str().unwrap(), &ns);
    assert!(job.starts_with("/services/rest/async/v1/job/"), "{job}");
    assert!(r.text().await.unwrap().is_empty());
    ns.sim().wait_for_jobs().await;

    let status = json(ns.get(&job).await).await;
    assert_eq!((status["completed"].as_bool(), status["progress"].as_str()), (Some(true), Some("failed")));
    assert_eq!(status["task"]["links"][0]["href"], format!("{}{job}/task", ns.running.base_url));
    let tasks = json(ns.get(&format!("{job}/task")).await).await;
    assert_eq!(tasks["count"], 3);
    let results: Vec<String> = tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| path_of(t["links"][0]["href"].as_str().unwrap(), &ns) + "/result")
        .collect();

    let first = ns.get(&results[0]).await;
    assert_eq!(first.status(), 204);
    assert!(first.headers()["location"].to_str().unwrap().contains("/services/rest/record/v1/customer/"));
    let (status, code, detail) = error_of(ns.get(&results[1]).await).await;
    assert_eq!((status, code.as_str()), (400, "USER_ERROR"));
    assert!(detail.ends_with("Company Name."), "{detail}");
    assert_eq!(ns.get(&results[2]).await.status(), 204);
    assert_eq!(ns.sim().record_count("customer"), 2);
    assert_eq!(ns.sim().counters().requests_by_op.get("async batch"), Some(&1));
}

#[tokio::test]
async fn batch_upserts_match_on_external_id() {
    let ns = start().await;
    let items = json!([{ "externalId": "x-1", "companyName": "One" }, { "externalId": "x-1", "companyName": "One again" }, { "companyName": "no key" }]);
    let r = batch(&ns, Method::PUT, items, &[COLLECTION, ASYNC]).await;
    assert_eq!(r.status(), 202);
    ns.sim().wait_for_jobs().await;
    assert_eq!(ns.sim().record_count("customer"), 1);
}

#[tokio::test]
async fn batches_must_be_async_and_at_most_a_hundred_records() {
    let ns = start().await;
    let r = batch(&ns, Method::POST, json!([{ "companyName": "A" }]), &[COLLECTION]).await;
    assert_eq!(error_of(r).await.0, 400);
    let many: Vec<Value> = (0..101).map(|i| json!({ "companyName": format!("C{i}") })).collect();
    let r = batch(&ns, Method::POST, Value::Array(many), &[COLLECTION, ASYNC]).await;
    assert_eq!(error_of(r).await.1, "INVALID_PARAMETER");
    assert_eq!(ns.sim().record_count("customer"), 0);
}

#[tokio::test]
async fn a_repeated_idempotency_key_points_at_the_first_job() {
    let ns = start().await;
    let key = ("X-NetSuite-Idempotency-Key", "cac827ea-3543-4cda-add2-bae634326c27");
    let first = ns.send(Method::POST, CUSTOMER, Some(&json!({ "companyName": "A" })), &[ASYNC, key]).await;
    assert_eq!(first.status(), 202);
    let job = first.headers()["location"].to_str().unwrap().to_string();
    let again = ns.send(Method::POST, CUSTOMER, Some(&json!({ "companyName": "A" })), &[ASYNC, key]).await;
    assert_eq!(again.status(), 400);
    assert_eq!(again.headers()["location"].to_str().unwrap(), job);
    assert_eq!(again.headers()["preference-applied"], "respond-async");
    let body = json(again).await;
    assert_eq!(
        body,
        json!({ "type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.10", "title": "Conflict", "status": 400,
            "o:errorDetails": [{ "detail": "A request with the same idempotency key is already submitted. See the \"Location\" header for a link to the previously submitted job", "o:errorCode": "IDEMPOTENCY_ERROR" }] })
    );
    ns.sim().wait_for_jobs().await;
    assert_eq!(ns.sim().record_count("customer"), 1);
    // Synchronous requests ignore the key.
    assert_eq!(ns.send(Method::POST, CUSTOMER, Some(&json!({ "companyName": "B" })), &[key]).await.status(), 204);
    let status = json(ns.get(&path_of(&job, &ns)).await).await;
    assert_eq!(status["progress"], "succeeded");
}
