//! `restoreplan runs`: list the runs in the journal directory and their states.

use std::path::PathBuf;

use crate::cli::apply::RUNS_DIR;
use crate::cli::{ExitStatus, Output};
use crate::exec::journal::list_runs_and_unreadable;

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
pub fn run(args: &Args, _out: Output) -> ExitStatus {
    let (runs, unreadable) = match list_runs_and_unreadable(&args.runs_dir) {
        Ok(r) => r,
        Err(e) => {
            crate::errln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    if args.json {
        let list: Vec<serde_json::Value> = runs
            .iter()
            .map(|r| {
                let (c, f, s, o) = r.counts();
                serde_json::json!({
                    "run_id": r.header.run_id, "plan": r.header.plan, "status": r.status(),
                    "started_at": r.header.at, "last_activity": r.last_at,
                    "completed": c, "failed": f, "skipped": s, "unfinished": o,
                    "restores": r.restores.len(),
                })
            })
            .collect();
        let bad: Vec<serde_json::Value> = unreadable
            .iter()
            .map(|u| serde_json::json!({"path": u.path.display().to_string(), "error": u.reason}))
            .collect();
        crate::outln!(
            "{:#}",
            serde_json::json!({"schema_version": 1, "runs": list, "unreadable": bad})
        );
        return ExitStatus::Valid;
    }
    // Folders that are not readable runs are named, not hidden.
    for u in &unreadable {
        crate::errln!(
            "warning: {} is not a readable run: {}",
            u.path.display(),
            u.reason
        );
    }
    if runs.is_empty() {
        crate::outln!("no runs under {}", args.runs_dir.display());
        return ExitStatus::Valid;
    }
    crate::outln!(
        "{:<48}  {:<12}  {:<20}  {:>9}  {:>6}  {:>7}  {:>10}",
        "run",
        "status",
        "started (UTC)",
        "completed",
        "failed",
        "skipped",
        "unfinished"
    );
    for r in &runs {
        let (c, f, s, o) = r.counts();
        crate::outln!(
            "{:<48}  {:<12}  {:<20}  {:>9}  {:>6}  {:>7}  {:>10}",
            r.header.run_id,
            r.status(),
            r.header.at.format("%Y-%m-%d %H:%M:%S"),
            c,
            f,
            s,
            o
        );
    }
    ExitStatus::Valid
}
