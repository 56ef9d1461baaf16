//! `restoreplan export step-functions PLAN --out DIR`: the plan, resolved
//! against the live accounts as `plan` resolves it, written as an AWS Step
//! Functions state machine with its IAM policy, a CloudFormation template
//! and the run's coordination items (docs/step-functions.md).

use std::path::PathBuf;

use crate::check::live::LiveOptions;
use crate::cli::aws::{AwsArgs, block_on};
use crate::cli::{CompileArgs, Error, ExitStatus, Output, Result, load_or_report};
use crate::export;
use crate::report::findings;

/// Arguments of `export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to export the plan as.
    #[command(subcommand)]
    pub target: Target,
}

/// Export targets.
#[derive(Debug, clap::Subcommand)]
pub enum Target {
    /// An AWS Step Functions state machine, its IAM policy, a CloudFormation template.
    StepFunctions(StepFunctionsArgs),
}

/// Arguments of `export step-functions`.
#[derive(Debug, Clone, clap::Args)]
pub struct StepFunctionsArgs {
    /// The plan file.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// The directory to write into (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The run id the coordination items are written for: the execution's
    /// name (default: a new one, as `apply` makes).
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,
    /// The state machine's name (default: `execution.step_functions.name`,
    /// else `restoreplan-{plan}`).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The coordination table's name (default: `{name}-runs`).
    #[arg(long, value_name = "TABLE")]
    pub table: Option<String>,
    /// The role the state machine runs as (ARN; default:
    /// `execution.step_functions.role`); the template creates it.
    #[arg(long, value_name = "ARN")]
    pub state_machine_role: Option<String>,
    /// AWS access.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Compilation settings.
    #[command(flatten)]
    pub compile: CompileArgs,
}

/// Runs `export`.
pub fn run(args: &Args, out: Output) -> Result {
    match &args.target {
        Target::StepFunctions(a) => step_functions(a, out),
    }
}

fn step_functions(args: &StepFunctionsArgs, out: Output) -> Result {
    let loaded = load_or_report(&args.plan, &args.compile, out)?;
    let cloud = args.aws.read_only();
    let loaded = crate::cli::select::expand_or_report(loaded, &cloud, &args.compile, out)?;
    let plan = &loaded.plan;
    let run_id = match &args.run {
        Some(r) if crate::exec::spec::is_valid_run_id(r) => r.clone(),
        Some(r) => {
            return Err(Error::Message(format!(
                "`{r}` is not a run id (lower-case letters, digits, `-`, `T` and `Z`)"
            )));
        }
        None => crate::exec::spec::new_run_id(plan.name(), crate::clock::now()),
    };
    let resolved = block_on(export::resolve(plan, &cloud, &LiveOptions::default()))?;
    if !resolved.report.passed() {
        crate::err!(
            "{}",
            findings::render_human(&resolved.report.findings, &loaded.source, out.human())
        );
        crate::errln!("error: the live checks failed; nothing was exported");
        return Err(Error::Failed);
    }
    let mut opts = export::Options::of_plan(plan, &run_id);
    if let Some(name) = &args.name {
        let role = opts.role.take();
        opts = export::Options::named(name, &run_id);
        opts.role = role;
    }
    if let Some(table) = &args.table {
        opts.table = table.clone();
    }
    if let Some(role) = &args.state_machine_role {
        opts.role = Some(role.clone());
    }
    opts.key_schemas = resolved.key_schemas;
    let exported = export::step_functions(plan, &resolved.specs, &opts).map_err(Error::Message)?;
    let written = exported
        .write(&args.out)
        .map_err(|e| Error::Message(format!("failed to write into {}: {e}", args.out.display())))?;
    if !out.quiet {
        let mut text = String::new();
        for path in &written {
            text.push_str(&format!("wrote {}\n", path.display()));
        }
        text.push_str(&format!(
            "\nstate machine {} ({} lanes) for run {run_id}; to run it by hand:\n  \
             aws cloudformation deploy --template-file {dir}/template.json --stack-name {} --capabilities CAPABILITY_NAMED_IAM\n  \
             for f in {dir}/seed/*.json; do aws dynamodb batch-write-item --request-items file://$f; done\n  \
             aws stepfunctions start-execution --state-machine-arn arn:aws:states:{}:{}:stateMachine:{} --name {run_id} --input file://{dir}/input.json\n",
            opts.name,
            exported.lanes,
            opts.name,
            exported.home.1,
            exported.home.0,
            opts.name,
            dir = args.out.display(),
        ));
        crate::cli::printer::out(&text);
    }
    Ok(ExitStatus::Success)
}
