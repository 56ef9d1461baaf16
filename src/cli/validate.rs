//! `restoreplan validate PLAN...`: every static rule, offline.

use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;

use crate::check::live::{self, LiveOptions};
use crate::cli::aws::AwsArgs;
use crate::cli::{CompileArgs, ExitStatus, Output, Result};
use crate::diag::{Finding, Severity};
use crate::plan::{LoadError, SourceFile};
use crate::report::findings;

/// Arguments of `validate`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Plan files to check (`-` reads one from standard input).
    #[arg(required = true, value_name = "PLAN")]
    pub plans: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also check the plan against AWS (read-only): keys, recovery points, target tables.
    #[arg(long)]
    pub live: bool,
    /// Compilation settings.
    #[command(flatten)]
    pub compile: CompileArgs,
    /// Credentials for `--live`.
    #[command(flatten)]
    pub aws: AwsArgs,
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
pub fn run(args: &Args, out: Output) -> Result {
    let opts = args.compile.options();
    let mut status = ExitStatus::Success;
    let mut json_files = Vec::new();
    let mut summary_rows = Vec::new();
    let mut stdout = std::io::BufWriter::new(crate::cli::printer::Stdout);
    for path in &args.plans {
        let sizes = crate::sim::offline::Sizes::recognise(path);
        let loaded = match sizes {
            Some(_) => None,
            None => Some(crate::plan::load_file(path, &opts)),
        };
        // The live checks see each `select:` expanded from the account.
        let loaded = match loaded {
            Some(Ok(l)) if args.live => {
                Some(crate::cli::select::expand_for_validate(l, &args.aws, &opts))
            }
            other => other,
        };
        let outcome = match loaded {
            // A sizes file is checked against its own format, not the plan's.
            None => {
                let text = std::fs::read_to_string(path).unwrap_or_default();
                let source = SourceFile::new(path.display().to_string(), text);
                match sizes {
                    Some(Ok(s)) => Outcome {
                        summary: Some(format!(
                            "{}: valid sizes file: {} table size{} (for `simulate --sizes`; not a plan)",
                            source.name(),
                            s.0.len(),
                            plural(s.0.len())
                        )),
                        source,
                        findings: Vec::new(),
                    },
                    _ => {
                        let message = match sizes {
                            Some(Err(e)) => e,
                            _ => String::new(),
                        };
                        status = status.max(ExitStatus::Failure);
                        Outcome {
                            findings: vec![crate::sim::sizes_file::invalid(&source, &message)],
                            source,
                            summary: None,
                        }
                    }
                }
            }
            Some(result) => match result {
                Ok(loaded) => {
                    let plan = &loaded.plan;
                    let mut findings = loaded.warnings;
                    let mut identities = Vec::new();
                    if args.live {
                        match live_check(plan, &args.aws) {
                            Ok(report) => {
                                identities = report.identities;
                                findings.extend(report.findings);
                            }
                            Err(e) => {
                                let why = format!("failed to start the live checks: {e}");
                                crate::errln!("error: {why}");
                                json_files.push(findings::json_unchecked(
                                    &path.display().to_string(),
                                    &why,
                                ));
                                status = status.max(ExitStatus::Error);
                                continue;
                            }
                        }
                    }
                    let errors = findings.iter().filter(|f| f.is_error()).count();
                    let warnings = findings.len() - errors;
                    if errors > 0 {
                        status = status.max(ExitStatus::Failure);
                    }
                    let layers = plan.graph().layers().len();
                    let summary = (errors == 0).then(|| {
                        format!(
                            "{}: valid{}: plan `{}`, {} restore{}, {} layer{}{}",
                            loaded.source.name(),
                            if args.live { " (live)" } else { "" },
                            plan.name(),
                            plan.restores().len(),
                            plural(plan.restores().len()),
                            layers,
                            plural(layers),
                            match warnings {
                                0 => String::new(),
                                n => format!(", {n} warning{}", plural(n)),
                            }
                        )
                    });
                    if args.format == Format::Human && !out.quiet {
                        for i in &identities {
                            match &i.identity {
                                Ok(id) => crate::errln!("account {}: {id}", i.account),
                                Err(e) => crate::errln!("account {}: not usable: {e}", i.account),
                            }
                        }
                    }
                    Outcome {
                        source: loaded.source,
                        findings,
                        summary,
                    }
                }
                Err(LoadError::Read { path, source }) => {
                    let why = format!("failed to read {}: {source}", path.display());
                    crate::errln!("error: {why}");
                    // Every input has its entry, an unreadable one too.
                    json_files.push(findings::json_unchecked(&path.display().to_string(), &why));
                    status = status.max(ExitStatus::Error);
                    continue;
                }
                Err(LoadError::Rejected(r)) => {
                    status = status.max(ExitStatus::Failure);
                    Outcome {
                        source: r.source,
                        findings: r.findings,
                        summary: None,
                    }
                }
            },
        };
        summary_rows.push(summary_row(&outcome));
        // Human eyes get one diagnostic for a problem shared by several restores.
        let grouped = if args.format == Format::Json {
            outcome.findings.clone()
        } else {
            crate::diag::coalesce(&outcome.findings)
        };
        let shown: Vec<Finding> = grouped
            .iter()
            .filter(|f| !out.quiet || f.severity == Severity::Error)
            .cloned()
            .collect();
        // Write errors (a closed pipe) must not turn into a panic; the exit
        // status still reports the validation outcome.
        match args.format {
            Format::Human => {
                if !shown.is_empty() {
                    crate::err!(
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
                        crate::errln!(
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
    crate::cli::printer::step_summary(&step_summary(&summary_rows));
    Ok(status)
}

/// One file's part of the job summary: its line of the table, then its
/// findings (at most ten per rule).
fn summary_row(outcome: &Outcome) -> (String, String) {
    let errors = outcome.findings.iter().filter(|f| f.is_error()).count();
    let warnings = outcome.findings.len() - errors;
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let row = format!(
        "| `{}` | {} | {errors} | {warnings} |",
        cell(outcome.source.name()),
        if errors == 0 {
            "✅ valid"
        } else {
            "❌ invalid"
        }
    );
    let (shown, omitted) = crate::diag::capped(&crate::diag::coalesce(&outcome.findings));
    let mut details = String::new();
    for f in &shown {
        let at = f
            .span
            .map(|s| {
                let (l, _) = outcome.source.position(s);
                format!(":{l}")
            })
            .unwrap_or_default();
        details.push_str(&format!(
            "- **{}** `{}{at}` {}: {}\n",
            match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "note",
            },
            cell(outcome.source.name()),
            f.code,
            cell(&f.message)
        ));
    }
    for (code, n) in omitted {
        details.push_str(&format!("- … {n} more {code} findings\n"));
    }
    (row, details)
}

/// The Markdown `validate` appends to `GITHUB_STEP_SUMMARY`.
fn step_summary(rows: &[(String, String)]) -> String {
    let mut md = String::from(
        "### restoreplan validate\n\n| file | result | errors | warnings |\n| --- | --- | ---: | ---: |\n",
    );
    for (row, _) in rows {
        md.push_str(row);
        md.push('\n');
    }
    let details: String = rows.iter().map(|(_, d)| d.as_str()).collect();
    if !details.is_empty() {
        md.push('\n');
        md.push_str(&details);
    }
    md
}

/// Runs the live checks of one plan with the real AWS adapter.
fn live_check(
    plan: &crate::plan::model::Plan,
    aws: &AwsArgs,
) -> std::result::Result<live::LiveReport, String> {
    let cloud = aws.read_only();
    crate::cli::aws::block_on(live::check(plan, &cloud, &LiveOptions::default()))
}

/// Rule code of a sizes file that does not parse.
pub use crate::sim::sizes_file::SIZES_INVALID;

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
