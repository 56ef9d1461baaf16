//! restoreplan's integration tests: one binary, one emulator.

mod live;
mod review;
mod support;
