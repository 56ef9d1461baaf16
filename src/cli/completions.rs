//! `restoreplan completions SHELL`: shell completion scripts.
//!
//! clap generates the static part; run ids (`apply --resume RUN`,
//! `teardown RUN`, `unlock RUN`, `promote RUN`, `verify RUN`, `runs --report RUN`) are
//! the folders of the runs directory
//! (`RESTOREPLAN_RUNS_DIR`, default `.restoreplan/runs`), listed when
//! completing, for bash, zsh and fish.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::{Cli, ExitStatus, Result};

/// Arguments of `completions`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: Shell,
}

const BASH_RUNS: &str = r#"
# Run ids for `apply --resume` and `teardown`: the folders of the runs
# directory (`--runs-dir`, RESTOREPLAN_RUNS_DIR or .restoreplan/runs).
_restoreplan_run_ids() {
    local dir="${RESTOREPLAN_RUNS_DIR:-.restoreplan/runs}" i
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ "${COMP_WORDS[i]}" == "--runs-dir" ]]; then dir="${COMP_WORDS[i+1]}"; fi
    done
    [[ -d "$dir" ]] && (cd "$dir" && compgen -d -- "$1")
}
_restoreplan_with_run_ids() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    if [[ "$prev" == "--resume" || ( ( "$prev" == "teardown" || "$prev" == "verify" ) && "$cur" != -* ) ]]; then
        COMPREPLY=($(_restoreplan_run_ids "$cur"))
        return 0
    fi
    _restoreplan "$@"
}
complete -F _restoreplan_with_run_ids -o bashdefault -o default restoreplan
"#;

const ZSH_RUNS: &str = r#"
# Run ids for `apply --resume` and `teardown`: the folders of the runs directory.
_restoreplan_run_ids() {
    local dir=${RESTOREPLAN_RUNS_DIR:-.restoreplan/runs}
    local -a ids
    ids=(${dir}/*(N/:t))
    _describe 'run' ids
}
"#;

const FISH_RUNS: &str = r#"
# Run ids for `apply --resume` and `teardown`: the folders of the runs directory.
function __restoreplan_run_ids
    set -l dir .restoreplan/runs
    set -q RESTOREPLAN_RUNS_DIR; and set dir $RESTOREPLAN_RUNS_DIR
    for d in $dir/*/
        basename $d
    end
end
complete -c restoreplan -n "__fish_seen_subcommand_from apply" -l resume -r -f -a "(__restoreplan_run_ids)"
complete -c restoreplan -n "__fish_seen_subcommand_from teardown" -f -a "(__restoreplan_run_ids)"
complete -c restoreplan -n "__fish_seen_subcommand_from verify" -f -a "(__restoreplan_run_ids)"
"#;

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "restoreplan", &mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    match shell {
        Shell::Bash => text + BASH_RUNS,
        Shell::Zsh => {
            let text = text
                .replace(":RUN:_default'", ":RUN:_restoreplan_run_ids'")
                .replace(
                    "(see `restoreplan runs`):_default'",
                    "(see `restoreplan runs`):_restoreplan_run_ids'",
                );
            // The helper must exist before `_restoreplan` runs, which the
            // script's last lines may do at once.
            match text.split_once('\n') {
                Some((first, rest)) => format!("{first}\n{ZSH_RUNS}{rest}"),
                None => text,
            }
        }
        Shell::Fish => text + FISH_RUNS,
        _ => text,
    }
}

/// Prints the completion script on stdout.
pub fn run(args: &Args) -> Result {
    crate::cli::printer::out(&script(args.shell));
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zsh_completes_run_ids_where_a_run_is_expected() {
        let z = script(Shell::Zsh);
        assert!(z.starts_with("#compdef restoreplan\n"));
        assert!(z.contains(":RUN:_restoreplan_run_ids'"), "--resume");
        assert_eq!(
            z.matches("_restoreplan_run_ids'").count(),
            8,
            "--resume, runs --report/--gantt, teardown, unlock, promote, verify RUN and export --run"
        );
        assert!(script(Shell::Fish).contains("-l resume -r -f -a \"(__restoreplan_run_ids)\""));
    }
}
