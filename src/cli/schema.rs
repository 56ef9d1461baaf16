//! `restoreplan schema`: the JSON Schema of the plan format.

use std::io::Write;

use crate::cli::ExitStatus;

/// Arguments of `schema` (none yet).
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

/// Prints the schema exactly as committed in `schemas/restore-plan.schema.json`.
pub fn run(_args: &Args) -> ExitStatus {
    let text = crate::plan::raw::schema_text();
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => ExitStatus::Valid,
        Err(_) => ExitStatus::Error,
    }
}
