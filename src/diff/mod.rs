//! The dry run and plan-to-plan diffs: what reviewers and auditors read
//! before anything is restored.
//!
//! Owns the dry-run model ([`model::DryRun`], built by [`build::build`] from a
//! sealed plan and its [`LiveReport`](crate::check::live::LiveReport)), the
//! predicted RTO ([`predict`]), the comparison of a saved plan with a fresh
//! resolution ([`stale`]), the audit checklist ([`audit`]) and the semantic
//! diff of two versions of a plan ([`plans`]), and the pipelines `plan` and
//! `audit` run ([`pipeline`]). Everything here is pure data and pure
//! functions except [`source::read_source_settings`] and [`pipeline`], which
//! read through a [`CloudRead`](crate::cloud::CloudRead). This module must not
//! print, format for people (that is [`crate::report`]) or hold a
//! `CloudWrite`.

pub mod audit;
pub mod build;
pub mod model;
pub mod pipeline;
pub mod plans;
pub mod predict;
pub mod source;
pub mod stale;

#[cfg(test)]
pub(crate) mod fixtures;

pub use build::build;
pub use model::DryRun;
pub use pipeline::dry_run;
