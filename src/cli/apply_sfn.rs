//! `apply` on AWS Step Functions (`--engine step-functions` or
//! `execution.engine: step-functions`): after the same checks as a local
//! run, deploy the state machine and the run's coordination items, start
//! the execution named after the run, and follow it into the same
//! progress, JSON events and report (docs/step-functions.md). `--detach`
//! returns once it started; Ctrl-C stops following, never the execution.
//! `--resume RUN` follows a running execution, or redrives one that failed
//! or was aborted.

use std::io::IsTerminal;

use crate::aws::AwsCloud;
use crate::check::warnings::AcceptedWarning;
use crate::cli::printer;
use crate::cli::run_report::{Reported, write_report};
use crate::cli::{Error, ExitStatus, Output, Result};
use crate::exec::journal::Record;
use crate::exec::journal::{Journal, RunState, RunStore};
use crate::exec::lock::RunLock;
use crate::exec::render::sinks::{LiveView, RunSinks};
use crate::exec::spec::RestoreSpec;
use crate::plan::model::Plan;
use crate::sfn::follow::{Ended, Follower};
use crate::sfn::{self, DeployOptions};

/// Seconds between looks at the execution and its items (against AWS;
/// times `--time-scale` against the emulator).
const POLL_SECONDS: f64 = 10.0;

/// The `apply` options the Step Functions engine takes.
pub(crate) struct Options {
    /// `--time-scale`.
    pub(crate) time_scale: f64,
    /// `--detach`.
    pub(crate) detach: bool,
    /// `--format json`.
    pub(crate) json: bool,
    /// `--no-progress`.
    pub(crate) no_progress: bool,
    /// `--state-machine-role`.
    pub(crate) state_machine_role: Option<String>,
}

/// A run `apply` prepared: checked, confirmed, locked and journaled.
pub(crate) struct Run {
    pub(crate) store: RunStore,
    pub(crate) lock: RunLock,
    pub(crate) plan: Plan,
    pub(crate) specs: Vec<RestoreSpec>,
    pub(crate) journal: Journal,
    pub(crate) resume: Option<RunState>,
    pub(crate) run_id: String,
    pub(crate) accepted_warnings: Vec<AcceptedWarning>,
}

/// Runs (or resumes) `p` on Step Functions; every check has passed and
/// the identities are recorded.
pub(crate) fn run(
    args: &Options,
    out: Output,
    rt: &tokio::runtime::Runtime,
    p: Run,
    cloud: &AwsCloud,
) -> Result {
    let ts = args.time_scale;
    // Ctrl-C from here on detaches (once the execution runs, it must
    // never end the process before it said how to follow again).
    let interrupts = {
        let _runtime = rt.enter();
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
            .map_err(|e| format!("cannot listen for Ctrl-C: {e}"))?
    };
    let (engine, resumed) = match p.resume.as_ref().and_then(|s| s.engine.clone()) {
        Some(engine) => {
            let execution = rt
                .block_on(sfn::execution_status(cloud, &engine, ts))
                .map_err(|e| format!("{e}; nothing was changed"))?;
            let open = p.resume.as_ref().is_some_and(|s| !s.finished)
                || p.resume
                    .as_ref()
                    .is_some_and(|s| s.restores.iter().any(|r| !r.phase.is_final()));
            if execution.status == crate::sfn::follow::NOT_STARTED {
                rt.block_on(sfn::start(cloud, &engine, ts))
                    .map_err(|e| format!("{e}; no execution was started"))?;
                p.journal
                    .append(&Record::Resumed {
                        at: crate::clock::now(),
                    })
                    .map_err(|e| Error::Message(e.to_string()))?;
                crate::errln!("started execution {}", engine.execution_arn);
            } else if execution.redrivable() && open {
                rt.block_on(sfn::redrive(cloud, &engine, ts))
                    .map_err(|e| format!("{e}; nothing was changed"))?;
                p.journal
                    .append(&Record::Redriven {
                        at: crate::clock::now(),
                    })
                    .map_err(|e| Error::Message(e.to_string()))?;
                crate::errln!(
                    "redriving execution {} ({})",
                    engine.execution_arn,
                    execution.status
                );
            } else if !execution.running() && !open {
                return Err(Error::Message(format!(
                    "run `{}` already finished (execution {}: {}); nothing to resume",
                    p.run_id, engine.execution_arn, execution.status
                )));
            } else {
                p.journal
                    .append(&Record::Resumed {
                        at: crate::clock::now(),
                    })
                    .map_err(|e| Error::Message(e.to_string()))?;
            }
            (engine, true)
        }
        None => {
            let key_schemas = rt.block_on(crate::export::key_schemas(&p.plan, cloud));
            let opts = DeployOptions {
                run_id: p.run_id.clone(),
                key_schemas,
                time_scale: ts,
                role: args.state_machine_role.clone(),
            };
            let engine = rt
                .block_on(sfn::deploy(cloud, &p.plan, &p.specs, &opts))
                .map_err(|e| {
                    // Nothing runs: the run is over before it started.
                    let _ = p.journal.append(&Record::Finished {
                        at: crate::clock::now(),
                    });
                    format!("{e}; no execution was started")
                })?;
            p.journal
                .append(&Record::Engine {
                    run: engine.clone(),
                    at: crate::clock::now(),
                })
                .map_err(|e| Error::Message(e.to_string()))?;
            rt.block_on(sfn::start(cloud, &engine, ts)).map_err(|e| {
                format!(
                    "{e}; `restoreplan apply --resume {}` starts it again",
                    p.run_id
                )
            })?;
            crate::errln!(
                "started execution {} of state machine {}",
                engine.execution_arn,
                engine.state_machine_arn
            );
            (engine, false)
        }
    };
    if args.detach {
        if !out.quiet {
            crate::outln!(
                "run {run} runs on AWS Step Functions: execution {arn}\n\
                 follow it: restoreplan apply --resume {run}\n\
                 list runs: restoreplan runs",
                run = p.run_id,
                arn = engine.execution_arn,
            );
        }
        return Ok(ExitStatus::Success);
    }
    let view = LiveView::choose(
        args.json,
        out.quiet,
        args.no_progress,
        std::io::stderr().is_terminal(),
    );
    let sink = RunSinks::new(view, printer::Stdout, printer::Stderr);
    let depends_on = p
        .resume
        .as_ref()
        .map(|s| s.header.depends_on.clone())
        .unwrap_or_else(|| {
            let g = p.plan.graph();
            (0..p.specs.len())
                .map(|i| g.dependencies(i).collect())
                .collect()
        });
    let lanes = p
        .plan
        .header()
        .execution
        .concurrency
        .clamp(1, crate::export::MAX_LANES);
    let follower = Follower {
        cloud,
        run: &engine,
        journal: &p.journal,
        sink: &sink,
        specs: &p.specs,
        depends_on: &depends_on,
        plan: p.plan.name(),
        run_id: &p.run_id,
        lanes,
        poll_seconds: POLL_SECONDS,
        time_scale: ts,
    };
    let lock = std::sync::Arc::new(std::sync::Mutex::new(p.lock));
    let ended = rt.block_on(async {
        let renewing = lock.clone();
        // The lease is renewed while this process follows: another
        // follower of the same run is refused.
        let renewal = tokio::spawn(async move {
            let period = std::time::Duration::from_millis(
                (crate::exec::lock::lease_seconds() as u64 * 250).max(250),
            );
            loop {
                tokio::time::sleep(period).await;
                let renewed = match renewing.lock() {
                    Ok(mut l) => l.renew(crate::clock::now()),
                    Err(_) => return,
                };
                if renewed.is_err() {
                    return;
                }
            }
        });
        let mut interrupts = interrupts;
        let detach = async move {
            interrupts.recv().await;
        };
        let r = follower.follow(p.resume.as_ref(), resumed, detach).await;
        renewal.abort();
        r
    })
    .map_err(|e| {
        format!(
            "{e}\nthe execution goes on without this process; follow it again: restoreplan apply --resume {}",
            p.run_id
        )
    })?;
    match ended {
        Ended::Detached => {
            crate::errln!(
                "\ndetached: execution {} goes on without this process\nfollow it again: restoreplan apply --resume {}",
                engine.execution_arn,
                p.run_id
            );
            Ok(ExitStatus::Interrupted)
        }
        Ended::Finished { execution, pending } => {
            let events = sink.take();
            let next = if pending > 0 {
                Some(format!(
                    "execution {} ended {} with {pending} restore(s) not finished{}; redrive it: restoreplan apply --resume {}",
                    engine.execution_arn,
                    execution.status,
                    execution
                        .error
                        .as_deref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default(),
                    p.run_id
                ))
            } else {
                None
            };
            if let Some(n) = &next
                && args.json
            {
                crate::errln!("{n}");
            }
            let failed = events.iter().any(|e| {
                matches!(
                    e,
                    crate::exec::Event::RestoreFailed { .. }
                        | crate::exec::Event::RestoreSkipped { .. }
                )
            }) || p.resume.as_ref().is_some_and(|s| {
                s.restores.iter().any(|r| {
                    matches!(
                        r.phase,
                        crate::exec::journal::Phase::Failed(_)
                            | crate::exec::journal::Phase::Skipped(_)
                    )
                })
            });
            write_report(
                !args.json,
                out,
                &Reported {
                    store: &p.store,
                    run_id: &p.run_id,
                    plan: &p.plan,
                    accepted_warnings: &p.accepted_warnings,
                },
                &events,
                next,
            );
            Ok(if pending > 0 {
                ExitStatus::Interrupted
            } else if failed || execution.status != "SUCCEEDED" {
                ExitStatus::Failure
            } else {
                ExitStatus::Success
            })
        }
    }
}
