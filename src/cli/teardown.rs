//! `restoreplan teardown RUN`: delete the tables one run created, after
//! showing them and asking; refuse, loudly, any table the run cannot prove
//! it created.

use std::path::PathBuf;

use crate::cli::apply::{RUNS_DIR, confirm};
use crate::cli::aws::{AwsArgs, runtime};
use crate::cli::{ExitStatus, Output};
use crate::cloud::aws::AwsCloud;
use crate::exec::journal::Journal;
use crate::exec::teardown::{self, Verdict};

/// Arguments of `teardown`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The run whose tables to delete (see `restoreplan runs`).
    #[arg(value_name = "RUN")]
    pub run: String,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Where run journals live.
    #[arg(long, value_name = "DIR", default_value = RUNS_DIR, env = "RESTOREPLAN_RUNS_DIR")]
    pub runs_dir: PathBuf,
    /// AWS access.
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Runs `teardown`.
pub fn run(args: &Args, _out: Output) -> ExitStatus {
    let (journal, state) = match Journal::open(&args.runs_dir, &args.run) {
        Ok(x) => x,
        Err(e) => {
            crate::errln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => {
            crate::errln!("error: failed to start the async runtime: {e}");
            return ExitStatus::Error;
        }
    };
    let cloud = AwsCloud::new(args.aws.options());
    let items = rt.block_on(teardown::plan(&state, &cloud));
    let delete: Vec<_> = items
        .iter()
        .filter(|i| i.verdict == Verdict::Delete)
        .collect();
    let refused: Vec<_> = items
        .iter()
        .filter(|i| matches!(i.verdict, Verdict::Refuse(_)))
        .collect();
    for i in &refused {
        if let Verdict::Refuse(why) = &i.verdict {
            crate::errln!(
                "REFUSED: will not delete table `{}` in {} (restore `{}`): {why}",
                i.table,
                i.scope,
                i.id
            );
        }
    }
    if delete.is_empty() {
        crate::outln!("run {}: no table to delete", args.run);
        return if refused.is_empty() {
            ExitStatus::Valid
        } else {
            ExitStatus::Findings
        };
    }
    crate::outln!(
        "run {} created these tables; teardown deletes them:",
        args.run
    );
    for i in &delete {
        crate::outln!("  - {} in {} (restore `{}`)", i.table, i.scope, i.id);
    }
    if !args.yes {
        match confirm(&format!("delete these {} tables?", delete.len())) {
            Ok(true) => {}
            Ok(false) => {
                crate::errln!("nothing was deleted");
                return ExitStatus::Error;
            }
            Err(e) => {
                crate::errln!("error: {e}");
                return ExitStatus::Error;
            }
        }
    }
    let done = match rt.block_on(teardown::execute(&items, &cloud, &journal)) {
        Ok(d) => d,
        Err(e) => {
            crate::errln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    let mut failed = false;
    for d in &done {
        match &d.result {
            Ok(()) => crate::outln!("deleted {}", d.table),
            Err(e) => {
                failed = true;
                crate::errln!("error: failed to delete {}: {e}", d.table);
            }
        }
    }
    if failed || !refused.is_empty() {
        ExitStatus::Findings
    } else {
        ExitStatus::Valid
    }
}
