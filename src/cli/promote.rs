//! `restoreplan promote RUN [--restore ID…]`: the step after a real
//! failover, when a run's restored tables become production. Each table
//! is journaled as promoted (first), tagged `restoreplan:promoted` and has
//! deletion protection turned on; teardown refuses a promoted table,
//! always. Running it again completes what an interrupted promote left.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::aws::AwsCloud;
use crate::cli::apply::{RUNS_DIR, confirm};
use crate::cli::aws::{AwsArgs, runtime};
use crate::cli::{Error, ExitStatus, Output, Result};
use crate::cloud::{CloudRead, CloudWrite, TableChange};
use crate::exec::identity;
use crate::exec::journal::{Phase, Record};
use crate::exec::spec::{PROMOTED_TAG, RUN_TAG};
use crate::exec::start::{lock_run, peek_run, record_takeovers, takeover_note};
use crate::plan::model::AccountId;

/// Arguments of `promote`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The run whose tables become production (see `restoreplan runs`).
    #[arg(value_name = "RUN")]
    pub run: String,
    /// Only these restores (ids); default: every completed restore of the run.
    #[arg(long = "restore", value_name = "ID", num_args = 1..)]
    pub restores: Vec<String>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Where run journals live with the local backend (see `--state`).
    #[arg(long, value_name = "DIR", default_value = RUNS_DIR, env = "RESTOREPLAN_RUNS_DIR")]
    pub runs_dir: PathBuf,
    /// AWS access.
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Runs `promote`.
pub fn run(args: &Args, _out: Output) -> Result {
    run_inner(args).map_err(|e| match e {
        Error::Message(m) => Error::Message(format!("{m}\nnothing more was promoted")),
        other => other,
    })
}

fn run_inner(args: &Args) -> Result {
    let store = crate::cli::state::open(None, &args.runs_dir, &args.aws)?;
    let peek = peek_run(&store, &args.run)?;
    // Hold the run's lock: no apply, resume or teardown of it meanwhile.
    let (mut lock, takeovers) = lock_run(&store, &args.run, &peek.header)?;
    let (journal, state) = store.open(&args.run).map_err(|e| e.to_string())?;
    let specs = &state.header.restores;
    let chosen: Vec<usize> = if args.restores.is_empty() {
        (0..specs.len())
            .filter(|&i| state.restores[i].phase == Phase::Completed && !state.restores[i].deleted)
            .collect()
    } else {
        let mut v = Vec::new();
        for id in &args.restores {
            let i = specs
                .iter()
                .position(|s| &s.id == id)
                .ok_or_else(|| format!("run `{}` has no restore `{id}`", args.run))?;
            v.push(i);
        }
        v.sort();
        v.dedup();
        v
    };
    for &i in &chosen {
        let r = &state.restores[i];
        if r.deleted {
            return Err(Error::Message(format!(
                "restore `{}` of run `{}`: teardown deleted its table",
                specs[i].id, args.run
            )));
        }
        if r.phase != Phase::Completed {
            return Err(Error::Message(format!(
                "restore `{}` of run `{}` is {}; only a completed restore can be promoted",
                specs[i].id,
                args.run,
                r.phase.name()
            )));
        }
    }
    if chosen.is_empty() {
        return Err(Error::Message(format!(
            "run `{}` has no completed restore to promote",
            args.run
        )));
    }
    let rt = runtime().map_err(|e| format!("failed to start the async runtime: {e}"))?;
    let cloud = AwsCloud::new(args.aws.options());
    let accounts: Vec<AccountId> = chosen
        .iter()
        .map(|&i| specs[i].target.account.clone())
        .collect();
    let verified = rt.block_on(identity::verify(&cloud, &accounts, &state.identities))?;
    // Each table must still be the one this run created.
    for &i in &chosen {
        let spec = &specs[i];
        let t = rt
            .block_on(cloud.describe_table(&spec.target, &spec.target_name))
            .map_err(|e| format!("cannot describe table `{}`: {e}", spec.target_name))?
            .ok_or_else(|| {
                format!(
                    "table `{}` in {} (restore `{}`) no longer exists",
                    spec.target_name, spec.target, spec.id
                )
            })?;
        let tags = rt
            .block_on(cloud.table_tags(&spec.target, &t.arn))
            .map_err(|e| format!("cannot read the tags of `{}`: {e}", spec.target_name))?;
        if tags.get(RUN_TAG) != Some(&args.run) {
            return Err(Error::Message(format!(
                "table `{}` in {} is not tagged {RUN_TAG}={}: it is not this run's table",
                spec.target_name, spec.target, args.run
            )));
        }
    }
    crate::outln!(
        "run {}: these tables become production (tag {PROMOTED_TAG}, deletion protection on; teardown will refuse them):",
        args.run
    );
    for &i in &chosen {
        crate::outln!(
            "  * {} in {} (restore `{}`)",
            specs[i].target_name,
            specs[i].target,
            specs[i].id
        );
    }
    if !args.yes && !confirm(&format!("promote these {} tables?", chosen.len()))? {
        crate::errln!("nothing was promoted");
        return Err(Error::Stopped);
    }
    lock.renew(crate::clock::now()).map_err(|e| e.to_string())?;
    for t in &takeovers {
        crate::errln!("note: {}", takeover_note(t));
    }
    record_takeovers(&journal, &takeovers)?;
    identity::record(&journal, &verified, &state.identities).map_err(|e| e.to_string())?;
    let at = crate::clock::now();
    for &i in &chosen {
        let spec = &specs[i];
        // Journal first: from here on teardown refuses the table, even if
        // the calls below fail half-way.
        if !state.restores[i].promoted {
            journal
                .append(&Record::Promoted { index: i, at })
                .map_err(|e| e.to_string())?;
        }
        let tags = BTreeMap::from([(PROMOTED_TAG.to_owned(), at.to_rfc3339())]);
        rt.block_on(cloud.change_table(
            &spec.target,
            &spec.target_name,
            &TableChange::Tags { tags },
        ))
        .map_err(|e| {
            format!(
                "tagging `{}` failed: {e}; run promote again",
                spec.target_name
            )
        })?;
        rt.block_on(cloud.change_table(
            &spec.target,
            &spec.target_name,
            &TableChange::DeletionProtection { enabled: true },
        ))
        .map_err(|e| {
            format!(
                "turning on deletion protection of `{}` failed: {e}; run promote again",
                spec.target_name
            )
        })?;
        crate::outln!("promoted {}", spec.target_name);
    }
    Ok(ExitStatus::Success)
}
