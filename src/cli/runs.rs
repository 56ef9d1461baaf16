//! `restoreplan runs`: list the runs in the run store (the local journal
//! directory or a shared backend) with their states and lock holders; show
//! one run's kept report or Gantt chart.

use std::path::PathBuf;

use crate::cli::apply::RUNS_DIR;
use crate::cli::aws::AwsArgs;
use crate::cli::{ExitStatus, Output};
use crate::exec::journal::{RunState, RunStore, Unreadable, list_runs_and_unreadable};
use crate::exec::lock::{Holder, LockKey};

/// Arguments of `runs`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Where run journals live.
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

fn show_file(store: &RunStore, run: &str, name: &str) -> ExitStatus {
    match store.get_file(run, name) {
        Ok(Some(body)) => {
            crate::out!("{}", String::from_utf8_lossy(&body));
            ExitStatus::Valid
        }
        Ok(None) => {
            crate::errln!(
                "error: run `{run}` has no {name} in {} (a run keeps it once an apply of it ends)",
                store.describe()
            );
            ExitStatus::Error
        }
        Err(e) => {
            crate::errln!("error: {e}");
            ExitStatus::Error
        }
    }
}

/// Runs `runs`.
pub fn run(args: &Args, _out: Output) -> ExitStatus {
    let store = match crate::cli::state::open(None, &args.runs_dir, &args.aws) {
        Ok(s) => s,
        Err(e) => {
            crate::errln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    if let Some(run) = &args.report {
        return show_file(
            &store,
            run,
            if args.json {
                "report.json"
            } else {
                "report.txt"
            },
        );
    }
    if let Some(run) = &args.gantt {
        return show_file(&store, run, "gantt.svg");
    }
    let listed: Result<(Vec<RunState>, Vec<Unreadable>), String> = match &store {
        RunStore::Local(dir) => list_runs_and_unreadable(dir).map_err(|e| e.to_string()),
        RunStore::Objects(_) => store
            .list()
            .map(|r| (r, Vec::new()))
            .map_err(|e| e.to_string()),
    };
    let (mut runs, unreadable) = match listed {
        Ok(r) => r,
        Err(e) => {
            crate::errln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    if let Some(plan) = &args.plan {
        runs.retain(|r| &r.header.plan == plan);
    }
    let holders: Vec<Option<Holder>> = runs.iter().map(|r| holder(&store, r)).collect();
    if args.json {
        let list: Vec<serde_json::Value> = runs
            .iter()
            .zip(&holders)
            .map(|(r, h)| {
                let (c, f, s, o) = r.counts();
                serde_json::json!({
                    "run_id": r.header.run_id, "plan": r.header.plan, "status": r.status(),
                    "started_at": r.header.at, "last_activity": r.last_at,
                    "completed": c, "failed": f, "skipped": s, "unfinished": o,
                    "restores": r.restores.len(),
                    "lock": h.as_ref().map(|h| serde_json::json!({
                        "holder": format!("pid {} ({})", h.pid, h.user), "host": h.host,
                        "since": h.since, "lease_until": h.lease_until,
                    })),
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
        crate::outln!("no runs under {}", store.describe());
        return ExitStatus::Valid;
    }
    crate::outln!(
        "{:<48}  {:<12}  {:<20}  {:>9}  {:>6}  {:>7}  {:>10}  lock",
        "run",
        "status",
        "started (UTC)",
        "completed",
        "failed",
        "skipped",
        "unfinished"
    );
    for (r, h) in runs.iter().zip(&holders) {
        let (c, f, s, o) = r.counts();
        crate::outln!(
            "{:<48}  {:<12}  {:<20}  {:>9}  {:>6}  {:>7}  {:>10}  {}",
            r.header.run_id,
            r.status(),
            r.header.at.format("%Y-%m-%d %H:%M:%S"),
            c,
            f,
            s,
            o,
            match h {
                Some(h) => format!(
                    "held by pid {} ({}) on {} since {}",
                    h.pid,
                    h.user,
                    h.host,
                    h.since.format("%Y-%m-%d %H:%M:%S")
                ),
                None => "-".to_owned(),
            }
        );
    }
    ExitStatus::Valid
}
