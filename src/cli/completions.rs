//! `restoreplan completions SHELL`: shell completion scripts.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, ExitStatus};

/// Arguments of `completions`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Prints the completion script on stdout.
pub fn run(args: &Args) -> ExitStatus {
    let mut cmd = Cli::command();
    clap_complete::generate(
        args.shell,
        &mut cmd,
        "restoreplan",
        &mut crate::cli::printer::Stdout,
    );
    ExitStatus::Valid
}
