//! Benchmark 2: engine overhead.
//!
//! Builds a 10,000-restore plan, resolves it offline and runs the real
//! executor against the simulated cloud in virtual time, end to end, and
//! prints the wall time and the peak RSS of the whole process.
//!
//! Run: `cargo bench --bench engine_overhead` (argument: number of restores).

// Test and benchmark code: its items are shared between its own modules,
// it reports on stdout and stderr, and a benchmark that misses its target
// ends with a failing status.
#![allow(
    unreachable_pub,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit
)]

use std::time::Instant;

use chrono::Utc;
use restoreplan::duration::DurationModel;
use restoreplan::graph::DependencyGraph;
use restoreplan::plan::model::Execution;
use restoreplan::sim::generate::{Shape, random_plan};
use restoreplan::sim::offline::resolve_offline;
use restoreplan::sim::run::{SimConfig, simulate};

/// Peak resident set size of this process in KiB (Linux `VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs this
/// binary too (unoptimised), and then it only proves the measurement runs,
/// on a small input, and measures nothing worth reading.
fn benching() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(if benching() { 10_000 } else { 200 });
    let model = DurationModel::default();
    let t0 = Instant::now();
    let mut shape = Shape::realistic(n);
    shape.accounts = 4;
    let (restores, sizes) = random_plan(shape, 7);
    let graph = match DependencyGraph::build(&restores) {
        Ok(g) => g,
        Err(_) => {
            eprintln!("generator produced a cycle");
            std::process::exit(2);
        }
    };
    let offline = resolve_offline("bench", &restores, &sizes, &model, Utc::now());
    let t_build = t0.elapsed();
    let cfg = SimConfig::from_execution(
        &Execution {
            concurrency: 200,
            ..Execution::default()
        },
        7,
        Utc::now(),
    );
    let outcome = match simulate(&graph, &offline, &model, "bench", None, &cfg) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let wall = t0.elapsed();
    let calls: u64 = outcome.stats.calls.values().sum();
    println!("engine overhead: {n} restores, 4 accounts, concurrency 200, request cap 25/s");
    println!(
        "  plan build + offline resolution: {:.3} s",
        t_build.as_secs_f64()
    );
    println!(
        "  end to end (build + simulate):   {:.3} s wall (target < 2 s)",
        wall.as_secs_f64()
    );
    println!(
        "  simulated makespan:              {:.1} h of virtual time",
        outcome.makespan / 3600.0
    );
    println!("  API calls simulated:             {calls}");
    println!(
        "  completed restores:              {}",
        outcome.summary.completed
    );
    match peak_rss_kib() {
        Some(k) => println!(
            "  peak RSS of the process:         {:.1} MiB (target < 200 MiB)",
            k as f64 / 1024.0
        ),
        None => println!("  peak RSS of the process:         unavailable (no /proc)"),
    }
}
