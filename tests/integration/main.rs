//! restoreplan's integration tests: one binary that drives the real
//! `restoreplan` binary and, where AWS is involved, one local emulator.

// Test and benchmark code: its items are shared between its own modules,
// it reports on stdout and stderr, and a benchmark that misses its target
// ends with a failing status.
#![allow(
    unreachable_pub,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit
)]

mod apply;
mod apply_safety;
mod capacity;
mod capacity_sources;
mod copy;
mod examples;
mod export;
mod first_hour;
mod graph;
mod hostile;
mod identity;
mod init;
mod live;
mod output;
mod printer;
mod props;
mod random_point;
mod results;
mod review;
mod review_examples;
mod rules;
mod schedule_agree;
mod schema;
mod select;
mod settings;
mod sfn_apply;
mod simulate;
#[cfg(feature = "s3")]
mod state;
mod state_shared;
mod step_scaling;
mod support;
mod teardown_crash;
mod test;
mod verify;
