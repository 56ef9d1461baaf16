//! `restoreplan apply PLAN` and `apply --resume RUN`: resolve the plan
//! against AWS, confirm, and run the DAG executor with a crash-safe journal
//! under `.restoreplan/runs/RUN/`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::ValueEnum;
use sha2::{Digest, Sha256};

use crate::check::live::{self, LiveOptions};
use crate::check::warnings::{self, AcceptedWarning};
use crate::cli::aws::{AwsArgs, runtime};
use crate::cli::{CompileArgs, ExitStatus, Output, load_or_report};
use crate::cloud::aws::AwsCloud;
use crate::diff::{DryRun, stale};
use crate::exec::events::{CollectingSink, Event, EventSink, Tee};
use crate::exec::identity;
use crate::exec::journal::{Journal, Phase, Record, RunHeader, RunState};
use crate::exec::lock::{Holder, LocalFileStore, LockKey, RunLock, Takeover};
use crate::exec::policy::stop_pair;
use crate::exec::report::RunReport;
use crate::exec::report::gantt::{self, Chart};
use crate::exec::report::jsonl::JsonLines;
use crate::exec::report::progress::Progress;
use crate::exec::spec::{RestoreSpec, new_run_id};
use crate::exec::{Clock, ExecOptions, Executor, RunInput, TokioClock};
use crate::plan::fingerprint;
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
    /// Where run journals live.
    #[arg(long, value_name = "DIR", default_value = RUNS_DIR, env = "RESTOREPLAN_RUNS_DIR")]
    pub runs_dir: PathBuf,
    /// Cap on AWS calls per second across the run, the checks before it included.
    #[arg(long, value_name = "N", default_value_t = 25.0)]
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
    /// AWS access.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Compilation settings.
    #[command(flatten)]
    pub compile: CompileArgs,
}

/// Output format of `apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Progress on a terminal and a final report.
    Human,
    /// One JSON event per line on stdout (for CI).
    Json,
}

/// Runs `apply`.
pub fn run(args: &Args, out: Output) -> ExitStatus {
    match run_inner(args, out) {
        Ok(code) => code,
        Err(message) => {
            crate::errln!("error: {message}");
            ExitStatus::Error
        }
    }
}

fn digest(path: &Path) -> Result<String, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("failed to read {}: {e}", path.display()))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

/// Refuses to resume `run_id` with a plan that would do something else
/// than the run recorded, and says what changed. Comments, formatting and
/// a new path are not changes.
fn resume_matches(
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

/// Reads a saved plan (`plan --out`).
fn read_saved(path: &Path) -> Result<DryRun, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("failed to read {}: {e}", path.display()))?;
    DryRun::from_json(&text).map_err(|e| format!("{}: failed to {e}", path.display()))
}

/// Asks on the terminal; `Err` when there is no terminal to ask on.
pub fn confirm(question: &str) -> Result<bool, String> {
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

fn summary(plan: &Plan, specs: &[RestoreSpec]) -> String {
    let mut s = format!(
        "plan `{}`: {} restores, concurrency {}, on_failure {}\n",
        plan.name(),
        specs.len(),
        plan.header().execution.concurrency,
        on_failure_name(plan.header().execution.on_failure)
    );
    s.push_str(&format!("{}\n", predicted_rto(plan, specs)));
    for spec in specs.iter().take(20) {
        s.push_str(&format!(
            "  + {} -> {} in {} ({})\n",
            spec.id,
            spec.target_name,
            spec.target,
            spec.request.operation()
        ));
    }
    if specs.len() > 20 {
        s.push_str(&format!("  … and {} more\n", specs.len() - 20));
    }
    s
}

/// The failure policy as the plan writes it.
fn on_failure_name(p: crate::plan::model::OnFailure) -> &'static str {
    match p {
        crate::plan::model::OnFailure::Continue => "continue",
        crate::plan::model::OnFailure::Stop => "stop",
    }
}

/// `Predicted RTO 31m (objective 4h: met).`, computed and worded as
/// `restoreplan plan` does for the same plan: the schedule of every
/// restore and its after-restore steps under the plan's caps.
fn predicted_rto(plan: &Plan, specs: &[RestoreSpec]) -> String {
    use crate::diff::estimate::{AFTER_RESTORE_STEP_SECONDS, predict};
    let durations: Vec<f64> = specs
        .iter()
        .map(|s| (s.estimated_seconds + AFTER_RESTORE_STEP_SECONDS * s.changes.len() as f64).ceil())
        .collect();
    let makespan = predict(plan, &durations).makespan.ceil() as u64;
    let objective = match plan.header().objectives.rto {
        Some(o) if makespan <= o.as_secs() => {
            format!(
                " (objective {}: met)",
                crate::report::secs_text(o.as_secs())
            )
        }
        Some(o) => format!(
            " (objective {}: EXCEEDED)",
            crate::report::secs_text(o.as_secs())
        ),
        None => " (no objective)".to_owned(),
    };
    format!(
        "Predicted RTO {}{objective}.",
        crate::report::secs_text(makespan)
    )
}

struct Prepared {
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

fn prepare(
    args: &Args,
    out: Output,
    rt: &tokio::runtime::Runtime,
) -> Result<Result<Prepared, ExitStatus>, String> {
    if let Some(run_id) = &args.resume {
        // Read first (an unknown run is an error), then lock, then open for
        // appending: only the lock holder writes the journal.
        // (Read only: opening for appending cuts a torn last line, which
        // may be a live holder's line being written.)
        let peek = peek_run(&args.runs_dir, run_id)?;
        let (lock, takeovers) = lock_run(&args.runs_dir, run_id, &peek.header)
            .map_err(|e| format!("{e}; nothing was started"))?;
        let (journal, state) = Journal::open(&args.runs_dir, run_id).map_err(|e| e.to_string())?;
        // Nothing is journaled (takeovers, retries) until every check has
        // passed: a refused command leaves the journal as it was.
        let retrying = args.retry_failed || !args.retry.is_empty();
        let retries = if retrying {
            retry_choice(args, &state)?
        } else {
            Vec::new()
        };
        if !retrying && state.finished && !state.restores.iter().any(|r| r.in_flight) {
            return Err(format!(
                "run `{run_id}` already finished ({}); nothing to resume{}",
                state.status(),
                if state.status() == "failed" {
                    format!(
                        "; once the cause is fixed, `restoreplan apply --resume {run_id} --retry-failed` starts its failed and skipped restores again"
                    )
                } else {
                    String::new()
                }
            ));
        }
        let path = match (&args.plan, &state.header.plan_path) {
            (Some(p), _) => p.clone(),
            (None, Some(p)) => PathBuf::from(p),
            (None, None) => {
                return Err(format!(
                    "run `{run_id}` recorded no plan path; pass it: restoreplan apply PLAN.yaml --resume {run_id}"
                ));
            }
        };
        if args.plan.is_none()
            && let Err(e) = std::fs::metadata(&path)
        {
            return Err(format!(
                "run `{run_id}` was started from {}, which cannot be read now ({e}); \
                 if the plan moved, pass its new path: restoreplan apply COPY.yaml --resume {run_id}",
                path.display()
            ));
        }
        // Names with `{date}` keep the date the run started with.
        let compile = CompileArgs {
            date: args.compile.date.or(Some(state.header.at.date_naive())),
        };
        let loaded = match load_or_report(&path, &compile, out) {
            Ok(l) => l,
            Err(s) => return Ok(Err(s)),
        };
        resume_matches(&path, run_id, &state.header, &loaded.plan)?;
        return Ok(Ok(Prepared {
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
        }));
    }
    let Some(path) = &args.plan else {
        return Err("pass PLAN or --resume RUN".to_owned());
    };
    let loaded = match load_or_report(path, &args.compile, out) {
        Ok(l) => l,
        Err(s) => return Ok(Err(s)),
    };
    // The checks before the run are spaced like the run's own calls.
    let read = args.aws.read_only_paced(args.max_requests_per_second);
    let loaded = match crate::cli::select::expand_or_report(loaded, &read, &args.compile, out) {
        Ok(l) => l,
        Err(s) => return Ok(Err(s)),
    };
    let plan = loaded.plan;
    let now = crate::clock::now();
    let run_id = new_run_id(plan.name(), now);
    // Lock the plan and its targets before anything else: a second apply
    // of the same plan is refused here, naming the run that holds them.
    let mut keys = vec![LockKey::plan(plan.name())];
    keys.extend(plan.restores().iter().map(|r| {
        LockKey::table(
            r.target.location.account.as_str(),
            r.target.location.region.as_str(),
            &r.target_name,
        )
    }));
    let (lock, takeovers) =
        acquire(&args.runs_dir, &run_id, keys).map_err(|e| format!("{e}; nothing was started"))?;
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
            return Ok(Err(ExitStatus::Findings));
        }
    }
    if !report.passed() {
        crate::err!(
            "{}",
            findings::render_human(&report.findings, &loaded.source, out.human())
        );
        crate::errln!("error: the live checks failed; nothing was started");
        return Ok(Err(ExitStatus::Findings));
    }
    let gate = match warning_gate(&loaded.warnings, &loaded.source, &report, &accepted, out) {
        Ok(g) => g,
        Err(status) => return Ok(Err(status)),
    };
    let specs: Vec<RestoreSpec> = report
        .resolved
        .iter()
        .map(RestoreSpec::from_resolved)
        .collect();
    if !args.yes {
        crate::err!("{}", summary(&plan, &specs));
        if !confirm("start these restores?")? {
            crate::errln!("nothing was started");
            return Ok(Err(ExitStatus::Error));
        }
    }
    // The run starts work now, after the confirmation: the measured
    // recovery time starts here, not while a person reads the prompt.
    let now = crate::clock::now();
    let header = RunHeader {
        run_id: run_id.clone(),
        plan: plan.name().to_owned(),
        plan_path: std::fs::canonicalize(path)
            .ok()
            .map(|p| p.display().to_string()),
        plan_digest: Some(digest(path)?),
        fingerprint: Some(fingerprint::of(&plan)),
        selections: loaded.groups.iter().filter_map(|g| g.view()).collect(),
        concurrency: plan.header().execution.concurrency,
        on_failure: plan.header().execution.on_failure,
        depends_on: (0..specs.len())
            .map(|i| plan.graph().dependencies(i).collect())
            .collect(),
        restores: specs.clone(),
        at: now,
        accepted_warnings: gate.accepted.iter().map(AcceptedWarning::of).collect(),
    };
    let accepted_warnings = header.accepted_warnings.clone();
    let journal = Journal::create(&args.runs_dir, header).map_err(|e| e.to_string())?;
    record_takeovers(&journal, &takeovers)?;
    Ok(Ok(Prepared {
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
    }))
}

/// Acquires the run lock on `keys` for `run_id` in the runs directory.
fn acquire(
    runs_dir: &Path,
    run_id: &str,
    keys: Vec<LockKey>,
) -> Result<(RunLock, Vec<Takeover>), String> {
    let now = crate::clock::now();
    RunLock::acquire(
        Box::new(LocalFileStore::for_runs_dir(runs_dir)),
        keys,
        Holder::this_process(run_id, now),
        now,
    )
    .map_err(|e| e.to_string())
}

/// The state of run `run_id` as its journal shows it, read only (opening for
/// appending cuts a torn last line, which may be a live holder's line being
/// written): what a command reads before it holds the run lock.
pub(crate) fn peek_run(runs_dir: &Path, run_id: &str) -> Result<RunState, String> {
    let path = crate::exec::journal::journal_path(runs_dir, run_id).map_err(|e| e.to_string())?;
    let (records, _) = crate::exec::journal::read_records(&path).map_err(|e| e.to_string())?;
    RunState::replay(&records).ok_or_else(|| {
        format!(
            "{} does not start with a run-started record",
            path.display()
        )
    })
}

/// The lock of an existing run (resumed or torn down): its plan and every
/// target it records.
pub(crate) fn lock_run(
    runs_dir: &Path,
    run_id: &str,
    header: &RunHeader,
) -> Result<(RunLock, Vec<Takeover>), String> {
    let mut keys = vec![LockKey::plan(&header.plan)];
    keys.extend(header.restores.iter().map(|r| {
        LockKey::table(
            r.target.account.as_str(),
            r.target.region.as_str(),
            &r.target_name,
        )
    }));
    acquire(runs_dir, run_id, keys)
}

/// Journals the stale locks this process took over, and says so.
pub(crate) fn record_takeovers(journal: &Journal, takeovers: &[Takeover]) -> Result<(), String> {
    for t in takeovers {
        crate::errln!(
            "note: took over the lock `{}` from {}, which is no longer running",
            t.key,
            t.previous.describe()
        );
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

/// `--retry-failed` / `--retry ID…`: the failed or skipped restores to start
/// again (with the restores skipped because of them); writes nothing.
fn retry_choice(args: &Args, state: &RunState) -> Result<Vec<usize>, String> {
    let specs = state.header.restores.clone();
    let n = specs.len();
    let retryable = |r: &crate::exec::journal::RestoreState| {
        matches!(r.phase, Phase::Failed(_) | Phase::Skipped(_))
    };
    let mut chosen = vec![false; n];
    if args.retry_failed {
        for (i, r) in state.restores.iter().enumerate() {
            chosen[i] = retryable(r);
        }
    } else {
        for id in &args.retry {
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
    if !chosen.iter().any(|c| *c) {
        return Err(format!(
            "run `{}` has no failed or skipped restore to retry",
            state.header.run_id
        ));
    }
    if state.header.on_failure == crate::plan::model::OnFailure::Stop
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

/// Journals a new attempt of each restore in `chosen`.
fn record_retries(journal: &Journal, state: &mut RunState, chosen: &[usize]) -> Result<(), String> {
    let at = crate::clock::now();
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
        crate::errln!(
            "retrying {} (attempt {})",
            state.header.restores[i].id,
            attempt + 1
        );
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
) -> Result<warnings::Gate, ExitStatus> {
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
        return Err(ExitStatus::Findings);
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
fn accepted_codes(given: &[String]) -> Result<Vec<&'static str>, String> {
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

/// Prints one line per finished restore (human output without a terminal).
struct Lines;

impl EventSink for Lines {
    fn emit(&self, event: Event) {
        match event {
            Event::RestoreCompleted { id, .. } => crate::errln!("completed {id}"),
            Event::RestoreFailed { id, cause, .. } => crate::errln!("FAILED {id}: {cause}"),
            Event::RestoreSkipped { id, reason, .. } => crate::errln!("skipped {id}: {reason}"),
            Event::Stopping { reason, .. } => crate::errln!("stopping: {reason}"),
            _ => {}
        }
    }
}

fn run_inner(args: &Args, out: Output) -> Result<ExitStatus, String> {
    let rt = runtime().map_err(|e| format!("failed to start the async runtime: {e}"))?;
    let mut p = match prepare(args, out, &rt)? {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
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
        crate::err!("{}", summary(&p.plan, &p.specs));
        if !confirm(&format!("resume run {}?", p.run_id))? {
            return Ok(ExitStatus::Error);
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
    identity::record(&p.journal, &verified, &journaled).map_err(|e| e.to_string())?;
    let collect = CollectingSink::new();
    let progress;
    let json;
    let mut sinks: Vec<&dyn EventSink> = vec![&collect];
    match args.format {
        Format::Json => {
            json = JsonLines::new(crate::cli::printer::Stdout);
            sinks.push(&json);
        }
        Format::Human if out.quiet => {}
        Format::Human if !args.no_progress && std::io::stderr().is_terminal() => {
            progress = Progress::new();
            sinks.push(&progress);
        }
        Format::Human => sinks.push(&Lines),
    }
    let sink = Tee(sinks);
    let mut opts = ExecOptions::from_execution(&p.plan.header().execution);
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
            let period = std::time::Duration::from_secs(
                (crate::exec::lock::LEASE_SECONDS as u64 / 4).max(1),
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
        // consistent. Second: exit at once (intents are already journaled).
        // The listener was registered before the executor starts any
        // restore (above): a signal that arrived before a lazily polled
        // listener existed would be lost (or, where SIGINT is inherited as
        // ignored, never seen at all).
        let mut interrupts = interrupts;
        tokio::spawn(async move {
            if interrupts.recv().await.is_some() {
                crate::errln!(
                    "\ninterrupted: starting nothing new; press Ctrl-C again to exit at once"
                );
                stop.stop();
                if interrupts.recv().await.is_some() {
                    std::process::exit(ExitStatus::Interrupted as i32);
                }
            }
        });
        let clock = TokioClock::system();
        let exec = Executor::new(&cloud, &clock, &sink, &p.journal, signal, opts);
        let r = exec
            .run(RunInput {
                run_id: &p.run_id,
                plan: p.plan.name(),
                graph: p.plan.graph(),
                specs: &p.specs,
                resume: p.resume.as_ref(),
                started_at: p.started_at,
            })
            .await;
        let _ = clock.now();
        r
    });
    let summary = result.map_err(|e| e.to_string())?;
    let mut report = RunReport::from_events(&collect.take(), p.plan.header().objectives.rto);
    report.accepted_warnings = p.accepted_warnings.clone();
    let dir = args.runs_dir.join(&p.run_id);
    let chart = Chart {
        title: format!("restoreplan apply: run {}", p.run_id),
        bars: report.bars(),
        critical: Default::default(),
        objective: report.rto_objective_seconds,
    };
    let text = report.render_text();
    // The journal is the record; these files are conveniences.
    let _ = std::fs::write(dir.join("report.txt"), &text);
    let _ = std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&report).unwrap_or_default(),
    );
    let _ = std::fs::write(dir.join("gantt.svg"), gantt::svg(&chart));
    crate::cli::printer::step_summary(&crate::cli::printer::fenced(
        &format!("restoreplan apply: run {}", p.run_id),
        &text,
    ));
    if args.format == Format::Human && !out.quiet {
        crate::out!("{text}");
        crate::outln!(
            "\njournal, report and Gantt chart: {}{}",
            dir.display(),
            if summary.interrupted {
                format!("\nresume with: restoreplan apply --resume {}", p.run_id)
            } else {
                String::new()
            }
        );
    }
    Ok(if summary.interrupted {
        ExitStatus::Interrupted
    } else if summary.succeeded() {
        ExitStatus::Valid
    } else {
        ExitStatus::Findings
    })
}
