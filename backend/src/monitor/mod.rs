//! What a person must look at: exceptions with an owner, and (as the flows arrive) the detectors
//! and reports built on them.

pub mod audit;
pub mod exceptions;
pub mod report;
pub mod report_post;

pub use exceptions::{Exception, ExceptionKind, OpenException};
