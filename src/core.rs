//! restoreplan's core (the `restoreplan-core` package, `core/Cargo.toml`):
//! everything of restoreplan that needs no AWS SDK. The `restoreplan` package
//! re-exports these modules under the same names and adds the SDK adapter
//! (`aws`), the run-state backends (`state`), the Step Functions engine
//! (`sfn`) and the command line (`cli`).
//!
//! ```text
//!   plan.yaml ──► plan::load_file ──► RawPlan ──► resolve ──► Plan (sealed DAG)
//!                 (bounded read,           (defaults,          │
//!                  spans, schema)           templates, rules)  │
//!                                                              ▼
//!                     ┌──────────────── check::live (CloudRead) ─────────────┐
//!                     │                                                      │
//!                     ▼                                                      ▼
//!            diff: dry-run model ──► report (text/JSON/Markdown)   exec: DAG executor (CloudWrite)
//!                     ▲                                                      │
//!                     └────────── sim: virtual-time cloud ◄──────────────────┘
//! ```
//!
//! Loading and checking are pure functions of the text (and a date for the
//! `{date}` template). Only `check::live`, `diff`, `exec` and `sim` talk to a
//! cloud, and only through the [`cloud::CloudRead`] / [`cloud::CloudWrite`]
//! traits.
//!
//! Underneath them all sit pure parts that import nothing above
//! [`diag`]: [`graph`] (ids and edges), [`schedule`] (the one scheduler,
//! which both the executor and the RTO prediction run), [`duration`] (how
//! long one restore takes) and [`clock`]. `scripts/module-arrows` lists the
//! imports between modules and any that loop.

pub mod check;
pub mod clock;
pub mod cloud;
pub mod diag;
pub mod diff;
pub mod duration;
pub mod exec;
pub mod export;
pub mod graph;
pub mod init;
// The plan module's items are not yet narrowed to `pub(crate)`.
#[allow(unreachable_pub)]
pub mod plan;
pub mod report;
pub mod schedule;
pub mod sim;
pub mod text;

/// The repository's root, for tests that read its files (docs/, schemas/, src/).
#[cfg(test)]
pub(crate) const REPO_ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
