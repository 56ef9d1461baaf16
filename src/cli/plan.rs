//! `restoreplan plan PLAN`: the dry run. Resolves the plan against the live
//! account through a read-only cloud and shows exactly what `apply` would
//! do; `--out FILE` saves it for `apply --plan-file`.

use std::path::PathBuf;

use clap::ValueEnum;

use crate::check::live::LiveOptions;
use crate::cli::aws::{AwsArgs, block_on};
use crate::cli::{CompileArgs, Error, ExitStatus, Output, Result, load_or_report};
use crate::diff;
use crate::report::{self, Style};

/// Arguments of `plan`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The plan file.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also save the dry run (JSON) to this file, for `apply --plan-file`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// AWS access.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Compilation settings.
    #[command(flatten)]
    pub compile: CompileArgs,
}

/// Output formats of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Terraform-like text with a summary line.
    Human,
    /// The versioned JSON of `schemas/plan-output.schema.json`.
    Json,
    /// Markdown sized for a pull-request comment.
    Markdown,
    /// GitHub workflow annotations: an error at each blocked restore's line,
    /// a notice at each restore `apply` will start.
    Github,
}

/// Runs `plan`.
pub fn run(args: &Args, out: Output) -> Result {
    let loaded = load_or_report(&args.plan, &args.compile, out)?;
    let cloud = args.aws.read_only();
    let loaded = crate::cli::select::expand_or_report(loaded, &cloud, &args.compile, out)?;
    let mut dry = block_on(diff::dry_run(&loaded.plan, &cloud, &LiveOptions::default()))?;
    dry.selections = loaded.groups.iter().filter_map(|g| g.view()).collect();
    if let Some(path) = &args.out {
        std::fs::write(path, report::json::dry_run(&dry))
            .map_err(|e| Error::Message(format!("failed to write {}: {e}", path.display())))?;
    }
    let text = match args.format {
        Format::Human => report::text::dry_run(&dry, Style { color: out.color }),
        Format::Json => report::json::dry_run(&dry),
        Format::Markdown => report::markdown::dry_run(&dry),
        Format::Github => {
            let lines = loaded
                .plan
                .restores()
                .iter()
                .filter_map(|r| Some((r.id.clone(), loaded.source.position(r.spans.entry?))))
                .collect();
            report::github::dry_run(&dry, loaded.source.name(), &lines)
        }
    };
    crate::cli::printer::step_summary(&report::markdown::dry_run(&dry));
    crate::cli::printer::out(&text);
    Ok(if dry.is_ready() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
