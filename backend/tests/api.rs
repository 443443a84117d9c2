//! The HTTP surface in-process (`tower::ServiceExt::oneshot`) on a fresh SQLite database.

use std::sync::Arc;

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;
use wns::{
    api::{AppState, router},
    clock::ManualClock,
    metrics::Metrics,
    queue::{Handlers, NewJob, Outcome, Queue, RetryPolicy, Worker, WorkerOptions},
    testing::TestDb,
};

async fn get(app: axum::Router, path: &str) -> (StatusCode, String) {
    get_as(app, path, None).await
}

/// With `key` as the operator key (`Authorization: Bearer`).
async fn get_as(app: axum::Router, path: &str, key: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::get(path);
    if let Some(k) = key {
        req = req.header("authorization", format!("Bearer {k}"));
    }
    let res = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn healthz_answers_ok_when_the_database_does_and_503_when_it_does_not() {
    let db = TestDb::sqlite();
    let store = db.store(1).await;
    let queue = Queue::new(store.clone(), Arc::new(ManualClock::new(0)), RetryPolicy::default());
    let app = router(AppState::new(queue, Arc::new(Metrics::new())));
    let (status, body) = get(app.clone(), "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"database\":\"sqlite\""), "{body}");
    store.close().await;
    let (status, body) = get(app.clone(), "/healthz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!body.contains("pool"), "no database internals in the body: {body}");
    // Liveness does not depend on the database or the far sides: the process serves.
    let (status, _) = get(app, "/livez").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn metrics_show_queue_depth_attempts_and_durations_in_prometheus_format() {
    let db = TestDb::sqlite();
    let store = db.store(1).await;
    let queue = Queue::new(store, Arc::new(ManualClock::new(0)), RetryPolicy::default());
    let metrics = Arc::new(Metrics::new());
    for i in 0..3 {
        queue.enqueue(NewJob::new("order", format!("order:{i}"), json!({}))).await.unwrap();
    }
    queue.enqueue(NewJob::new("stock", "sku:A", json!({}))).await.unwrap();
    let worker =
        Worker::new(queue.clone(), Handlers::new().on("stock", |_| async { Outcome::Done }), WorkerOptions::new("w"))
            .with_metrics(metrics.clone());
    worker.drain().await.unwrap();
    let (status, body) = get(router(AppState::new(queue, metrics)), "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for line in [
        "wns_queue_jobs{kind=\"order\",state=\"ready\"} 3",
        "wns_queue_jobs{kind=\"stock\",state=\"done\"} 1",
        "wns_job_attempts_total{kind=\"stock\",outcome=\"done\"} 1",
        "wns_job_duration_seconds_count{kind=\"stock\"} 1",
    ] {
        assert!(body.lines().any(|l| l == line), "missing `{line}` in:\n{body}");
    }
}

#[tokio::test]
async fn a_job_view_shows_its_attempts_and_an_unknown_job_is_a_404() {
    let db = TestDb::sqlite();
    let store = db.store(1).await;
    let queue = Queue::new(store.clone(), Arc::new(ManualClock::new(0)), RetryPolicy::default());
    let key = wns::api::auth::create_key(&store, "test", &[wns::api::auth::Cap::View].into_iter().collect(), 0)
        .await
        .unwrap();
    let id = queue.enqueue(NewJob::new("order", "order:9", json!({}))).await.unwrap();
    let worker = Worker::new(
        queue.clone(),
        Handlers::new().on("order", |_| async { Outcome::Dead { error: "customer rejected".into() } }),
        WorkerOptions::new("w"),
    );
    worker.drain().await.unwrap();
    let app = router(AppState::new(queue, Arc::new(Metrics::new())));
    let (status, body) = get_as(app.clone(), &format!("/api/v1/jobs/{id}"), Some(&key)).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["state"], "dead");
    assert_eq!(v["history"][0]["outcome"], "dead");
    assert_eq!(v["history"][0]["error"], "customer rejected");
    let (status, body) = get_as(app, "/api/v1/jobs/999999", Some(&key)).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::NOT_FOUND, "{\"error\":{\"code\":\"not_found\",\"message\":\"no job 999999\"}}")
    );
}
