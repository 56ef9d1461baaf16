//! What `apply` and `teardown` do to a run before any work starts: take
//! the run lock, read a run without holding it, check that a resumed plan
//! still resolves to what the run recorded, choose the restores a retry
//! starts again, and write the run header.
//!
//! Nothing here prints: each function returns what happened (takeovers,
//! retries) or why it refused, and the command line says so.

use std::path::Path;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::check::warnings::AcceptedWarning;
use crate::exec::journal::{Journal, Phase, Record, RunHeader, RunState, RunStore};
use crate::exec::lock::{Holder, LockKey, RunLock, Takeover};
use crate::exec::spec::RestoreSpec;
use crate::plan::fingerprint;
use crate::plan::model::{OnFailure, Plan};

/// The SHA-256 of a plan file, as the run header records it.
pub fn digest(path: &Path) -> Result<String, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("failed to read {}: {e}", path.display()))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// Refuses to resume `run_id` with a plan that would do something else
/// than the run recorded, and says what changed. Comments, formatting and
/// a new path are not changes.
pub fn resume_matches(
    path: &Path,
    run_id: &str,
    header: &RunHeader,
    plan: &Plan,
) -> Result<(), String> {
    let changed = match &header.fingerprint {
        Some(was) => fingerprint::changes(was, &fingerprint::of(plan)),
        // Runs recorded before fingerprints: the file's bytes, then the count.
        None => match &header.plan_digest {
            Some(want) if &digest(path)? != want => {
                vec!["the file differs from the one the run started with".to_owned()]
            }
            _ if plan.restores().len() != header.restores.len() => {
                vec!["the number of restores differs".to_owned()]
            }
            _ => Vec::new(),
        },
    };
    if changed.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} no longer resolves to what run `{run_id}` started with:\n{}\nresume with the plan as it was, or start a new run",
        path.display(),
        changed
            .iter()
            .map(|c| format!("  - {c}"))
            .collect::<Vec<_>>()
            .join("\n")
    ))
}

/// Acquires the run lock on `keys` for `run_id` in the run store (the
/// runs directory or a shared backend).
pub fn acquire(
    store: &RunStore,
    run_id: &str,
    keys: Vec<LockKey>,
) -> Result<(RunLock, Vec<Takeover>), String> {
    let now = crate::clock::now();
    RunLock::acquire(
        store.lock_store(),
        keys,
        Holder::this_process(run_id, now),
        now,
    )
    .map_err(|e| e.to_string())
}

/// The lock of a new run of `plan`: the plan and every target table.
pub fn lock_plan(
    store: &RunStore,
    run_id: &str,
    plan: &Plan,
) -> Result<(RunLock, Vec<Takeover>), String> {
    let mut keys = vec![LockKey::plan(plan.name())];
    keys.extend(plan.restores().iter().map(|r| {
        LockKey::table(
            r.target.location.account.as_str(),
            r.target.location.region.as_str(),
            &r.target_name,
        )
    }));
    acquire(store, run_id, keys)
}

/// The lock of an existing run (resumed or torn down): its plan and every
/// target it records.
pub fn lock_run(
    store: &RunStore,
    run_id: &str,
    header: &RunHeader,
) -> Result<(RunLock, Vec<Takeover>), String> {
    acquire(store, run_id, run_lock_keys(header))
}

/// The locks a run holds while a process works on it: its plan and every
/// target it records.
pub fn run_lock_keys(header: &RunHeader) -> Vec<LockKey> {
    let mut keys = vec![LockKey::plan(&header.plan)];
    keys.extend(header.restores.iter().map(|r| {
        LockKey::table(
            r.target.account.as_str(),
            r.target.region.as_str(),
            &r.target_name,
        )
    }));
    keys
}

/// The state of run `run_id` as its journal shows it, read only (opening for
/// appending cuts a torn last line, which may be a live holder's line being
/// written): what a command reads before it holds the run lock.
pub fn peek_run(store: &RunStore, run_id: &str) -> Result<RunState, String> {
    store.peek(run_id).map_err(|e| e.to_string())
}

/// What a takeover note says: `took over the lock `KEY` from HOLDER, which
/// is no longer running`.
pub fn takeover_note(t: &Takeover) -> String {
    format!(
        "took over the lock `{}` from {}, which is no longer running",
        t.key,
        t.previous.describe()
    )
}

/// Journals the stale locks this process took over.
pub fn record_takeovers(journal: &Journal, takeovers: &[Takeover]) -> Result<(), String> {
    for t in takeovers {
        journal
            .append(&Record::LockTakenOver {
                key: t.key.clone(),
                previous: t.previous.clone(),
                at: crate::clock::now(),
            })
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Which restores of a finished run to start again.
#[derive(Debug, Clone, Copy)]
pub enum Retry<'a> {
    /// Every failed and skipped restore (`--retry-failed`).
    Failed,
    /// These failed or skipped restores, with the restores skipped because
    /// of them (`--retry ID…`).
    Ids(&'a [String]),
}

/// The failed or skipped restores a retry starts again (plan indices, in
/// order); writes nothing.
pub fn retry_choice(state: &RunState, which: Retry<'_>) -> Result<Vec<usize>, String> {
    let specs = &state.header.restores;
    let n = specs.len();
    let retryable = |r: &crate::exec::journal::RestoreState| {
        matches!(r.phase, Phase::Failed(_) | Phase::Skipped(_))
    };
    let mut chosen = vec![false; n];
    match which {
        Retry::Failed => {
            for (i, r) in state.restores.iter().enumerate() {
                chosen[i] = retryable(r);
            }
        }
        Retry::Ids(ids) => {
            for id in ids {
                let Some(i) = specs.iter().position(|s| &s.id == id) else {
                    return Err(format!(
                        "run `{}` has no restore `{id}`",
                        state.header.run_id
                    ));
                };
                if !retryable(&state.restores[i]) {
                    return Err(format!(
                        "restore `{id}` of run `{}` is {}; only failed or skipped restores can be retried",
                        state.header.run_id,
                        state.restores[i].phase.name()
                    ));
                }
                chosen[i] = true;
            }
            // The restores skipped because of a retried one come along.
            let mut changed = true;
            while changed {
                changed = false;
                for i in 0..n {
                    if !chosen[i]
                        && matches!(state.restores[i].phase, Phase::Skipped(_))
                        && state.header.depends_on[i].iter().any(|&d| chosen[d])
                    {
                        chosen[i] = true;
                        changed = true;
                    }
                }
            }
        }
    }
    if !chosen.iter().any(|c| *c) {
        return Err(format!(
            "run `{}` has no failed or skipped restore to retry",
            state.header.run_id
        ));
    }
    if state.header.on_failure == OnFailure::Stop
        && let Some(i) =
            (0..n).find(|&i| !chosen[i] && matches!(state.restores[i].phase, Phase::Failed(_)))
    {
        return Err(format!(
            "restore `{}` failed too and on_failure is stop, so the run would stop again; retry it as well (or use --retry-failed)",
            specs[i].id
        ));
    }
    Ok((0..n).filter(|&i| chosen[i]).collect())
}

/// Journals a new attempt of each restore in `chosen`; returns each
/// restore's id with the attempt number people count (1 is the first).
pub fn record_retries(
    journal: &Journal,
    state: &mut RunState,
    chosen: &[usize],
) -> Result<Vec<(String, u32)>, String> {
    let at = crate::clock::now();
    let mut started = Vec::with_capacity(chosen.len());
    for &i in chosen {
        let attempt = state.restores[i].attempt + 1;
        journal
            .append_to(
                state,
                &Record::Retry {
                    index: i,
                    attempt,
                    at,
                },
            )
            .map_err(|e| e.to_string())?;
        started.push((state.header.restores[i].id.clone(), attempt + 1));
    }
    Ok(started)
}

/// The header of a new run of `plan` (read from `path`) with `specs`,
/// starting at `at`.
pub fn run_header(
    run_id: &str,
    plan: &Plan,
    path: &Path,
    specs: &[RestoreSpec],
    accepted_warnings: Vec<AcceptedWarning>,
    at: DateTime<Utc>,
) -> Result<RunHeader, String> {
    Ok(RunHeader {
        run_id: run_id.to_owned(),
        plan: plan.name().to_owned(),
        plan_path: std::fs::canonicalize(path)
            .ok()
            .map(|p| p.display().to_string()),
        plan_digest: Some(digest(path)?),
        fingerprint: Some(fingerprint::of(plan)),
        concurrency: plan.header().execution.concurrency,
        on_failure: plan.header().execution.on_failure,
        depends_on: (0..specs.len())
            .map(|i| plan.graph().dependencies(i).collect())
            .collect(),
        restores: specs.to_vec(),
        at,
        accepted_warnings,
        selections: Vec::new(),
    })
}
