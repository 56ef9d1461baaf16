//! `restoreplan verify RUN [--restore ID]...`: the verification of a
//! finished run, again, from its journal (local or shared run-state
//! backend): each check with its evidence, the result reported to AWS
//! Backup again for restore jobs; exit status 1 when a check fails.

use std::path::PathBuf;

use crate::aws::AwsCloud;
use crate::cli::apply::{Format, RUNS_DIR};
use crate::cli::aws::{AwsArgs, runtime};
use crate::cli::printer;
use crate::cli::{Error, ExitStatus, Output, Result};
use crate::exec::identity;
use crate::exec::policy::stop_pair;
use crate::exec::render::sinks::{LiveView, RunSinks};
use crate::exec::runner::DEFAULT_REQUESTS_PER_SECOND;
use crate::exec::start::peek_run;
use crate::exec::{ExecOptions, TokioClock, reverify};
use crate::plan::model::Execution;

/// Arguments of `verify`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The run whose restores to verify again (see `restoreplan runs`).
    #[arg(value_name = "RUN")]
    pub run: String,
    /// Only these restores (ids, repeatable); default: every restore of the run.
    #[arg(long = "restore", value_name = "ID", num_args = 1..)]
    pub restores: Vec<String>,
    /// `human`: a report of each check; `json`: one JSON event per line
    /// (`verified`, `validation-reported`), then a `verification` line.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Where run journals live with the local backend (see `--state`).
    #[arg(long, value_name = "DIR", default_value = RUNS_DIR, env = "RESTOREPLAN_RUNS_DIR")]
    pub runs_dir: PathBuf,
    /// For the local emulator only: multiply every wait (the verification
    /// timeout included) by this factor. Against AWS leave it at 1.
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
}

/// Runs `verify`.
pub fn run(args: &Args, out: Output) -> Result {
    let store = crate::cli::state::open(None, &args.runs_dir, &args.aws)?;
    let state = peek_run(&store, &args.run)?;
    // Unknown ids are a usage error, before any call.
    reverify::choose(&state, &args.restores).map_err(Error::Message)?;
    let rt = runtime().map_err(|e| format!("failed to start the async runtime: {e}"))?;
    let cloud = AwsCloud::new(args.aws.options());
    let accounts: Vec<_> = state
        .header
        .restores
        .iter()
        .filter(|s| args.restores.is_empty() || args.restores.contains(&s.id))
        .map(|s| s.target.account.clone())
        .collect();
    let verified = rt
        .block_on(identity::verify(&cloud, &accounts, &state.identities))
        .map_err(|why| format!("{why}\nnothing was verified"))?;
    for (account, recorded) in verified.changed.iter().filter(|_| !out.quiet) {
        if let Some((_, id)) = verified.identities.iter().find(|(a, _)| a == account) {
            crate::errln!(
                "note: account {account}: acting as {} (the run recorded {recorded})",
                id.arn
            );
        }
    }
    let json = args.format == Format::Json;
    let view = if json {
        LiveView::JsonLines
    } else {
        LiveView::Silent
    };
    let sink = RunSinks::new(view, printer::Stdout, printer::Stderr);
    let mut opts = ExecOptions::from_execution(&Execution::default(), rand::random());
    opts.requests_per_second = Some(DEFAULT_REQUESTS_PER_SECOND);
    opts.poll.time_scale = args.time_scale;
    opts.retry = opts.retry.scaled(args.time_scale);
    let (stop, signal) = stop_pair();
    let result = rt.block_on(async {
        let interrupted = tokio::signal::ctrl_c();
        let clock = TokioClock::system();
        let work = reverify::run(&cloud, &clock, &sink, &state, &args.restores, opts, signal);
        tokio::pin!(work);
        tokio::select! {
            r = &mut work => r,
            _ = interrupted => {
                stop.stop();
                work.await
            }
        }
    })?;
    if json {
        let line = serde_json::json!({
            "schema_version": 1,
            "event": "verification",
            "run_id": result.run_id,
            "passed": result.passed(),
            "restores": result.restores,
        });
        crate::outln!("{line}");
    } else if !out.quiet {
        crate::out!("{}", result.render_text());
    }
    Ok(if result.passed() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
