//! The `restoreplan` binary; everything lives in the library.

// Loading a large plan allocates many small strings and nodes; mimalloc
// roughly halves the allocator's share of `validate` on a 10,000-restore plan.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    restoreplan::cli::main()
}
