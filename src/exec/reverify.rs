//! `restoreplan verify RUN`: the verification of a finished run, again,
//! from its journal alone (local or shared run-state backend, any machine):
//! the same checks as `apply` ran after each restore's settings, the same
//! report to AWS Backup for restore jobs. Nothing is written to the
//! journal and no table is changed.

use serde::Serialize;

use super::events::{Check, EventSink};
use super::journal::{Phase, RunState};
use super::runner::data_checks::Verification;
use super::runner::{ExecOptions, Executor, RunInput};
use super::{Clock, Journal};
use crate::cloud::CloudWrite;
use crate::exec::policy::StopSignal;
use crate::graph::DependencyGraph;
use crate::plan::model::NodeRef;

/// How one restore came out of `verify RUN`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Verdict {
    /// Every check passed.
    Passed {
        /// The checks.
        checks: Vec<Check>,
    },
    /// A check failed.
    Failed {
        /// The checks.
        checks: Vec<Check>,
    },
    /// The table could not be read.
    Error {
        /// Why.
        cause: String,
    },
    /// There is nothing to verify: the run never had this restore's table.
    NotVerified {
        /// Why.
        reason: String,
    },
    /// The command was interrupted first.
    Interrupted,
}

/// One restore of `verify RUN`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reverified {
    /// Restore id.
    pub id: String,
    /// Target table.
    pub table: String,
    /// The outcome.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// What `verify RUN` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reverification {
    /// Run id.
    pub run_id: String,
    /// Every restore asked for, in plan order.
    pub restores: Vec<Reverified>,
}

impl Reverification {
    /// True when every restore verified passed (and none was interrupted
    /// or unreadable). Restores with nothing to verify do not count.
    pub fn passed(&self) -> bool {
        self.restores.iter().all(|r| {
            matches!(
                r.verdict,
                Verdict::Passed { .. } | Verdict::NotVerified { .. }
            )
        })
    }
}

/// The restores `only` names (ids; every restore when empty), each with
/// why it cannot be verified, if it cannot. `Err` names an unknown id.
pub fn choose(state: &RunState, only: &[String]) -> Result<Vec<(usize, Option<String>)>, String> {
    let specs = &state.header.restores;
    for id in only {
        if !specs.iter().any(|s| &s.id == id) {
            let known: Vec<&str> = specs.iter().map(|s| s.id.as_str()).collect();
            return Err(format!(
                "run {} has no restore `{id}`; its restores are: {}",
                state.header.run_id,
                known.join(", ")
            ));
        }
    }
    Ok(specs
        .iter()
        .enumerate()
        .filter(|(_, s)| only.is_empty() || only.contains(&s.id))
        .map(|(i, _)| {
            let r = &state.restores[i];
            let why = if r.deleted {
                Some("teardown deleted its table".to_owned())
            } else if r.active_at.is_none() {
                Some(match &r.phase {
                    Phase::Skipped(c) => format!("it was skipped ({c})"),
                    Phase::Failed(c) => format!("it failed before its table was ACTIVE ({c})"),
                    p => format!("its table never became ACTIVE in this run ({})", p.name()),
                })
            } else {
                None
            };
            (i, why)
        })
        .collect())
}

/// Runs the verification of the restores `only` of the run `state` again,
/// emitting `verified` and `validation-reported` events into `events`.
/// `opts` supplies the time scale and retries; `stop` interrupts.
pub async fn run(
    cloud: &dyn CloudWrite,
    clock: &dyn Clock,
    events: &dyn EventSink,
    state: &RunState,
    only: &[String],
    opts: ExecOptions,
    stop: StopSignal,
) -> Result<Reverification, String> {
    let chosen = choose(state, only)?;
    let header = &state.header;
    let nodes: Vec<NodeRef> = header
        .restores
        .iter()
        .map(|s| NodeRef {
            id: s.id.clone(),
            depends_on: Vec::new(),
            spans: Default::default(),
        })
        .collect();
    let graph = DependencyGraph::build_from(&nodes)
        .map_err(|_| "the run's restores do not form a graph".to_owned())?;
    let journal = Journal::memory();
    let exec = Executor::new(cloud, clock, events, &journal, stop, opts);
    let input = RunInput {
        run_id: &header.run_id,
        plan: &header.plan,
        graph: &graph,
        specs: &header.restores,
        resume: Some(state),
        started_at: Some(header.at),
    };
    let todo: Vec<usize> = chosen
        .iter()
        .filter(|(_, why)| why.is_none())
        .map(|(i, _)| *i)
        .collect();
    let mut done = exec.verify_again(input, state, &todo).await;
    let restores = chosen
        .into_iter()
        .map(|(i, why)| {
            let spec = &header.restores[i];
            let verdict = match why {
                Some(reason) => Verdict::NotVerified { reason },
                None => match done
                    .iter()
                    .position(|(k, _)| *k == i)
                    .map(|p| done.swap_remove(p).1)
                {
                    Some(Some(Verification::Checks(checks))) => {
                        if checks.iter().all(|c| c.passed) {
                            Verdict::Passed { checks }
                        } else {
                            Verdict::Failed { checks }
                        }
                    }
                    Some(Some(Verification::Failed { cause, .. })) => Verdict::Error { cause },
                    _ => Verdict::Interrupted,
                },
            };
            Reverified {
                id: spec.id.clone(),
                table: spec.target_name.clone(),
                verdict,
            }
        })
        .collect();
    Ok(Reverification {
        run_id: header.run_id.clone(),
        restores,
    })
}

impl Reverification {
    /// The text report: each restore, each check with its evidence.
    pub fn render_text(&self) -> String {
        let mut out = format!("verification of run {}\n", self.run_id);
        for r in &self.restores {
            let (mark, what) = match &r.verdict {
                Verdict::Passed { .. } => ("✓", "passed".to_owned()),
                Verdict::Failed { checks } => (
                    "✗",
                    format!(
                        "failed ({} of {} checks)",
                        checks.iter().filter(|c| !c.passed).count(),
                        checks.len()
                    ),
                ),
                Verdict::Error { cause } => ("✗", format!("not verified: {cause}")),
                Verdict::NotVerified { reason } => ("-", format!("nothing to verify: {reason}")),
                Verdict::Interrupted => ("…", "interrupted".to_owned()),
            };
            out.push_str(&format!("{mark} {} ({}): {what}\n", r.id, r.table));
            if let Verdict::Passed { checks } | Verdict::Failed { checks } = &r.verdict {
                out.push_str(&super::render::checks_text(checks, "    "));
            }
        }
        let failed = self
            .restores
            .iter()
            .filter(|r| matches!(r.verdict, Verdict::Failed { .. } | Verdict::Error { .. }))
            .count();
        out.push_str(&if failed == 0 && self.passed() {
            "every verified restore passed\n".to_owned()
        } else {
            format!("{failed} restore(s) failed verification\n")
        });
        out
    }
}
