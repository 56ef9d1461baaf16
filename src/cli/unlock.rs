//! `restoreplan unlock RUN`: releases the locks a run holds (its plan and
//! target tables), in whichever backend it lives, after asking. For a
//! holder that is gone while its lease still runs (a machine that died),
//! so that nobody has to wait for the lease to expire. A live holder that
//! loses its lock this way notices at its next renewal and starts nothing
//! new.

use std::path::PathBuf;

use crate::cli::apply::{RUNS_DIR, confirm};
use crate::cli::aws::AwsArgs;
use crate::cli::{Error, ExitStatus, Output, Result};
use crate::exec::start::run_lock_keys;

/// Arguments of `unlock`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The run whose locks to release (see `restoreplan runs`).
    #[arg(value_name = "RUN")]
    pub run: String,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Where run journals live with the local backend (see `--state`).
    #[arg(long, value_name = "DIR", default_value = RUNS_DIR, env = "RESTOREPLAN_RUNS_DIR")]
    pub runs_dir: PathBuf,
    /// AWS access (a shared backend).
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Runs `unlock`.
pub fn run(args: &Args, _out: Output) -> Result {
    let store = crate::cli::state::open(None, &args.runs_dir, &args.aws)?;
    let state = store
        .peek(&args.run)
        .map_err(|e| Error::Message(e.to_string()))?;
    let locks = store.lock_store();
    let mut held = Vec::new();
    for key in run_lock_keys(&state.header) {
        if let Some(h) = locks
            .read(&key.key)
            .map_err(|e| Error::Message(e.to_string()))?
            && h.run_id == args.run
        {
            held.push((key, h));
        }
    }
    if held.is_empty() {
        crate::outln!("run {} holds no lock", args.run);
        return Ok(ExitStatus::Success);
    }
    let now = crate::clock::now();
    crate::outln!("run {} holds these locks:", args.run);
    for (key, h) in &held {
        crate::outln!(
            "  - {}: {}{}",
            key.what,
            h.describe(),
            if h.lease_until < now {
                " (lease expired)".to_owned()
            } else {
                format!(
                    " (lease until {})",
                    h.lease_until.format("%Y-%m-%dT%H:%M:%SZ")
                )
            }
        );
    }
    let live = held.iter().any(|(_, h)| h.lease_until >= now);
    if !args.yes {
        let question = if live {
            "release them? The lease is still running: only do this when that process is gone (its machine died); a live process stops at its next renewal"
        } else {
            "release them?"
        };
        if !confirm(question)? {
            crate::errln!("nothing was released");
            return Err(Error::Stopped);
        }
    }
    for (key, h) in &held {
        locks
            .remove(&key.key, &h.token)
            .map_err(|e| e.to_string())?;
        crate::outln!("released {}", key.what);
    }
    Ok(ExitStatus::Success)
}
