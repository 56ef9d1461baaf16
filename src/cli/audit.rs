//! `restoreplan audit PLAN --out report.{md,json,html}`: the dry run as an
//! audit record. Every check with its evidence, the identities used and the
//! timestamps; exit status 1 when any check fails.

use std::path::PathBuf;

use crate::check::live::LiveOptions;
use crate::cli::aws::{AwsArgs, block_on};
use crate::cli::{CompileArgs, Error, ExitStatus, Output, Result, load_or_report};
use crate::diff::pipeline;
use crate::report::{self, Style};

/// Arguments of `audit`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The plan file.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Write the report here; the extension picks the format: `.md`,
    /// `.json` or `.html` (repeatable). The summary always goes to stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Vec<PathBuf>,
    /// AWS access.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Compilation settings.
    #[command(flatten)]
    pub compile: CompileArgs,
}

/// Runs `audit`.
pub fn run(args: &Args, out: Output) -> Result {
    // Refuse unknown extensions before talking to AWS.
    let mut targets = Vec::new();
    for path in &args.out {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("md" | "markdown" | "json" | "html" | "htm") => targets.push((path, ext)),
            _ => {
                return Err(Error::Message(format!(
                    "failed to choose a format for {}: name it .md, .json or .html",
                    path.display()
                )));
            }
        }
    }
    let loaded = load_or_report(&args.plan, &args.compile, out)?;
    let cloud = args.aws.read_only();
    let loaded = crate::cli::select::expand_or_report(loaded, &cloud, &args.compile, out)?;
    let mut a = block_on(pipeline::audit(
        &loaded.plan,
        &cloud,
        &LiveOptions::default(),
        crate::clock::now(),
    ))?;
    a.dry_run.selections = loaded.groups.iter().filter_map(|g| g.view()).collect();
    for (path, ext) in targets {
        let text = match ext.as_deref() {
            Some("json") => report::json::audit(&a),
            Some("html" | "htm") => report::html::audit(&a),
            _ => report::markdown::audit(&a),
        };
        std::fs::write(path, text)
            .map_err(|e| Error::Message(format!("failed to write {}: {e}", path.display())))?;
    }
    if !out.quiet {
        crate::cli::printer::out(&report::text::audit(&a, Style { color: out.color }));
    }
    Ok(if a.passed {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
