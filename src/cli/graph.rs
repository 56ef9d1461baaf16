//! `restoreplan graph PLAN`: layers and critical path, or DOT / Mermaid.

use std::path::PathBuf;

use clap::ValueEnum;

use crate::cli::{CompileArgs, ExitStatus, Output, Result};
use crate::report::graph;

/// Arguments of `graph`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The plan file.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Compilation settings.
    #[command(flatten)]
    pub compile: CompileArgs,
}

/// Output formats of `graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Layers and the critical path, as text.
    Text,
    /// Graphviz DOT; the critical path in bold.
    Dot,
    /// A Mermaid flowchart; the critical path highlighted.
    Mermaid,
}

/// Runs `graph`.
pub fn run(args: &Args, out: Output) -> Result {
    let loaded = crate::cli::load_or_report(&args.plan, &args.compile, out)?;
    let text = match args.format {
        Format::Text => graph::text(&loaded.plan),
        Format::Dot => graph::dot(&loaded.plan),
        Format::Mermaid => graph::mermaid(&loaded.plan),
    };
    crate::cli::printer::out(&text);
    Ok(ExitStatus::Success)
}
