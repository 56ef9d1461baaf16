//! `restoreplan schema`: the JSON Schema of the plan format.

use crate::cli::{ExitStatus, Result};

/// Arguments of `schema` (none yet).
#[derive(Debug, Clone, clap::Args)]
pub struct Args {}

/// Prints the schema exactly as committed in `schemas/restore-plan.schema.json`.
pub fn run(_args: &Args) -> Result {
    let text = crate::plan::raw::schema_text();
    crate::cli::printer::out(&text);
    Ok(ExitStatus::Success)
}
