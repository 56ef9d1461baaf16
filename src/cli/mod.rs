//! The command line: argument parsing, output settings and exit codes.
//!
//! One module per subcommand; each parses nothing itself (clap did), calls
//! the library function that does the command's work, prints the result
//! through [`printer`], and returns the [`ExitStatus`] its outcome earned,
//! or an [`Error`] that says why it stopped. Commands must not implement
//! checks, pipelines or renderers themselves.
//!
//! To add a subcommand: add a module with `Args` and `run`, a variant to
//! [`Command`], and a match arm in [`run`].

use std::io::IsTerminal;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};

use crate::plan::{CompileOptions, LoadError, Loaded};
use crate::report::findings::{self, HumanStyle};

pub mod apply;
pub mod apply_sfn;
pub mod audit;
pub mod aws;
pub mod completions;
pub mod diff;
pub mod export;
pub mod graph;
pub mod init;
pub mod plan;
pub mod printer;
pub mod promote;
pub mod run_report;
pub mod runs;
pub mod schema;
pub mod select;
pub mod simulate;
pub mod state;
pub mod teardown;
pub mod unlock;
pub mod validate;
pub mod verify;

/// Exit statuses, documented in `docs/cli.md` ("Exit status").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// 0: the command did what was asked (a valid plan, warnings allowed;
    /// a ready dry run; a run whose every restore completed).
    Success = 0,
    /// 1: the command ran and found a problem: an error finding, a blocked
    /// restore, a failed check, a restore that failed or was skipped, a
    /// refused table, plans that differ under `diff --exit-code`.
    Failure = 1,
    /// 2: the command could not do its work: a usage error, an unreadable
    /// file, a lock held by another process, wrong credentials, an
    /// internal error.
    Error = 2,
    /// 130: `apply` was interrupted; the run can be resumed with `--resume`.
    Interrupted = 130,
}

/// Why a command stopped before it could finish its work.
///
/// Every command returns `Result<ExitStatus, Error>`: `Ok` carries the
/// outcome of work that was done (`Success` or `Failure`), `Err` a reason to
/// stop. [`run`] prints what has not been printed yet and exits with
/// [`Error::exit_status`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A usage, input or internal error not printed yet: shown as
    /// `error: MESSAGE`, exit status 2.
    #[error("{0}")]
    Message(String),
    /// Findings or refusals that were already printed (a rejected plan,
    /// failed live checks, a stale saved plan): exit status 1.
    #[error("stopped on findings already shown")]
    Failed,
    /// A reason to stop that was already printed (an unreadable file, a
    /// declined confirmation): exit status 2.
    #[error("stopped on an error already shown")]
    Stopped,
    /// The operator interrupted the command twice: exit status 130.
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    /// The process exit status this error ends the command with.
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::Message(_) | Error::Stopped => ExitStatus::Error,
            Error::Failed => ExitStatus::Failure,
            Error::Interrupted => ExitStatus::Interrupted,
        }
    }

    /// Prints what the error has to say that was not printed before.
    pub fn print(&self) {
        if let Error::Message(message) = self {
            crate::errln!("error: {message}");
        }
    }
}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Error::Message(message)
    }
}

/// What every command returns.
pub type Result<T = ExitStatus, E = Error> = std::result::Result<T, E>;

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> Self {
        ExitCode::from(s as u8)
    }
}

/// Restore whole environments of Amazon DynamoDB tables from a declarative YAML plan.
#[derive(Debug, Parser)]
#[command(
    name = "restoreplan",
    version,
    about,
    propagate_version = true,
    after_help = "Environment: RESTOREPLAN_NOW=2026-11-24T09:00:00Z starts the clock every age, RPO, {date} and \
                  restorable window is computed from at that time (default: the wall clock); see docs/cli.md."
)]
pub struct Cli {
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More log output on stderr (repeat for more: -v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// When to use colours and terminal hyperlinks (`auto` honours NO_COLOR and non-terminals).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Where runs live: `s3://BUCKET/PREFIX?region=R&account=ACCOUNT`,
    /// `dynamodb://TABLE?region=R&account=ACCOUNT` or `local`; overrides the
    /// plan's `state:` (docs/apply.md, "Shared run state").
    #[arg(long, global = true, value_name = "URL", env = "RESTOREPLAN_STATE")]
    pub state: Option<String>,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Colour policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check plans offline: syntax, schema, every static rule and the dependency graph.
    Validate(validate::Args),
    /// Print a plan's dependency graph: layers and critical path, DOT or Mermaid.
    Graph(graph::Args),
    /// Print the JSON Schema of the plan format.
    Schema(schema::Args),
    /// Write a starting plan from the tables of a source account (read-only).
    Init(init::Args),
    /// Dry run: resolve a plan against the live account and show exactly what `apply` would do.
    Plan(plan::Args),
    /// Compare two versions of a plan: restores added, removed and changed, offline.
    Diff(diff::Args),
    /// Write a dry-run audit report: every live check with its evidence.
    Audit(audit::Args),
    /// Print shell completions.
    Completions(completions::Args),
    /// Predict a plan's recovery time: run the executor against a simulated cloud in virtual time.
    Simulate(simulate::Args),
    /// Run a plan: restore every table in dependency order, with a crash-safe journal.
    Apply(apply::Args),
    /// List runs and their states.
    Runs(runs::Args),
    /// Delete the tables one run created (and nothing else).
    Teardown(teardown::Args),
    /// Release a run's locks after its process is gone (asks first).
    Unlock(unlock::Args),
    /// Mark a run's tables as production after a failover: tagged, deletion protection on, never torn down.
    Promote(promote::Args),
    /// Set up a shared run-state backend (`state init URL`).
    State(state::Args),
    /// Write a plan for another engine: an AWS Step Functions state machine, its IAM policy and a CloudFormation template.
    Export(export::Args),
    /// Run the verification of a finished run again: every check with its evidence, reported to AWS Backup.
    Verify(verify::Args),
}

/// Output settings shared by every command.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Print only errors.
    pub quiet: bool,
    /// Colour on stderr.
    pub color: bool,
    /// Wrap width of diagnostics.
    pub width: usize,
}

impl Output {
    /// The style of human diagnostics.
    pub fn human(&self) -> HumanStyle {
        HumanStyle {
            color: self.color,
            width: self.width,
        }
    }
}

/// Arguments shared by commands that compile a plan.
#[derive(Debug, Clone, clap::Args)]
pub struct CompileArgs {
    /// Date that `{date}` expands to (YYYY-MM-DD); default: today in UTC.
    #[arg(long, env = "RESTOREPLAN_DATE", value_parser = parse_date)]
    pub date: Option<NaiveDate>,
}

impl CompileArgs {
    /// Compile options; the only place the clock is read.
    pub fn options(&self) -> CompileOptions {
        CompileOptions::new(self.date.unwrap_or_else(crate::clock::today))
    }
}

fn parse_date(s: &str) -> std::result::Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("`{s}` is not a date like 2026-11-20"))
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::Error.into()
            } else {
                ExitStatus::Success.into()
            };
        }
    };
    init_tracing(cli.quiet, cli.verbose);
    if let Err(e) = crate::clock::check_environment() {
        crate::errln!("error: {e}");
        return ExitStatus::Error.into();
    }
    let out = Output {
        quiet: cli.quiet,
        color: use_color(cli.color),
        width: terminal_width(),
    };
    state::set_flag(cli.state);
    run(cli.command, out).into()
}

/// Dispatches a parsed command and turns its result into an exit status.
pub fn run(command: Command, out: Output) -> ExitStatus {
    match dispatch(command, out) {
        Ok(status) => status,
        Err(e) => {
            e.print();
            e.exit_status()
        }
    }
}

fn dispatch(command: Command, out: Output) -> Result {
    match command {
        Command::Validate(args) => validate::run(&args, out),
        Command::Graph(args) => graph::run(&args, out),
        Command::Schema(args) => schema::run(&args),
        Command::Plan(args) => plan::run(&args, out),
        Command::Diff(args) => diff::run(&args, out),
        Command::Audit(args) => audit::run(&args, out),
        Command::Completions(args) => completions::run(&args),
        Command::Simulate(args) => simulate::run(&args, out),
        Command::Apply(args) => apply::run(&args, out),
        Command::Runs(args) => runs::run(&args, out),
        Command::Teardown(args) => teardown::run(&args, out),
        Command::Unlock(args) => unlock::run(&args, out),
        Command::Promote(args) => promote::run(&args, out),
        Command::State(args) => state::run(&args, out),
        Command::Init(args) => init::run(&args, out),
        Command::Export(args) => export::run(&args, out),
        Command::Verify(args) => verify::run(&args, out),
    }
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").map_or(true, |t| t != "dumb")
                && std::io::stderr().is_terminal()
        }
    }
}

/// Width diagnostics wrap at: `COLUMNS` when set, else the width of the
/// terminal on stderr, else 100 (a file or a pipe).
fn terminal_width() -> usize {
    let columns = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
    let terminal = || {
        terminal_size::terminal_size_of(std::io::stderr())
            .map(|(terminal_size::Width(w), _)| usize::from(w))
    };
    wrap_width(columns, terminal)
}

/// [`terminal_width`]'s choice, with its inputs passed in.
pub fn wrap_width(columns: Option<usize>, terminal: impl FnOnce() -> Option<usize>) -> usize {
    columns
        .or_else(terminal)
        .map(|w| w.clamp(40, 400))
        .unwrap_or(100)
}

fn init_tracing(quiet: bool, verbose: u8) {
    // The AWS SDK logs a warning for every credential source it tries and
    // misses (instance metadata off a cloud machine, for one); the findings
    // already say which identity failed and why, so the SDK's own logs start
    // at `-v`.
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn,aws_config=error,aws_smithy_runtime=error,aws_runtime=error",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RESTOREPLAN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}

/// What to say about a sizes file passed where a plan was expected.
pub fn not_a_plan(
    path: &std::path::Path,
    sizes: &std::result::Result<crate::sim::offline::Sizes, String>,
) -> String {
    let what = match sizes {
        Ok(s) => format!(
            "{} table size{}",
            s.0.len(),
            if s.0.len() == 1 { "" } else { "s" }
        ),
        Err(e) => format!("and it does not parse: {e}"),
    };
    format!(
        "{} is a sizes file ({what}), not a plan; pass it to `restoreplan simulate PLAN --sizes {}`",
        path.display(),
        path.display()
    )
}

/// Prints a rejected plan's findings on stderr (errors only with
/// `--quiet`); the error to stop with.
fn show_rejected(r: &crate::plan::Rejected, out: Output) -> Error {
    let shown: Vec<_> = r
        .findings
        .iter()
        .filter(|f| !out.quiet || f.is_error())
        .cloned()
        .collect();
    crate::err!("{}", findings::render_human(&shown, &r.source, out.human()));
    Error::Failed
}

/// Loads one plan for a command that needs a valid plan (e.g. `graph`):
/// prints warnings or findings as human diagnostics on stderr and returns
/// the plan, or the error to stop with (its reason already printed).
pub fn load_or_report(
    path: &std::path::Path,
    compile: &CompileArgs,
    out: Output,
) -> Result<Loaded> {
    if let Some(sizes) = crate::sim::offline::Sizes::recognise(path) {
        crate::errln!("error: {}", not_a_plan(path, &sizes));
        return Err(Error::Stopped);
    }
    match crate::plan::load_file(path, &compile.options()) {
        Ok(loaded) => {
            if !out.quiet && !loaded.warnings.is_empty() {
                crate::err!(
                    "{}",
                    findings::render_human(&loaded.warnings, &loaded.source, out.human())
                );
            }
            Ok(loaded)
        }
        Err(LoadError::Read { path, source }) => {
            crate::errln!("error: failed to read {}: {source}", path.display());
            Err(Error::Stopped)
        }
        Err(LoadError::Rejected(r)) => Err(show_rejected(&r, out)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_keep_the_documented_numbers() {
        let codes: Vec<u8> = [
            ExitStatus::Success,
            ExitStatus::Failure,
            ExitStatus::Error,
            ExitStatus::Interrupted,
        ]
        .iter()
        .map(|s| *s as u8)
        .collect();
        assert_eq!(codes, [0, 1, 2, 130]);
    }

    #[test]
    fn each_error_ends_with_its_status() {
        assert_eq!(Error::from("x".to_owned()).exit_status(), ExitStatus::Error);
        assert_eq!(Error::Stopped.exit_status(), ExitStatus::Error);
        assert_eq!(Error::Failed.exit_status(), ExitStatus::Failure);
        assert_eq!(Error::Interrupted.exit_status(), ExitStatus::Interrupted);
        // The worst status wins when several commands' outcomes combine.
        assert!(ExitStatus::Failure < ExitStatus::Error);
    }
}
