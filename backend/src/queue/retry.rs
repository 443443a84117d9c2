//! When to try a failed job again: a schedule as data, not code scattered over the flows.
//!
//! Exponential backoff from `base` doubling per attempt up to `max_delay`, each delay moved by a
//! random ±`jitter` so that a burst of failures does not come back as a burst. A `Retry-After`
//! from the far side is honoured but clamped to `[retry_after_min, retry_after_max]`: a server
//! asking for 0 s would make a retry storm, one asking for a day would stall a flow unseen.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Delay after the first failed attempt, in milliseconds.
    pub base_ms: u64,
    /// The delay never grows beyond this, in seconds.
    pub max_delay_secs: u64,
    /// Fraction of the delay added or taken away at random (0.2 = ±20 %).
    pub jitter: f64,
    /// Attempts before the job is dead (visible and replayable).
    pub max_attempts: u32,
    pub retry_after_min_ms: u64,
    pub retry_after_max_secs: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        // 1 s, 2 s, 4 s … capped at 15 min; 12 attempts span about an hour and a half, long
        // enough to ride out a NetSuite maintenance window without giving up on an order.
        RetryPolicy {
            base_ms: 1_000,
            max_delay_secs: 15 * 60,
            jitter: 0.2,
            max_attempts: 12,
            retry_after_min_ms: 500,
            retry_after_max_secs: 10 * 60,
        }
    }
}

impl RetryPolicy {
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..1.0).contains(&self.jitter) {
            return Err(format!("jitter must be in [0, 1), got {}", self.jitter));
        }
        if self.max_attempts == 0 {
            return Err("max_attempts must be at least 1".into());
        }
        if self.base_ms == 0 || self.base_ms > self.max_delay_secs.saturating_mul(1000).max(1) {
            return Err("base_ms must be positive and not above max_delay_secs".into());
        }
        if self.retry_after_min_ms > self.retry_after_max_secs.saturating_mul(1000) {
            return Err("retry_after_min_ms must not exceed retry_after_max_secs".into());
        }
        Ok(())
    }

    /// The nominal delay after failed attempt number `attempt` (1-based), before jitter.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(40);
        let ms = self.base_ms.saturating_mul(1u64 << exp.min(63));
        Duration::from_millis(ms.min(self.max_delay_secs.saturating_mul(1000)))
    }

    /// The delay to wait after failed attempt `attempt`, jittered with `rng`.
    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let nominal = self.backoff(attempt).as_secs_f64();
        let factor = if self.jitter > 0.0 { rng.random_range(1.0 - self.jitter..=1.0 + self.jitter) } else { 1.0 };
        Duration::from_secs_f64(nominal * factor)
    }

    /// A server's `Retry-After`, held within the clamp.
    pub fn clamp_retry_after(&self, asked: Duration) -> Duration {
        asked.clamp(Duration::from_millis(self.retry_after_min_ms), Duration::from_secs(self.retry_after_max_secs))
    }

    pub fn exhausted(&self, attempts: u32) -> bool {
        attempts >= self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn backoff_doubles_from_base_and_stops_at_the_cap() {
        let p = RetryPolicy { base_ms: 1000, max_delay_secs: 10, ..Default::default() };
        let got: Vec<u64> = (1..=6).map(|a| p.backoff(a).as_millis() as u64).collect();
        assert_eq!(got, vec![1000, 2000, 4000, 8000, 10_000, 10_000]);
        assert_eq!(p.backoff(500), Duration::from_secs(10), "huge attempt numbers must not overflow");
    }

    #[test]
    fn jitter_stays_within_twenty_percent_and_actually_varies() {
        let p = RetryPolicy::default();
        let mut rng = StdRng::seed_from_u64(7);
        let delays: Vec<f64> = (0..500).map(|_| p.delay(3, &mut rng).as_secs_f64()).collect();
        assert!(delays.iter().all(|d| (3.2..=4.8).contains(d)), "4 s ± 20 %");
        let min = delays.iter().cloned().fold(f64::MAX, f64::min);
        let max = delays.iter().cloned().fold(0.0, f64::max);
        assert!(max - min > 1.0, "jitter should spread the delays, got {min}..{max}");
    }

    #[test]
    fn retry_after_is_honoured_but_clamped() {
        let p = RetryPolicy::default();
        assert_eq!(p.clamp_retry_after(Duration::from_secs(30)), Duration::from_secs(30));
        assert_eq!(p.clamp_retry_after(Duration::ZERO), Duration::from_millis(500));
        assert_eq!(p.clamp_retry_after(Duration::from_secs(86_400)), Duration::from_secs(600));
    }

    #[test]
    fn invalid_policies_say_what_is_wrong() {
        let p = RetryPolicy { jitter: 1.5, ..Default::default() };
        assert!(p.validate().unwrap_err().contains("jitter"));
        let p = RetryPolicy { max_attempts: 0, ..Default::default() };
        assert!(p.validate().unwrap_err().contains("max_attempts"));
    }
}
