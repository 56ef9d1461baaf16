//! `restoreplan runs`: list the runs in the run store (the local journal
//! directory or a shared backend) with their states and lock holders; show
//! one run's kept report or Gantt chart.
//!
//! The listing is the command's result and is printed even with `--quiet`;
//! the warnings about folders that are not readable runs are not.

use std::path::PathBuf;

use crate::cli::apply::RUNS_DIR;
use crate::cli::aws::AwsArgs;
use crate::cli::{Error, ExitStatus, Output, Result};
use crate::exec::journal::{RunState, RunStore, list_runs_and_unreadable};
use crate::exec::lock::{Holder, LockKey};
use crate::report;

/// Arguments of `runs`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Where run journals live with the local backend (see `--state`).
    #[arg(long, value_name = "DIR", default_value = RUNS_DIR, env = "RESTOREPLAN_RUNS_DIR")]
    pub runs_dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Only the runs of this plan (by the plan's `name`).
    #[arg(long, value_name = "NAME")]
    pub plan: Option<String>,
    /// Print the report kept with this run (`report.txt`; with --json, `report.json`).
    #[arg(long, value_name = "RUN", conflicts_with = "gantt")]
    pub report: Option<String>,
    /// Print the Gantt chart (SVG) kept with this run.
    #[arg(long, value_name = "RUN")]
    pub gantt: Option<String>,
    /// AWS access (a shared backend).
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// The holder of `run`'s plan lock, when it is `run` that holds it.
fn holder(store: &RunStore, run: &RunState) -> Option<Holder> {
    let key = LockKey::plan(&run.header.plan);
    store
        .lock_store()
        .read(&key.key)
        .ok()
        .flatten()
        .filter(|h| h.run_id == run.header.run_id)
}

fn show_file(store: &RunStore, run: &str, name: &str) -> Result {
    match store.get_file(run, name)? {
        Some(body) => {
            crate::cli::printer::out(&String::from_utf8_lossy(&body));
            Ok(ExitStatus::Success)
        }
        None => Err(Error::Message(format!(
            "run `{run}` has no {name} in {} (a run keeps it once an apply of it ends)",
            store.describe()
        ))),
    }
}

/// Runs `runs`.
pub fn run(args: &Args, out: Output) -> Result {
    let store = crate::cli::state::open(None, &args.runs_dir, &args.aws)?;
    if let Some(run) = &args.report {
        let name = if args.json {
            "report.json"
        } else {
            "report.txt"
        };
        return show_file(&store, run, name);
    }
    if let Some(run) = &args.gantt {
        return show_file(&store, run, "gantt.svg");
    }
    let (mut runs, unreadable) = match &store {
        RunStore::Local(dir) => list_runs_and_unreadable(dir),
        RunStore::Objects(_) => store.list().map(|r| (r, Vec::new())),
    }
    .map_err(|e| Error::Message(e.to_string()))?;
    if let Some(plan) = &args.plan {
        runs.retain(|r| &r.header.plan == plan);
    }
    let locks: Vec<Option<Holder>> = runs.iter().map(|r| holder(&store, r)).collect();
    if args.json {
        crate::cli::printer::out(&report::runs::json(&runs, &locks, &unreadable));
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
            crate::outln!("no runs under {}", store.describe());
        }
        return Ok(ExitStatus::Success);
    }
    crate::cli::printer::out(&report::runs::table(&runs, &locks));
    Ok(ExitStatus::Success)
}
