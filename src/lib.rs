//! restoreplan: restore whole environments of Amazon DynamoDB tables from a
//! declarative YAML plan.
//!
//! Two packages: `restoreplan-core` (`core/Cargo.toml`, sources named by
//! `src/core.rs`) holds everything that needs no AWS SDK: the plan, the
//! graph and scheduler, live checks, the dry run, the executor, the
//! simulation, the Step Functions export and the reports. It is re-exported
//! here module by module, so `restoreplan::plan` is `restoreplan_core::plan`.
//! This package adds what talks to AWS through the SDK: [`aws`] (the
//! [`cloud::CloudRead`]/[`cloud::CloudWrite`] adapter), [`state`] (the run
//! state backends), [`sfn`] (the Step Functions engine), and [`cli`].
//! The split lets the core compile beside the SDK crates.

pub use restoreplan_core::{
    check, clock, cloud, diag, diff, duration, exec, export, graph, init, plan, report, schedule,
    sim, text,
};

#[path = "cloud/aws.rs"]
pub mod aws;
pub mod cli;
pub mod sfn;
pub mod state;
