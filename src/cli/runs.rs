//! `restoreplan runs`: list the runs in the journal directory and their states.
//!
//! The listing is the command's result and is printed even with `--quiet`;
//! the warnings about folders that are not readable runs are not.

use std::path::PathBuf;

use crate::cli::apply::RUNS_DIR;
use crate::cli::{Error, ExitStatus, Output, Result};
use crate::exec::journal::list_runs_and_unreadable;
use crate::report;

/// Arguments of `runs`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Where run journals live.
    #[arg(long, value_name = "DIR", default_value = RUNS_DIR, env = "RESTOREPLAN_RUNS_DIR")]
    pub runs_dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `runs`.
pub fn run(args: &Args, out: Output) -> Result {
    let (runs, unreadable) =
        list_runs_and_unreadable(&args.runs_dir).map_err(|e| Error::Message(e.to_string()))?;
    if args.json {
        crate::cli::printer::out(&report::runs::json(&runs, &unreadable));
        return Ok(ExitStatus::Success);
    }
    // Folders that are not readable runs are named, not hidden.
    for u in unreadable.iter().filter(|_| !out.quiet) {
        crate::errln!(
            "warning: {} is not a readable run: {}",
            u.path.display(),
            u.reason
        );
    }
    if runs.is_empty() {
        if !out.quiet {
            crate::outln!("no runs under {}", args.runs_dir.display());
        }
        return Ok(ExitStatus::Success);
    }
    crate::cli::printer::out(&report::runs::table(&runs));
    Ok(ExitStatus::Success)
}
