//! `--state URL` (every command) and `restoreplan state init URL`.
//!
//! Which backend a command uses, first match wins: `--state URL` (before or
//! after the subcommand), `RESTOREPLAN_STATE`, the plan's `state:` block
//! (commands that read a plan), `local` (`--runs-dir`, default
//! `.restoreplan/runs`).

use std::path::Path;
use std::sync::OnceLock;

use crate::cli::aws::AwsArgs;
use crate::cli::{ExitStatus, Output, Result};
use crate::exec::journal::RunStore;
use crate::state::{self, StateBackend};

static FLAG: OnceLock<Option<String>> = OnceLock::new();

/// Records `--state` / `RESTOREPLAN_STATE` for the commands (once, at start).
pub fn set_flag(url: Option<String>) {
    let _ = FLAG.set(url);
}

/// `--state` / `RESTOREPLAN_STATE`, if given.
pub fn flag() -> Option<&'static str> {
    FLAG.get().and_then(|f| f.as_deref())
}

/// The backend a command uses (see the module docs), given the plan's.
pub fn backend(plan: Option<&StateBackend>) -> std::result::Result<StateBackend, String> {
    let given = match FLAG.get() {
        Some(f) => f.clone(),
        // Library callers that never parsed a command line: the environment.
        None => std::env::var("RESTOREPLAN_STATE").ok(),
    };
    state::choose(given.as_deref(), plan)
}

/// Opens the backend a command uses, with the credentials `aws` gives for
/// the backend's account.
pub fn open(
    plan: Option<&StateBackend>,
    runs_dir: &Path,
    aws: &AwsArgs,
) -> std::result::Result<RunStore, String> {
    crate::state::open(&backend(plan)?, runs_dir, aws.options())
}

/// Arguments of `state`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: StateCommand,
}

/// `state` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum StateCommand {
    /// Create the bucket (versioning, default encryption, public access
    /// blocked) or table (point-in-time recovery, encryption, deletion
    /// protection) a shared backend needs; safe to run again.
    Init(InitArgs),
}

/// Arguments of `state init`.
#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// `s3://BUCKET[/PREFIX]?region=R&account=ACCOUNT` or
    /// `dynamodb://TABLE?region=R&account=ACCOUNT`.
    #[arg(value_name = "URL")]
    pub url: String,
    /// AWS access.
    #[command(flatten)]
    pub aws: AwsArgs,
}

/// Runs `state`.
pub fn run(args: &Args, _out: Output) -> Result {
    let StateCommand::Init(init) = &args.command;
    for l in run_init(init)? {
        crate::outln!("{l}");
    }
    Ok(ExitStatus::Success)
}

fn run_init(args: &InitArgs) -> std::result::Result<Vec<String>, String> {
    let backend = state::parse_url(&args.url, None)?;
    let mut lines = match &backend {
        StateBackend::Local => {
            return Err(
                "`state init` sets up a shared backend: pass s3://… or dynamodb://…".to_owned(),
            );
        }
        #[cfg(feature = "s3")]
        StateBackend::S3(l) => {
            let store = state::s3::S3Objects::connect(l.clone(), args.aws.options())?;
            state::init::s3(&store)?
        }
        #[cfg(not(feature = "s3"))]
        StateBackend::S3(l) => return Err(state::no_s3(l)),
        StateBackend::DynamoDb(t) => {
            let store = state::dynamodb::DynamoObjects::connect(t.clone(), args.aws.options())?;
            state::init::dynamodb(&store)?
        }
    };
    lines.push(format!(
        "ready: restoreplan --state '{}' … (or `state:` in the plan)",
        backend.url()
    ));
    Ok(lines)
}
