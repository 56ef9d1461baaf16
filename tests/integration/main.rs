//! restoreplan's integration tests: one binary, one emulator.

mod live;
mod support;
