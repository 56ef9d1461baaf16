//! `restoreplan validate PLAN...`: every static rule, offline.

use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;

use crate::cli::{CompileArgs, ExitStatus, Output};
use crate::diag::{Finding, Severity};
use crate::plan::{LoadError, SourceFile};
use crate::report::findings;

/// Arguments of `validate`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Plan files to check.
    #[arg(required = true, value_name = "PLAN")]
    pub plans: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Compilation settings.
    #[command(flatten)]
    pub compile: CompileArgs,
}

/// Output formats of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Diagnostics with source excerpts on stderr, a summary per plan on stdout.
    Human,
    /// One JSON document on stdout (`schema_version` 1).
    Json,
    /// GitHub workflow annotations on stdout.
    Github,
}

/// What validating one file produced.
struct Outcome {
    source: SourceFile,
    findings: Vec<Finding>,
    summary: Option<String>,
}

/// Runs `validate`.
pub fn run(args: &Args, out: Output) -> ExitStatus {
    let opts = args.compile.options();
    let mut status = ExitStatus::Valid;
    let mut json_files = Vec::new();
    let stdout = std::io::stdout();
    let mut stdout = std::io::BufWriter::new(stdout.lock());
    for path in &args.plans {
        let outcome = match crate::plan::load_file(path, &opts) {
            Ok(loaded) => {
                let plan = &loaded.plan;
                let layers = plan.graph().layers().len();
                let summary = format!(
                    "{}: valid: plan `{}`, {} restore{}, {} layer{}{}",
                    loaded.source.name(),
                    plan.name(),
                    plan.restores().len(),
                    plural(plan.restores().len()),
                    layers,
                    plural(layers),
                    match loaded.warnings.len() {
                        0 => String::new(),
                        n => format!(", {n} warning{}", plural(n)),
                    }
                );
                Outcome {
                    source: loaded.source,
                    findings: loaded.warnings,
                    summary: Some(summary),
                }
            }
            Err(LoadError::Read { path, source }) => {
                eprintln!("error: failed to read {}: {source}", path.display());
                status = status.max(ExitStatus::Error);
                continue;
            }
            Err(LoadError::Rejected(r)) => {
                status = status.max(ExitStatus::Findings);
                Outcome {
                    source: r.source,
                    findings: r.findings,
                    summary: None,
                }
            }
        };
        let shown: Vec<Finding> = outcome
            .findings
            .iter()
            .filter(|f| !out.quiet || f.severity == Severity::Error)
            .cloned()
            .collect();
        // Write errors (a closed pipe) must not turn into a panic; the exit
        // status still reports the validation outcome.
        match args.format {
            Format::Human => {
                if !shown.is_empty() {
                    eprint!(
                        "{}",
                        findings::render_human(&shown, &outcome.source, out.human())
                    );
                }
                match &outcome.summary {
                    Some(s) if !out.quiet => {
                        let _ = writeln!(stdout, "{s}");
                    }
                    Some(_) => {}
                    None => {
                        let errors = outcome.findings.iter().filter(|f| f.is_error()).count();
                        let warnings = outcome.findings.len() - errors;
                        eprintln!(
                            "{}: invalid: {errors} error{}{}",
                            outcome.source.name(),
                            plural(errors),
                            match warnings {
                                0 => String::new(),
                                n => format!(", {n} warning{}", plural(n)),
                            }
                        );
                    }
                }
            }
            Format::Json => {
                json_files.push(findings::json_file(&outcome.findings, &outcome.source))
            }
            Format::Github => {
                let _ =
                    stdout.write_all(findings::render_github(&shown, &outcome.source).as_bytes());
            }
        }
    }
    if args.format == Format::Json {
        let doc = findings::json_document(json_files);
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        let _ = writeln!(stdout, "{text}");
    }
    let _ = stdout.flush();
    status
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
