//! Response times. Real services are not constant: most calls land near a typical time and a
//! few take far longer. A latency is a log-normal distribution fixed by its median and its 99th
//! percentile, scaled by one factor so fast tests can run the same model at zero delay.

use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};

/// z-score of the 99th percentile of the standard normal distribution.
const Z99: f64 = 2.326_347_874;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub median: Duration,
    pub p99: Duration,
}

impl Latency {
    pub const ZERO: Latency = Latency { median: Duration::ZERO, p99: Duration::ZERO };

    /// Always exactly `d` (benchmarks that compare against a physical limit C / L).
    pub fn fixed(d: Duration) -> Latency {
        Latency { median: d, p99: d }
    }

    pub fn new(median: Duration, p99: Duration) -> Latency {
        Latency { median, p99: p99.max(median) }
    }

    /// One draw, multiplied by `scale` (0 turns the latency off).
    pub fn sample(&self, rng: &mut impl Rng, scale: f64) -> Duration {
        if self.median.is_zero() || scale <= 0.0 {
            return Duration::ZERO;
        }
        let mu = self.median.as_secs_f64().ln();
        let sigma = (self.p99.as_secs_f64().ln() - mu) / Z99;
        // Box–Muller: a standard normal draw from two uniform ones.
        let (u1, u2): (f64, f64) = (rng.random_range(f64::EPSILON..1.0), rng.random());
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        Duration::from_secs_f64((mu + sigma * z).exp() * scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    fn percentile(sorted: &[Duration], p: f64) -> Duration {
        sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
    }

    #[test]
    fn samples_have_the_median_and_the_long_tail_they_were_given() {
        let l = Latency::new(Duration::from_millis(800), Duration::from_millis(2400));
        let mut rng = StdRng::seed_from_u64(42);
        let mut s: Vec<Duration> = (0..20_000).map(|_| l.sample(&mut rng, 1.0)).collect();
        s.sort();
        let (p50, p99) = (percentile(&s, 0.5).as_millis(), percentile(&s, 0.99).as_millis());
        assert!((760..=840).contains(&p50), "median {p50} ms");
        assert!((2200..=2650).contains(&p99), "p99 {p99} ms");
    }

    #[test]
    fn fixed_latency_is_exact_and_scale_zero_turns_it_off() {
        let mut rng = StdRng::seed_from_u64(1);
        let l = Latency::fixed(Duration::from_millis(200));
        assert!((0..100).all(|_| l.sample(&mut rng, 1.0) == Duration::from_millis(200)));
        assert_eq!(l.sample(&mut rng, 0.0), Duration::ZERO);
        assert_eq!(Latency::ZERO.sample(&mut rng, 1.0), Duration::ZERO);
    }
}
