//! What both remote-service clients (`netsuite`, `woo`) share, so neither imports the other:
//! the classification of their errors, which is all the job queue reads, and OAuth 1.0a signing.

pub mod oauth1;

use std::time::Duration;

/// What the caller (a job handler) should do about an error from NetSuite or WooCommerce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorClass {
    /// Transient: try again later with backoff.
    Retry,
    /// Transient with a known wait.
    RetryAfter(Duration),
    /// The service refused the request's content or our rights; a person must fix data or
    /// set-up. Retrying the same request cannot succeed.
    NeedsPerson,
    /// The credentials are rejected. Stop this flow and raise one exception.
    Fatal,
}
