//! The virtual-time simulator behind `restoreplan simulate`: the offline
//! resolution of a plan into restores ([`offline`]), runs of the executor
//! over [`SimCloud`] under tokio's paused clock ([`run`]), the simulate
//! pipeline ([`sweep`]), sizes read live ([`live`]) or from a sizes file
//! ([`sizes_file`]). The duration model lives in [`crate::duration`];
//! [`SimCloud`] itself is a cloud and lives beside the AWS adapter it
//! imitates ([`crate::cloud::sim`]); it is re-exported here.
//! Must not: touch the network, the file system (except to read a model or
//! sizes file on request) or the wall clock.

pub mod generate;
pub mod live;
pub mod offline;
pub mod run;
pub mod sfn;
pub mod sizes_file;
pub mod sweep;

pub use crate::cloud::sim::{Faults, SimCloud, SimStats};
