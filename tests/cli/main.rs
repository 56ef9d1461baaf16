//! The one integration test binary: drives the real `restoreplan` binary.

mod examples;
mod graph;
mod hostile;
mod output;
mod props;
mod rules;
mod schema;
mod test;
