//! Benchmark 4: API efficiency of polling.
//!
//! Simulates the same plans with the adaptive poller (waits a fraction of
//! the expected remaining time, from AWS Backup's progress or the size
//! model) and with a fixed 15-second poll, and prints DescribeRestoreJob +
//! DescribeTable calls per restore and the delay in noticing completions.
//!
//! Run: `cargo bench --bench api_efficiency`.

// Test and benchmark code: its items are shared between its own modules,
// it reports on stdout and stderr, and a benchmark that misses its target
// ends with a failing status.
#![allow(
    unreachable_pub,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit
)]

use std::time::Duration;

use chrono::Utc;
use restoreplan::duration::DurationModel;
use restoreplan::exec::policy::PollPolicy;
use restoreplan::graph::DependencyGraph;
use restoreplan::plan::model::Execution;
use restoreplan::sim::generate::{Shape, random_plan};
use restoreplan::sim::offline::resolve_offline;
use restoreplan::sim::run::{SimConfig, simulate};

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs this
/// binary too (unoptimised), and then it only proves the measurement runs,
/// on a small input, and measures nothing worth reading.
fn benching() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn main() {
    let model = DurationModel::default();
    println!("API efficiency: polling calls per restore, adaptive vs fixed 15 s");
    println!(
        "  {:>5} {:>12} {:>12} {:>8} {:>13} {:>13}",
        "n", "adaptive", "fixed 15s", "ratio", "makespan adp", "makespan 15s"
    );
    let mut totals = (0u64, 0u64, 0usize);
    let sizes: &[usize] = if benching() { &[100, 500, 2000] } else { &[50] };
    for (k, &n) in sizes.iter().enumerate() {
        let (restores, sizes) = random_plan(Shape::realistic(n), 40 + k as u64);
        let Ok(graph) = DependencyGraph::build(&restores) else {
            eprintln!("generator produced a cycle");
            std::process::exit(2);
        };
        let offline = resolve_offline("bench", &restores, &sizes, &model, Utc::now());
        let mut results = Vec::new();
        for poll in [
            PollPolicy::default(),
            PollPolicy::fixed(Duration::from_secs(15)),
        ] {
            let mut cfg = SimConfig::from_execution(
                &Execution {
                    concurrency: 50,
                    ..Execution::default()
                },
                9,
                Utc::now(),
            );
            cfg.poll = poll;
            cfg.requests_per_second = None;
            match simulate(&graph, &offline, &model, "bench", None, &cfg) {
                Ok(o) => results.push((o.stats.polls(), o.makespan)),
                Err(e) => {
                    eprintln!("{e}");
                    std::process::exit(2);
                }
            }
        }
        let (a, b) = (results[0], results[1]);
        totals.0 += a.0;
        totals.1 += b.0;
        totals.2 += n;
        println!(
            "  {n:>5} {:>12.1} {:>12.1} {:>7.1}x {:>12.2}h {:>12.2}h",
            a.0 as f64 / n as f64,
            b.0 as f64 / n as f64,
            b.0 as f64 / a.0.max(1) as f64,
            a.1 / 3600.0,
            b.1 / 3600.0
        );
    }
    println!(
        "\n  overall: {:.1} vs {:.1} polls per restore ({:.1}x fewer calls)",
        totals.0 as f64 / totals.2 as f64,
        totals.1 as f64 / totals.2 as f64,
        totals.1 as f64 / totals.0.max(1) as f64
    );
}
