//! `restoreplan diff OLD NEW`: the semantic diff of two versions of a plan,
//! offline, as text, Markdown (for a pull-request comment) or JSON.

use std::path::PathBuf;

use clap::ValueEnum;

use crate::cli::{CompileArgs, ExitStatus, Output, Result, load_or_report};
use crate::diff::plans::diff_plans;
use crate::report::{self, Style};

/// Arguments of `diff`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The old version of the plan.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The new version of the plan.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Exit with status 1 when the plans differ (like `git diff --exit-code`).
    #[arg(long)]
    pub exit_code: bool,
    /// Expand `select:` restores from the source accounts, so the diff
    /// shows which tables a selector change adds or removes.
    #[arg(long)]
    pub live: bool,
    /// AWS access for `--live`.
    #[command(flatten)]
    pub aws: crate::cli::aws::AwsArgs,
    /// Compilation settings (both plans use the same `{date}`).
    #[command(flatten)]
    pub compile: CompileArgs,
}

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `+ ~ -` text.
    Human,
    /// Markdown for a pull-request comment.
    Markdown,
    /// JSON (`schema_version` 1).
    Json,
}

/// Runs `diff`.
pub fn run(args: &Args, out: Output) -> Result {
    // Load both before giving up, so every broken file is reported at once.
    let old = load_or_report(&args.old, &args.compile, out);
    let new = load_or_report(&args.new, &args.compile, out);
    let (old, new) = match (old, new) {
        (Ok(o), Ok(n)) => (o, n),
        // Both were reported; the worse one decides the status.
        (Err(a), Err(b)) => {
            return Err(if a.exit_status() >= b.exit_status() {
                a
            } else {
                b
            });
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    let selectors = crate::plan::select::diff_groups(&old.groups, &new.groups);
    let (old, new) = if args.live {
        let cloud = args.aws.read_only();
        let old = crate::cli::select::expand_or_report(old, &cloud, &args.compile, out)?;
        let new = crate::cli::select::expand_or_report(new, &cloud, &args.compile, out)?;
        (old, new)
    } else {
        (old, new)
    };
    let d = diff_plans(&old.plan, &new.plan).with_selectors(selectors);
    let (old_label, new_label) = (old.source.name(), new.source.name());
    let text = match args.format {
        Format::Human => {
            report::text::plan_diff(&d, old_label, new_label, Style { color: out.color })
        }
        Format::Markdown => report::markdown::plan_diff(&d, old_label, new_label),
        Format::Json => report::json::plan_diff(&d),
    };
    crate::cli::printer::out(&text);
    crate::cli::printer::step_summary(&report::markdown::plan_diff(&d, old_label, new_label));
    Ok(if args.exit_code && !d.is_empty() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}
