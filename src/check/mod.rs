//! Live checks: resolve a sealed [`Plan`](crate::plan::model::Plan) against a
//! [`CloudRead`](crate::cloud::CloudRead) and report what AWS says.
//!
//! Owns the live rules (keys, recovery points, target tables) and the
//! resolution of `latest` recovery points, key replicas and restore
//! requests. Read-only: it holds a `CloudRead`, never a `CloudWrite`.

pub mod capacity;
pub mod changes;
pub mod inventory;
pub mod live;
pub mod original;
pub mod policy;
pub mod random;
pub mod request;
pub mod resolved;
pub mod warnings;
