//! Prometheus metrics. One registry per application (no process-global state), rendered in the
//! text exposition format at `GET /metrics`. Queue depth is read from the database at scrape
//! time, so it is true across every process sharing the database, not just this one.

use std::{sync::Mutex, time::Duration};

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};
use wns_api_types::QueueSummary;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AttemptLabels {
    pub kind: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DepthLabels {
    pub kind: String,
    pub state: String,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Mutex<Registry>,
    attempts: Family<AttemptLabels, Counter>,
    duration: Family<KindLabels, Histogram>,
    depth: Family<DepthLabels, Gauge>,
    webhooks: Family<OutcomeLabels, Counter>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("wns");
        let attempts = Family::<AttemptLabels, Counter>::default();
        registry.register("job_attempts", "Job attempts by kind and outcome", attempts.clone());
        let duration = Family::<KindLabels, Histogram>::new_with_constructor(|| {
            // 1 ms … ~65 s: NetSuite calls take around a second, with a long tail.
            Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 17))
        });
        registry.register("job_duration_seconds", "Time a job's handler ran", duration.clone());
        let depth = Family::<DepthLabels, Gauge>::default();
        registry.register("queue_jobs", "Jobs in the queue by kind and state", depth.clone());
        let webhooks = Family::<OutcomeLabels, Counter>::default();
        registry.register("webhook_deliveries", "WooCommerce webhook deliveries by outcome", webhooks.clone());
        Metrics { registry: Mutex::new(registry), attempts, duration, depth, webhooks }
    }

    pub fn record_attempt(&self, kind: &str, outcome: &str, took: Duration) {
        self.attempts.get_or_create(&AttemptLabels { kind: kind.into(), outcome: outcome.into() }).inc();
        self.duration.get_or_create(&KindLabels { kind: kind.into() }).observe(took.as_secs_f64());
    }

    pub fn record_webhook(&self, outcome: &str) {
        self.webhooks.get_or_create(&OutcomeLabels { outcome: outcome.into() }).inc();
    }

    pub fn set_queue_depth(&self, summary: &QueueSummary) {
        self.depth.clear();
        for c in &summary.counts {
            self.depth
                .get_or_create(&DepthLabels { kind: c.kind.clone(), state: c.state.as_str().into() })
                .set(c.count as i64);
        }
    }

    /// Lets other modules (the NetSuite governor, the webhook receiver) add their own metrics.
    pub fn with_registry<R>(&self, f: impl FnOnce(&mut Registry) -> R) -> R {
        f(&mut self.registry.lock().expect("metrics registry lock"))
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry.lock().expect("metrics registry lock"))
            .expect("writing to a String cannot fail");
        out
    }
}
