//! The DAG executor behind `apply` and `simulate`.
//!
//! Drives the scheduler of [`crate::schedule`] (critical path first, caps per
//! run and per account, failure policy) and owns the crash-safe run journal ([`journal`]),
//! idempotency tokens and run ids ([`spec`]), timing policies ([`policy`]),
//! the executor itself ([`runner`]), the event stream ([`events`]) and its
//! renderers ([`report`]: progress, lines, JSON lines, final report, Gantt
//! chart), and what a command does to a run before work starts ([`start`]:
//! the run lock, resume and retry checks, the run header).
//!
//! Must not: talk to AWS except through [`crate::cloud::CloudWrite`], read
//! the wall clock except through [`crate::clock::Clock`], or print — the engine emits
//! [`events::Event`]s and renderers decide what people see.

pub mod command;
pub mod count;
pub mod events;
pub mod identity;
pub mod journal;
pub mod lock;
pub mod objects;
pub mod policy;
pub mod render;
pub mod reverify;
pub mod runner;
pub mod spec;
pub mod start;
pub mod teardown;

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_objects;
#[cfg(test)]
mod tests_safety;

pub use crate::clock::{Clock, TokioClock};
pub use crate::schedule::Caps;
pub use events::{Event, EventSink};
pub use journal::{Journal, RunState};
pub use runner::{ExecError, ExecOptions, Executor, RunInput, RunSummary};
pub use spec::RestoreSpec;
