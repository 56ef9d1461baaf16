//! `restoreplan teardown RUN`: delete the tables one run created, after
//! showing them and asking; refuse, loudly, any table the run cannot prove
//! it created.
//!
//! With `--quiet` only errors, refusals and what a question asks about are
//! printed: the list of tables is shown when it is asked about (no `--yes`),
//! and notes, tables already gone and each table deleted are not.

use std::path::PathBuf;

use crate::aws::AwsCloud;
use crate::cli::apply::{RUNS_DIR, confirm, record_takeovers};
use crate::cli::aws::{AwsArgs, runtime};
use crate::cli::{Error, ExitStatus, Output, Result};
use crate::exec::identity;
use crate::exec::start::{lock_run, peek_run};
use crate::exec::teardown::{self, Unprotect, Verdict};

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
pub fn run(args: &Args, out: Output) -> Result {
    // Read the run (read only), then hold its lock like `apply` does: a
    // teardown while an apply or resume of the run is live is refused, and
    // a killed holder's lock is taken over. Only the holder writes the
    // journal.
    let store = crate::cli::state::open(None, &args.runs_dir, &args.aws)?;
    let peek = peek_run(&store, &args.run)?;
    let (mut lock, takeovers) =
        lock_run(&store, &args.run, &peek.header).map_err(|e: String| nothing_deleted(&e))?;
    let (journal, state) = store
        .open(&args.run)
        .map_err(|e| Error::Message(e.to_string()))?;
    let rt = runtime().map_err(|e| format!("failed to start the async runtime: {e}"))?;
    let cloud = AwsCloud::new(args.aws.options());
    // The credentials for each account must be of that account (and of the
    // one the journal recorded) before anything is asked of it.
    let mut accounts = teardown::accounts(&state);
    accounts.extend(teardown::copy_accounts(&state));
    accounts.sort();
    accounts.dedup();
    let verified = rt
        .block_on(identity::verify(&cloud, &accounts, &state.identities))
        .map_err(|why| {
            for line in why.lines() {
                crate::errln!("error: {line}");
            }
            crate::errln!("nothing was deleted");
            Error::Stopped
        })?;
    for (account, recorded) in verified.changed.iter().filter(|_| !out.quiet) {
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
    let leftovers: Vec<_> = items
        .iter()
        .filter(|i| i.verdict == Verdict::Leftovers)
        .collect();
    let copies = rt.block_on(teardown::plan_copies(&state, &cloud));
    let delete_copies: Vec<_> = copies
        .iter()
        .filter(|c| c.verdict == Verdict::Delete)
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
            Verdict::Gone if !out.quiet => crate::errln!(
                "already gone: table `{}` in {} (restore `{}`)",
                i.table,
                i.scope,
                i.id
            ),
            Verdict::Gone => {}
            Verdict::Delete | Verdict::Leftovers => {}
        }
    }
    for c in &copies {
        match &c.verdict {
            Verdict::Refuse(why) => {
                refused += 1;
                crate::errln!(
                    "REFUSED: will not delete recovery point {} in vault `{}` in {} (restore `{}`): {why}",
                    c.arn,
                    c.vault,
                    c.scope,
                    c.id
                );
            }
            Verdict::Unseen(why) => {
                unseen += 1;
                crate::errln!(
                    "error: cannot see recovery point {} in vault `{}` in {} (restore `{}`), so it is not known whether it is still there: {why}",
                    c.arn,
                    c.vault,
                    c.scope,
                    c.id
                );
            }
            Verdict::Gone if !out.quiet => crate::errln!(
                "already gone: recovery point {} in vault `{}` in {} (restore `{}`)",
                c.arn,
                c.vault,
                c.scope,
                c.id
            ),
            Verdict::Gone | Verdict::Delete | Verdict::Leftovers => {}
        }
    }
    if delete.is_empty() && delete_copies.is_empty() && leftovers.is_empty() {
        if unseen > 0 {
            crate::errln!("run {}: nothing was deleted", args.run);
            return Err(Error::Stopped);
        }
        record_takeovers(&journal, &takeovers)?;
        if !out.quiet {
            crate::outln!("run {}: no table to delete", args.run);
        }
        return Ok(if refused > 0 {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        });
    }
    // What a question asks about is shown even with --quiet.
    let show = !out.quiet || !args.yes;
    if show && !delete.is_empty() {
        crate::outln!(
            "run {} created these tables; teardown deletes them:",
            args.run
        );
        for i in &delete {
            crate::outln!("  - {} in {} (restore `{}`)", i.table, i.scope, i.id);
        }
    }
    if show && !leftovers.is_empty() {
        crate::outln!(
            "an earlier teardown of run {} deleted these tables and stopped before removing what the run created for them; teardown removes it:",
            args.run
        );
        for i in &leftovers {
            crate::outln!(
                "  - {} in {} (restore `{}`): {}",
                i.table,
                i.scope,
                i.id,
                i.settings
                    .iter()
                    .map(|c| c.operation())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    if show && !delete_copies.is_empty() {
        crate::outln!(
            "run {} copied these recovery points; teardown deletes them:",
            args.run
        );
        for c in &delete_copies {
            crate::outln!(
                "  - {} in vault `{}` in {} (restore `{}`)",
                c.arn,
                c.vault,
                c.scope,
                c.id
            );
        }
    }
    let unprotect: Vec<_> = delete
        .iter()
        .filter(|i| i.unprotect != Unprotect::No)
        .collect();
    let forced = unprotect
        .iter()
        .filter(|i| i.unprotect == Unprotect::Forced)
        .count();
    if show && !unprotect.is_empty() {
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
        let question = match (delete.len(), delete_copies.len()) {
            (_, 0) => question,
            (0, n) => format!("delete these {n} copied recovery points?"),
            (_, n) => format!(
                "{} and the {n} copied recovery points?",
                question.trim_end_matches('?')
            ),
        };
        let question = match (delete.len() + delete_copies.len(), leftovers.len()) {
            (_, 0) => question,
            (0, n) => format!("remove what the run created for these {n} deleted tables?"),
            (_, n) => format!(
                "{}, and remove what the run created for the {n} tables already deleted?",
                question.trim_end_matches('?')
            ),
        };
        if !confirm(&question)? {
            crate::errln!("nothing was deleted");
            return Err(Error::Stopped);
        }
    } else if forced > 0 {
        crate::errln!(
            "--force-unprotect --yes: turning off deletion protection that this run did not turn on, for {forced} table{}",
            if forced == 1 { "" } else { "s" }
        );
    }
    // The confirmation may have taken longer than the lease: still ours?
    lock.renew(crate::clock::now())
        .map_err(|e| nothing_deleted(&e.to_string()))?;
    record_takeovers(&journal, &takeovers)?;
    identity::record(&journal, &verified, &state.identities)
        .map_err(|e| Error::Message(e.to_string()))?;
    let mut done = rt
        .block_on(teardown::execute(&items, &cloud, &journal))
        .map_err(|e| Error::Message(e.to_string()))?;
    // Copies after the tables restored from them.
    done.extend(
        rt.block_on(teardown::execute_copies(&copies, &cloud, &journal))
            .map_err(|e| Error::Message(e.to_string()))?,
    );
    let mut failed = false;
    for d in &done {
        match &d.result {
            Ok(()) if out.quiet => {}
            Ok(()) => {
                if !d.leftovers {
                    crate::outln!("deleted {}", d.table);
                }
                for r in &d.removed {
                    crate::outln!("removed for {}: {r}", d.table);
                }
            }
            Err(e) => {
                failed = true;
                crate::errln!("error: failed to delete {}: {e}", d.table);
            }
        }
    }
    if unseen > 0 {
        Err(Error::Stopped)
    } else if failed || refused > 0 {
        Ok(ExitStatus::Failure)
    } else {
        Ok(ExitStatus::Success)
    }
}

/// A reason to stop before anything was deleted: `error: WHY`, then
/// `nothing was deleted`.
fn nothing_deleted(why: &str) -> Error {
    crate::errln!("error: {why}");
    crate::errln!("nothing was deleted");
    Error::Stopped
}
