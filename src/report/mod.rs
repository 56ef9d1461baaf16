//! Renderers: turn findings (and later, plans and run events) into text for
//! people, JSON for tools and annotations for CI.
//!
//! Owns presentation only. Must not decide what is wrong (the checks do)
//! and must not read files or talk to a cloud.

pub mod findings;
