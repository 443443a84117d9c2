//! The admin widget. It reads the backend's `/api/v1` through the shared `wns-api-types`, so the
//! JSON shapes cannot drift.
//!
//! - [`view`]: what each badge, cell and row says, from API answers and the clock (pure, tested
//!   natively);
//! - [`session`]: when to renew the token and how long to back off (pure, tested natively);
//! - `dom` (wasm32 only): the placeholders the plugin printed, one request per kind per screen,
//!   and the DOM they get. `cargo xtask widget` builds it with wasm-bindgen and wasm-opt.

pub mod session;
pub mod view;

#[cfg(target_arch = "wasm32")]
mod dom;
#[cfg(target_arch = "wasm32")]
pub use dom::start;
#[cfg(target_arch = "wasm32")]
mod jsde;
#[cfg(target_arch = "wasm32")]
mod page;

use wns_api_types::{JobState, QueueSummary};

/// One line for a badge: what needs a person first, then what is moving.
pub fn queue_headline(s: &QueueSummary) -> String {
    let (dead, blocked) = (s.total(JobState::Dead), s.total(JobState::Blocked));
    let pending = s.total(JobState::Ready) + s.total(JobState::Running);
    let mut parts = Vec::new();
    if dead > 0 {
        parts.push(format!("{dead} failed"));
    }
    if blocked > 0 {
        parts.push(format!("{blocked} waiting for a fix"));
    }
    if pending > 0 {
        parts.push(format!("{pending} syncing"));
    }
    if parts.is_empty() { "all in sync".into() } else { parts.join(" · ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wns_api_types::QueueCount;

    fn count(state: JobState, count: u64) -> QueueCount {
        QueueCount { kind: "order".into(), state, count }
    }

    #[test]
    fn headline_puts_what_needs_a_person_first() {
        let s = QueueSummary {
            counts: vec![count(JobState::Ready, 2), count(JobState::Blocked, 1), count(JobState::Dead, 3)],
        };
        assert_eq!(queue_headline(&s), "3 failed · 1 waiting for a fix · 2 syncing");
    }

    #[test]
    fn an_idle_queue_reads_all_in_sync() {
        let s = QueueSummary { counts: vec![count(JobState::Done, 40)] };
        assert_eq!(queue_headline(&s), "all in sync");
    }
}

/// See `Cargo.toml` for why this allocator. SAFETY: the widget runs on the page's one thread; it
/// starts no worker and shares no memory.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
