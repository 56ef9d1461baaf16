//! The `restoreplan` binary; everything lives in the library.

fn main() -> std::process::ExitCode {
    restoreplan::cli::main()
}
