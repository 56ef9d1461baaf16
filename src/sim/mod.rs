//! The virtual-time simulator: a cloud that restores in virtual time, the
//! duration model behind it, and the offline resolution of a plan into
//! restores for `restoreplan simulate`.
//!
//! Owns [`SimCloud`] (a [`crate::cloud::CloudRead`] + [`crate::cloud::CloudWrite`]
//! in memory, with fault injection and a record of what it saw) and
//! [`DurationModel`]. The executor runs unchanged on top of it under tokio's
//! paused clock. Must not: touch the network, the file system (except to read
//! a model or sizes file on request) or the wall clock.

pub mod cloud;
pub mod generate;
pub mod live;
pub mod offline;
pub mod run;
pub mod sizes_file;
pub mod sweep;

pub use crate::estimate::DurationModel;
pub use cloud::{Faults, SimCloud, SimStats};
