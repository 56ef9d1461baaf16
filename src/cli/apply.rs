//! `restoreplan apply PLAN` and `apply --resume RUN`: resolve the plan
//! against AWS, confirm, and run the DAG executor with a crash-safe journal
//! under `.restoreplan/runs/RUN/`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use crate::aws::AwsCloud;
use crate::check::live::{self, LiveOptions};
use crate::check::warnings::{self, AcceptedWarning};
use crate::cli::aws::{AwsArgs, runtime};
use crate::cli::printer;
use crate::cli::{CompileArgs, Error, ExitStatus, Output, Result, load_or_report};
use crate::diff::{DryRun, stale};
use crate::exec::identity;
use crate::exec::journal::{Journal, RunState, RunStore};
use crate::exec::lock::{RunLock, Takeover};
use crate::exec::policy::stop_pair;
use crate::exec::render::sinks::{LiveView, RunSinks};
use crate::exec::runner::DEFAULT_REQUESTS_PER_SECOND;
use crate::exec::spec::{RestoreSpec, new_run_id};
use crate::exec::start::{self, Retry};
use crate::exec::{Clock, ExecOptions, Executor, RunInput, TokioClock};
use crate::plan::model::{AccountId, Plan};
use crate::report::findings;

/// Default directory of run journals.
pub const RUNS_DIR: &str = ".restoreplan/runs";

/// Arguments of `apply`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The plan file (with `--resume`, defaults to the path the run recorded).
    #[arg(value_name = "PLAN", required_unless_present = "resume")]
    pub plan: Option<PathBuf>,
    /// Continue a run that was interrupted or killed.
    #[arg(long, value_name = "RUN", conflicts_with = "plan_file")]
    pub resume: Option<String>,
    /// With --resume: start the run's failed and skipped restores again
    /// (new idempotency tokens; completed restores are not touched).
    #[arg(long, requires = "resume")]
    pub retry_failed: bool,
    /// With --resume: start these failed or skipped restores again, with
    /// the restores skipped because of them.
    #[arg(long, value_name = "ID", num_args = 1.., requires = "resume", conflicts_with = "retry_failed")]
    pub retry: Vec<String>,
    /// The reviewed plan saved by `restoreplan plan --out`: refuse to start
    /// when what AWS resolves now (recovery points, keys, target tables,
    /// requests) differs from it.
    #[arg(long, value_name = "SAVED.json")]
    pub plan_file: Option<PathBuf>,
    /// Start even though these warnings change what is restored (codes in
    /// full or without `restoreplan::`, e.g. `recovery_point::other_table`);
    /// without them such warnings stop `apply` before anything starts.
    #[arg(long, value_name = "CODE", num_args = 1.., value_delimiter = ',', conflicts_with = "resume")]
    pub accept_warnings: Vec<String>,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// What to print while running.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// No progress bars, even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
    /// Where run journals live with the local backend (see `--state`).
    #[arg(long, value_name = "DIR", default_value = RUNS_DIR, env = "RESTOREPLAN_RUNS_DIR")]
    pub runs_dir: PathBuf,
    /// Cap on AWS calls per second across the run, the checks before it included.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_REQUESTS_PER_SECOND)]
    pub max_requests_per_second: f64,
    /// For the local emulator only: multiply every poll and retry wait by
    /// this factor, for an emulator that runs restores faster than AWS (e.g.
    /// `0.002`). Against AWS leave it at 1.
    #[arg(
        long,
        value_name = "F",
        default_value_t = 1.0,
        env = "RESTOREPLAN_TIME_SCALE"
    )]
    pub time_scale: f64,
    /// The engine that runs the plan (default: the plan's
    /// `execution.engine`, else local); `step-functions` deploys and starts
    /// an AWS Step Functions execution and follows it (docs/step-functions.md).
    #[arg(long, value_enum, value_name = "ENGINE", conflicts_with = "resume")]
    pub engine: Option<EngineArg>,
    /// With the Step Functions engine: the role the state machine runs as
    /// (ARN; default `execution.step_functions.role`).
    #[arg(long, value_name = "ARN", conflicts_with = "resume")]
    pub state_machine_role: Option<String>,
    /// With the Step Functions engine: return once the execution started;
    /// follow it later with `restoreplan apply --resume RUN`.
    #[arg(long)]
    pub detach: bool,
    /// AWS access.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Compilation settings.
    #[command(flatten)]
    pub compile: CompileArgs,
}

/// `apply --engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// This process runs the plan.
    Local,
    /// An AWS Step Functions execution runs the plan; this process follows it.
    StepFunctions,
}

/// Output format of `apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Progress on a terminal and a final report.
    Human,
    /// One JSON event per line on stdout (for CI).
    Json,
}

/// Reads a saved plan (`plan --out`).
fn read_saved(path: &Path) -> std::result::Result<DryRun, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("failed to read {}: {e}", path.display()))?;
    DryRun::from_json(&text).map_err(|e| format!("{}: failed to {e}", path.display()))
}

/// Asks on the terminal; `Err` when there is no terminal to ask on.
pub fn confirm(question: &str) -> std::result::Result<bool, String> {
    if !std::io::stdin().is_terminal() {
        return Err(
            "refusing to go on without confirmation: stdin is not a terminal; pass --yes".into(),
        );
    }
    crate::err!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("failed to read the answer: {e}"))?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

struct Prepared {
    /// Where the run lives.
    store: RunStore,
    lock: RunLock,
    /// Stale locks taken over, journaled once every check has passed.
    takeovers: Vec<Takeover>,
    /// Restores `--retry-failed` / `--retry` start again, journaled once
    /// every check has passed.
    retries: Vec<usize>,
    accepted_warnings: Vec<AcceptedWarning>,
    plan: Plan,
    specs: Vec<RestoreSpec>,
    journal: Journal,
    resume: Option<RunState>,
    run_id: String,
    started_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Identities the live checks already had from `GetCallerIdentity`.
    identities: Vec<(String, crate::cloud::Identity)>,
}

/// True when this `apply` runs on AWS Step Functions: `--engine`, else
/// the plan's `execution.engine`; on resume, the run's own engine.
fn on_step_functions(args: &Args, p: &Prepared) -> bool {
    match (&p.resume, args.engine) {
        (Some(state), _) => state.engine.is_some(),
        (None, Some(e)) => e == EngineArg::StepFunctions,
        (None, None) => matches!(
            p.plan.header().execution.engine,
            crate::plan::engine::Engine::StepFunctions { .. }
        ),
    }
}

fn prepare(args: &Args, out: Output, rt: &tokio::runtime::Runtime) -> Result<Prepared> {
    if let Some(run_id) = &args.resume {
        // Read first (an unknown run is an error), then lock, then open for
        // appending: only the lock holder writes the journal.
        // (Read only: opening for appending cuts a torn last line, which
        // may be a live holder's line being written.)
        // The backend: --state, else the plan's (when PLAN is given), else local.
        let plan_backend = args.plan.as_ref().and_then(|p| {
            crate::plan::load_file(p, &args.compile.options())
                .ok()
                .map(|l| l.plan.header().state.clone())
        });
        let store = crate::cli::state::open(plan_backend.as_ref(), &args.runs_dir, &args.aws)?;
        let peek = start::peek_run(&store, run_id)?;
        let (lock, takeovers) = start::lock_run(&store, run_id, &peek.header)
            .map_err(|e| format!("{e}; nothing was started"))?;
        let (journal, state) = store.open(run_id).map_err(|e| e.to_string())?;
        if args.detach && state.engine.is_none() {
            return Err(Error::Message(format!(
                "run `{run_id}` runs with the local engine: --detach needs a run on AWS Step Functions"
            )));
        }
        // Nothing is journaled (takeovers, retries) until every check has
        // passed: a refused command leaves the journal as it was.
        let retrying = args.retry_failed || !args.retry.is_empty();
        let retries = if retrying {
            retry_choice(args, &state)?
        } else {
            Vec::new()
        };
        if retrying && state.engine.is_some() {
            return Err(Error::Message(format!(
                "run `{run_id}` runs on AWS Step Functions: its failed restores are not started again with new tokens; \
                 `restoreplan apply --resume {run_id}` follows or redrives its execution, or start a new run"
            )));
        }
        if !retrying
            && state.engine.is_none()
            && state.finished
            && !state.restores.iter().any(|r| r.in_flight)
        {
            return Err(Error::Message(format!(
                "run `{run_id}` already finished ({}); nothing to resume{}",
                state.status(),
                if state.status() == "failed" {
                    format!(
                        "; once the cause is fixed, `restoreplan apply --resume {run_id} --retry-failed` starts its failed and skipped restores again"
                    )
                } else {
                    String::new()
                }
            )));
        }
        let path = match (&args.plan, &state.header.plan_path) {
            (Some(p), _) => p.clone(),
            (None, Some(p)) => PathBuf::from(p),
            (None, None) => {
                return Err(Error::Message(format!(
                    "run `{run_id}` recorded no plan path; pass it: restoreplan apply PLAN.yaml --resume {run_id}"
                )));
            }
        };
        if args.plan.is_none()
            && let Err(e) = std::fs::metadata(&path)
        {
            return Err(Error::Message(format!(
                "run `{run_id}` was started from {}, which cannot be read now ({e}); \
                 if the plan moved, pass its new path: restoreplan apply COPY.yaml --resume {run_id}",
                path.display()
            )));
        }
        // Names with `{date}` keep the date the run started with.
        let compile = CompileArgs {
            date: args.compile.date.or(Some(state.header.at.date_naive())),
        };
        let loaded = load_or_report(&path, &compile, out)?;
        start::resume_matches(&path, run_id, &state.header, &loaded.plan)?;
        return Ok(Prepared {
            store,
            lock,
            takeovers,
            retries,
            accepted_warnings: state.header.accepted_warnings.clone(),
            specs: state.header.restores.clone(),
            started_at: Some(state.header.at),
            run_id: run_id.clone(),
            plan: loaded.plan,
            journal,
            resume: Some(state),
            identities: Vec::new(),
        });
    }
    let Some(path) = &args.plan else {
        return Err(Error::Message("pass PLAN or --resume RUN".to_owned()));
    };
    let loaded = load_or_report(path, &args.compile, out)?;
    let step_functions = args.engine.map_or(
        matches!(
            loaded.plan.header().execution.engine,
            crate::plan::engine::Engine::StepFunctions { .. }
        ),
        |e| e == EngineArg::StepFunctions,
    );
    if !step_functions && (args.detach || args.state_machine_role.is_some()) {
        return Err(Error::Message(format!(
            "{} needs the Step Functions engine (`--engine step-functions` or `execution.engine: step-functions`); nothing was started",
            if args.detach {
                "--detach"
            } else {
                "--state-machine-role"
            }
        )));
    }
    // The checks before the run are spaced like the run's own calls.
    let read = args.aws.read_only_paced(args.max_requests_per_second);
    let loaded = crate::cli::select::expand_or_report(loaded, &read, &args.compile, out)?;
    let plan = loaded.plan;
    let now = crate::clock::now();
    let run_id = new_run_id(plan.name(), now);
    // Lock the plan and its targets before anything else: a second apply
    // of the same plan is refused here, naming the run that holds them.
    let store = crate::cli::state::open(Some(&plan.header().state), &args.runs_dir, &args.aws)?;
    let (lock, takeovers) = start::lock_plan(&store, &run_id, &plan)
        .map_err(|e| format!("{e}; nothing was started"))?;
    let accepted = accepted_codes(&args.accept_warnings)?;
    // Read the reviewed plan before talking to AWS: a bad file fails fast.
    let saved = match &args.plan_file {
        Some(file) => Some(read_saved(file)?),
        None => None,
    };
    // A reviewed plan's random picks are drawn again with its seed and time.
    let opts = LiveOptions {
        draw: saved.as_ref().and_then(|s| s.random_draw.clone()),
        ..LiveOptions::default()
    };
    let report = rt.block_on(live::check(&plan, &read, &opts));
    if let Some(saved) = &saved {
        // The drift explains a newly blocked restore better than its
        // finding alone, so it comes first.
        let drift = stale::against_live(saved, &plan, &report);
        if !drift.is_empty() {
            crate::err!("{}", stale::render(saved, &drift));
            crate::errln!("error: the saved plan is stale; nothing was started");
            return Err(Error::Failed);
        }
    }
    if !report.passed() {
        crate::err!(
            "{}",
            findings::render_human(&report.findings, &loaded.source, out.human())
        );
        crate::errln!("error: the live checks failed; nothing was started");
        return Err(Error::Failed);
    }
    let gate = warning_gate(&loaded.warnings, &loaded.source, &report, &accepted, out)?;
    let specs: Vec<RestoreSpec> = report
        .resolved
        .iter()
        .map(|r| {
            let mut spec = RestoreSpec::from_resolved(r);
            spec.expect.data = plan
                .restores()
                .get(r.index)
                .and_then(|p| p.after_restore.verify.clone());
            spec
        })
        .collect();
    if !args.yes {
        crate::err!("{}", crate::report::apply::summary(&plan, &specs));
        if !confirm("start these restores?")? {
            crate::errln!("nothing was started");
            return Err(Error::Stopped);
        }
    }
    // The run starts work now, after the confirmation: the measured
    // recovery time starts here, not while a person reads the prompt.
    let now = crate::clock::now();
    let mut header = start::run_header(
        &run_id,
        &plan,
        path,
        &specs,
        gate.accepted.iter().map(AcceptedWarning::of).collect(),
        now,
    )?;
    header.selections = loaded.groups.iter().filter_map(|g| g.view()).collect();
    let accepted_warnings = header.accepted_warnings.clone();
    let journal = store.create(header).map_err(|e| e.to_string())?;
    record_takeovers(&journal, &takeovers)?;
    Ok(Prepared {
        store,
        lock,
        takeovers: Vec::new(),
        retries: Vec::new(),
        accepted_warnings,
        plan,
        specs,
        journal,
        resume: None,
        run_id,
        started_at: Some(now),
        identities: report
            .identities
            .iter()
            .filter_map(|i| Some((i.account.clone(), i.identity.clone().ok()?)))
            .collect(),
    })
}

/// Journals the stale locks this process took over, and says so.
pub(crate) fn record_takeovers(journal: &Journal, takeovers: &[Takeover]) -> Result<()> {
    for t in takeovers {
        crate::errln!("note: {}", start::takeover_note(t));
    }
    start::record_takeovers(journal, takeovers)?;
    Ok(())
}

/// `--retry-failed` / `--retry ID…`: the restores to start again.
fn retry_choice(args: &Args, state: &RunState) -> Result<Vec<usize>> {
    let which = if args.retry_failed {
        Retry::Failed
    } else {
        Retry::Ids(&args.retry)
    };
    Ok(start::retry_choice(state, which)?)
}

/// Journals a new attempt of each restore in `chosen`, and says so.
fn record_retries(journal: &Journal, state: &mut RunState, chosen: &[usize]) -> Result<()> {
    for (id, attempt) in start::record_retries(journal, state, chosen)? {
        crate::errln!("retrying {id} (attempt {attempt})");
    }
    Ok(())
}

/// Warnings that change what is restored stop the run unless accepted
/// (printed, with the flag that would accept them); every remaining live
/// warning is printed before the confirmation (the plan's own were printed
/// when it was loaded).
fn warning_gate(
    plan_warnings: &[crate::diag::Finding],
    source: &crate::plan::source::SourceFile,
    report: &live::LiveReport,
    accepted: &[&'static str],
    out: Output,
) -> Result<warnings::Gate> {
    let mut all_warnings = plan_warnings.to_vec();
    all_warnings.extend(report.findings.iter().cloned());
    let gate = warnings::gate(&all_warnings, accepted);
    if !gate.passed() {
        crate::err!(
            "{}",
            findings::render_human(&gate.blocking, source, out.human())
        );
        let codes = gate.blocking_codes();
        crate::errln!(
            "error: {} warning{} would make the restored tables differ from the plan; nothing was started\n  \
             fix the plan, or accept them: --accept-warnings {}",
            gate.blocking.len(),
            if gate.blocking.len() == 1 { "" } else { "s" },
            codes
                .iter()
                .map(|c| c.trim_start_matches("restoreplan::"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        return Err(Error::Failed);
    }
    let remaining: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.severity == crate::diag::Severity::Warning)
        .cloned()
        .collect();
    if !remaining.is_empty() && !out.quiet {
        crate::err!(
            "{}",
            findings::render_human(&remaining, source, out.human())
        );
    }
    for f in &gate.accepted {
        crate::errln!("accepted (--accept-warnings {}): {}", f.code, f.message);
    }
    for code in accepted {
        if !all_warnings.iter().any(|f| f.code == *code) {
            crate::errln!("note: --accept-warnings {code}: the plan has no such warning");
        }
    }
    Ok(gate)
}

/// The full codes of `--accept-warnings`; an error names any that is no
/// warning's code, so a typo cannot go unnoticed.
fn accepted_codes(given: &[String]) -> std::result::Result<Vec<&'static str>, String> {
    given
        .iter()
        .filter(|g| !g.trim().is_empty())
        .map(|g| {
            warnings::parse_code(g).ok_or_else(|| {
                format!(
                    "--accept-warnings: `{g}` is not the code of a warning; warnings are: {}",
                    warnings::WARNINGS
                        .iter()
                        .map(|w| w.code)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        })
        .collect()
}

/// Runs `apply`.
pub fn run(args: &Args, out: Output) -> Result {
    let rt = runtime().map_err(|e| format!("failed to start the async runtime: {e}"))?;
    let mut p = prepare(args, out, &rt)?;
    let cloud = AwsCloud::new(args.aws.options()).with_identities(p.identities.clone());
    // Before anything is sent: the credentials for every account the run
    // acts in are of that account (and, on resume, of the one journaled).
    let accounts: Vec<AccountId> = p.specs.iter().map(|s| s.target.account.clone()).collect();
    let journaled = p
        .resume
        .as_ref()
        .map(|s| s.identities.clone())
        .unwrap_or_default();
    let verified = rt
        .block_on(identity::verify(&cloud, &accounts, &journaled))
        .map_err(|why| format!("{why}\nnothing was started"))?;
    for (account, recorded) in &verified.changed {
        if let Some((_, id)) = verified.identities.iter().find(|(a, _)| a == account) {
            crate::errln!(
                "note: account {account}: acting as {} (the run recorded {recorded})",
                id.arn
            );
        }
    }
    if args.resume.is_some() && !args.yes {
        crate::err!("{}", crate::report::apply::summary(&p.plan, &p.specs));
        if !confirm(&format!("resume run {}?", p.run_id))? {
            return Err(Error::Stopped);
        }
    }
    // Every check passed and the operator confirmed: journal what this
    // command did to the run before it starts work.
    // The confirmation may have taken longer than the lease: still ours?
    p.lock
        .renew(crate::clock::now())
        .map_err(|e| format!("{e}; nothing was started"))?;
    record_takeovers(&p.journal, &p.takeovers)?;
    if let Some(state) = p.resume.as_mut() {
        record_retries(&p.journal, state, &p.retries)?;
    }
    identity::record(&p.journal, &verified, &journaled)
        .map_err(|e| Error::Message(e.to_string()))?;
    if on_step_functions(args, &p) {
        let opts = crate::cli::apply_sfn::Options {
            time_scale: args.time_scale,
            detach: args.detach,
            json: args.format == Format::Json,
            no_progress: args.no_progress,
            state_machine_role: args.state_machine_role.clone(),
        };
        let run = crate::cli::apply_sfn::Run {
            store: p.store,
            lock: p.lock,
            plan: p.plan,
            specs: p.specs,
            journal: p.journal,
            resume: p.resume,
            run_id: p.run_id,
            accepted_warnings: p.accepted_warnings,
        };
        return crate::cli::apply_sfn::run(&opts, out, &rt, run, &cloud);
    }
    let view = LiveView::choose(
        args.format == Format::Json,
        out.quiet,
        args.no_progress,
        std::io::stderr().is_terminal(),
    );
    let sink = RunSinks::new(view, printer::Stdout, printer::Stderr);
    let mut opts = ExecOptions::from_execution(&p.plan.header().execution, rand::random());
    opts.requests_per_second = Some(args.max_requests_per_second);
    opts.poll.time_scale = args.time_scale;
    opts.retry = opts.retry.scaled(args.time_scale);
    let (stop, signal) = stop_pair();
    let lost = stop.clone();
    let lock = std::sync::Arc::new(std::sync::Mutex::new(p.lock));
    let renewing = lock.clone();
    let interrupts = {
        let _runtime = rt.enter();
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
            .map_err(|e| format!("cannot listen for Ctrl-C: {e}"))?
    };
    let result = rt.block_on(async {
        // Renew the lease while the run works; a process that lost its lock
        // (judged dead by another) starts nothing new.
        tokio::spawn(async move {
            // Four renewals per lease: a slow store call or two cannot
            // let the lease lapse.
            let period = std::time::Duration::from_millis(
                (crate::exec::lock::lease_seconds() as u64 * 250).max(250),
            );
            loop {
                tokio::time::sleep(period).await;
                let renewed = match renewing.lock() {
                    Ok(mut l) => l.renew(crate::clock::now()),
                    Err(_) => return,
                };
                if let Err(e) = renewed {
                    crate::errln!("error: {e}; starting nothing new");
                    lost.stop();
                    return;
                }
            }
        });
        // First Ctrl-C: start nothing new and wind down with the journal
        // consistent. Second: stop at once (intents are already journaled):
        // the run is dropped where it stands and the command ends with 130.
        // The listener was registered before the executor starts any
        // restore (above): a signal that arrived before a lazily polled
        // listener existed would be lost (or, where SIGINT is inherited as
        // ignored, never seen at all).
        let mut interrupts = interrupts;
        let (again, second) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            if interrupts.recv().await.is_some() {
                crate::errln!(
                    "\ninterrupted: starting nothing new; press Ctrl-C again to exit at once"
                );
                stop.stop();
                if interrupts.recv().await.is_some() {
                    let _ = again.send(());
                }
            }
        });
        let clock = TokioClock::system();
        let exec = Executor::new(&cloud, &clock, &sink, &p.journal, signal, opts);
        let run = exec.run(RunInput {
            run_id: &p.run_id,
            plan: p.plan.name(),
            graph: p.plan.graph(),
            specs: &p.specs,
            resume: p.resume.as_ref(),
            started_at: p.started_at,
        });
        tokio::select! {
            r = run => {
                let _ = clock.now();
                Some(r)
            }
            // A sender dropped without a second Ctrl-C does not match.
            Ok(()) = second => None,
        }
    });
    let Some(result) = result else {
        // Tasks still waiting on AWS are abandoned, not awaited.
        rt.shutdown_background();
        return Err(Error::Interrupted);
    };
    let summary = result.map_err(|e| e.to_string())?;
    crate::cli::run_report::write_report(
        args.format == Format::Human,
        out,
        &crate::cli::run_report::Reported {
            store: &p.store,
            run_id: &p.run_id,
            plan: &p.plan,
            accepted_warnings: &p.accepted_warnings,
        },
        &sink.take(),
        summary
            .interrupted
            .then(|| format!("resume with: restoreplan apply --resume {}", p.run_id)),
    );
    Ok(if summary.interrupted {
        ExitStatus::Interrupted
    } else if summary.succeeded() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
