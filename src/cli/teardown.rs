//! `restoreplan teardown RUN`: delete the tables one run created, after
//! showing them and asking; refuse, loudly, any table the run cannot prove
//! it created.

use std::path::PathBuf;

use crate::cli::apply::{RUNS_DIR, confirm, lock_run, peek_run, record_takeovers};
use crate::cli::aws::{AwsArgs, runtime};
use crate::cli::{ExitStatus, Output};
use crate::cloud::aws::AwsCloud;
use crate::exec::identity;
use crate::exec::teardown::{self, Unprotect, Verdict};
use crate::plan::model::AccountId;

/// Arguments of `teardown`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The run whose tables to delete (see `restoreplan runs`).
    #[arg(value_name = "RUN")]
    pub run: String,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Also delete tables of this run whose deletion protection the run did
    /// not turn on (it is turned off first). Without it such tables are refused.
    #[arg(long)]
    pub force_unprotect: bool,
    /// Where run journals live.
    #[arg(long, value_name = "DIR", default_value = RUNS_DIR, env = "RESTOREPLAN_RUNS_DIR")]
    pub runs_dir: PathBuf,
    /// AWS access.
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Runs `teardown`.
pub fn run(args: &Args, _out: Output) -> ExitStatus {
    // Read the run (read only), then hold its lock like `apply` does: a
    // teardown while an apply or resume of the run is live is refused, and
    // a killed holder's lock is taken over. Only the holder writes the
    // journal.
    let store = match crate::cli::state::open(None, &args.runs_dir, &args.aws) {
        Ok(s) => s,
        Err(e) => {
            crate::errln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    let peek = match peek_run(&store, &args.run) {
        Ok(s) => s,
        Err(e) => {
            crate::errln!("error: {e}");
            return ExitStatus::Error;
        }
    };
    let (mut lock, takeovers) = match lock_run(&store, &args.run, &peek.header) {
        Ok(l) => l,
        Err(e) => {
            crate::errln!("error: {e}");
            crate::errln!("nothing was deleted");
            return ExitStatus::Error;
        }
    };
    let (journal, state) = match store.open(&args.run) {
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
    // The accounts this run created tables in: the credentials for each
    // must be of that account (and of the one the journal recorded) before
    // anything is asked of it; otherwise every table would look "gone".
    let accounts: Vec<AccountId> = state
        .header
        .restores
        .iter()
        .zip(&state.restores)
        .filter(|(_, r)| r.handle.is_some() && !r.deleted)
        .map(|(spec, _)| spec.target.account.clone())
        .collect();
    let verified = match rt.block_on(identity::verify(&cloud, &accounts, &state.identities)) {
        Ok(v) => v,
        Err(why) => {
            for line in why.lines() {
                crate::errln!("error: {line}");
            }
            crate::errln!("nothing was deleted");
            return ExitStatus::Error;
        }
    };
    for (account, recorded) in &verified.changed {
        if let Some((_, id)) = verified.identities.iter().find(|(a, _)| a == account) {
            crate::errln!(
                "note: account {account}: acting as {} (the run recorded {recorded})",
                id.arn
            );
        }
    }
    let items = rt.block_on(teardown::plan(&state, &cloud, args.force_unprotect));
    let delete: Vec<_> = items
        .iter()
        .filter(|i| i.verdict == Verdict::Delete)
        .collect();
    let mut refused = 0;
    let mut unseen = 0;
    for i in &items {
        match &i.verdict {
            Verdict::Refuse(why) => {
                refused += 1;
                crate::errln!(
                    "REFUSED: will not delete table `{}` in {} (restore `{}`): {why}",
                    i.table,
                    i.scope,
                    i.id
                );
            }
            Verdict::Unseen(why) => {
                unseen += 1;
                crate::errln!(
                    "error: cannot see table `{}` in {} (restore `{}`), so it is not known whether it is still there: {why}",
                    i.table,
                    i.scope,
                    i.id
                );
            }
            Verdict::Gone => crate::errln!(
                "already gone: table `{}` in {} (restore `{}`)",
                i.table,
                i.scope,
                i.id
            ),
            Verdict::Delete => {}
        }
    }
    let status_without_deletes = if unseen > 0 {
        ExitStatus::Error
    } else if refused > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Valid
    };
    if delete.is_empty() {
        if unseen == 0
            && let Err(e) = record_takeovers(&journal, &takeovers)
        {
            crate::errln!("error: {e}");
            return ExitStatus::Error;
        }
        if unseen > 0 {
            crate::errln!("run {}: nothing was deleted", args.run);
        } else {
            crate::outln!("run {}: no table to delete", args.run);
        }
        return status_without_deletes;
    }
    crate::outln!(
        "run {} created these tables; teardown deletes them:",
        args.run
    );
    for i in &delete {
        crate::outln!("  - {} in {} (restore `{}`)", i.table, i.scope, i.id);
    }
    let unprotect: Vec<_> = delete
        .iter()
        .filter(|i| i.unprotect != Unprotect::No)
        .collect();
    let forced = unprotect
        .iter()
        .filter(|i| i.unprotect == Unprotect::Forced)
        .count();
    if !unprotect.is_empty() {
        crate::outln!("and changes, before deleting:");
        for i in &unprotect {
            crate::outln!(
                "  ~ {} in {}: turn deletion protection off ({})",
                i.table,
                i.scope,
                match i.unprotect {
                    Unprotect::Forced => "--force-unprotect: this run did NOT turn it on",
                    _ => "this run turned it on",
                }
            );
        }
    }
    if !args.yes {
        let question = if forced > 0 {
            format!(
                "delete these {} tables, turning off deletion protection that this run did not turn on for {forced} of them?",
                delete.len()
            )
        } else if unprotect.is_empty() {
            format!("delete these {} tables?", delete.len())
        } else {
            format!(
                "turn off deletion protection on {} and delete these {} tables?",
                unprotect.len(),
                delete.len()
            )
        };
        match confirm(&question) {
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
    } else if forced > 0 {
        crate::errln!(
            "--force-unprotect --yes: turning off deletion protection that this run did not turn on, for {forced} table{}",
            if forced == 1 { "" } else { "s" }
        );
    }
    // The confirmation may have taken longer than the lease: still ours?
    if let Err(e) = lock.renew(crate::clock::now()) {
        crate::errln!("error: {e}");
        crate::errln!("nothing was deleted");
        return ExitStatus::Error;
    }
    if let Err(e) = record_takeovers(&journal, &takeovers) {
        crate::errln!("error: {e}");
        return ExitStatus::Error;
    }
    if let Err(e) = identity::record(&journal, &verified, &state.identities) {
        crate::errln!("error: {e}");
        return ExitStatus::Error;
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
    if unseen > 0 {
        ExitStatus::Error
    } else if failed || refused > 0 {
        ExitStatus::Findings
    } else {
        ExitStatus::Valid
    }
}
