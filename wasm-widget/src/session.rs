//! When the widget talks to the backend: token renewal before expiry and back-off while the backend
//! is slow or down. Pure, so the timing rules are tested natively; the DOM layer only sleeps for
//! what these say.

/// How often the screens refresh while everything answers.
pub const REFRESH_MS: i64 = 30_000;
/// The longest wait between tries while the backend does not answer.
pub const MAX_BACKOFF_MS: i64 = 5 * 60_000;
/// A request that takes longer than this counts as no answer.
pub const REQUEST_TIMEOUT_MS: i32 = 10_000;

/// When to ask the plugin for a new token: at four fifths of its life (3 minutes before a
/// 15-minute token expires, 12 s before a 1-minute one), so a request never goes out with an
/// expired token. The life is measured against the browser's clock at issue (`issued_ms`), so a
/// browser clock set wrong does not matter; `expires_at` and the server's `iat` differ by the life.
pub fn renew_at_ms(issued_ms: i64, expires_at: i64, server_now: i64) -> i64 {
    let life_ms = (expires_at - server_now).max(0) * 1000;
    issued_ms + life_ms * 4 / 5
}

/// Whether the token in hand must be renewed before the next request.
pub fn needs_renewal(renew_at_ms: i64, now_ms: i64) -> bool {
    now_ms >= renew_at_ms
}

/// Doubling waits after failures (5 s, 10 s, 20 s … 5 min), back to the normal refresh after an
/// answer. A slow backend is given room instead of a request every few seconds from every open
/// admin tab.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// The wait before the next refresh, after one that answered (`ok`) or not.
    pub fn next_delay_ms(&mut self, ok: bool) -> i64 {
        if ok {
            self.failures = 0;
            return REFRESH_MS;
        }
        self.failures = self.failures.saturating_add(1);
        let doubled = 5_000i64.saturating_mul(1i64 << (self.failures - 1).min(16));
        doubled.min(MAX_BACKOFF_MS)
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }
}

/// What went wrong with a request, as the screens show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// No answer, a timeout, or a 5xx: the sync service is down or busy. WooCommerce is fine.
    Unreachable,
    /// The plugin gave no token: not configured (503) or a role with nothing to do in wns (403).
    NoToken(String),
    /// The backend refused the request (4xx) and said why.
    Refused(u16, String),
}

impl Problem {
    /// A status with its message (from the API's or WordPress's error body).
    pub fn from_status(status: u16, message: String) -> Problem {
        if status >= 500 || status == 429 || status == 408 {
            Problem::Unreachable
        } else {
            Problem::Refused(status, message)
        }
    }

    /// The sentence the screens show.
    pub fn words(&self) -> String {
        match self {
            Problem::Unreachable => {
                "Sync service unreachable — WooCommerce is not affected; wns tries again shortly.".into()
            }
            Problem::NoToken(why) => format!("NetSuite sync is not available to you: {why}"),
            Problem::Refused(_, why) => format!("The sync service refused this: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fifteen_minute_token_is_renewed_three_minutes_before_it_expires() {
        let issued = 1_000_000;
        let at = renew_at_ms(issued, 1_700_000_900, 1_700_000_000);
        assert_eq!(at, issued + 720_000);
        assert!(!needs_renewal(at, at - 1));
        assert!(needs_renewal(at, at));
    }

    #[test]
    fn a_one_minute_token_is_renewed_at_four_fifths_of_its_life() {
        assert_eq!(renew_at_ms(5_000_000, 1_700_000_060, 1_700_000_000), 5_048_000);
    }

    #[test]
    fn the_browsers_clock_does_not_matter_only_the_life() {
        // A browser two hours ahead of the server still renews after 12 of 15 minutes.
        let browser_now = 1_700_007_200_000;
        assert_eq!(renew_at_ms(browser_now, 1_700_000_900, 1_700_000_000), browser_now + 720_000);
    }

    #[test]
    fn an_expired_token_is_renewed_at_once() {
        let at = renew_at_ms(10_000_000, 1_700_000_000, 1_700_000_000);
        assert!(needs_renewal(at, 10_000_000));
    }

    #[test]
    fn failures_double_the_wait_up_to_five_minutes_and_an_answer_resets_it() {
        let mut b = Backoff::default();
        let waits: Vec<i64> = (0..9).map(|_| b.next_delay_ms(false)).collect();
        assert_eq!(waits, [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
        assert_eq!(b.failures(), 9);
        assert_eq!(b.next_delay_ms(true), REFRESH_MS);
        assert_eq!(b.next_delay_ms(false), 5_000);
    }

    #[test]
    fn server_errors_and_rate_limits_read_as_unreachable_and_refusals_keep_their_reason() {
        assert_eq!(Problem::from_status(503, "x".into()), Problem::Unreachable);
        assert_eq!(Problem::from_status(429, "x".into()), Problem::Unreachable);
        let refused = Problem::from_status(403, "needs the map_skus capability".into());
        assert_eq!(refused.words(), "The sync service refused this: needs the map_skus capability");
        assert!(Problem::Unreachable.words().contains("WooCommerce is not affected"));
    }
}
