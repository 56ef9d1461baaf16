//! Benchmark 1: schedule quality.
//!
//! On random DAGs of 50–2,000 restores with heavy-tailed sizes, simulates
//! the executor with critical-path-first order and with FIFO topological
//! order (what a plain graph walker such as Terraform's does) at the same
//! caps, and prints makespan / lower bound, where the lower bound is
//! max(critical path, total work / cap, per-account work / per-account cap).
//!
//! Run: `cargo bench --bench schedule_quality` (add `-- QUICK` for 20 DAGs).

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
use restoreplan::sim::generate::{benchmark_dag, random_plan};
use restoreplan::sim::offline::resolve_offline;
use restoreplan::sim::run::{SimConfig, simulate};

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs this
/// binary too (unoptimised), and then it only proves the measurement runs,
/// on a small input, and measures nothing worth reading.
fn benching() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn main() {
    let quick = std::env::args().any(|a| a == "QUICK");
    let dags = match (benching(), quick) {
        (false, _) => 2,
        (true, true) => 20,
        (true, false) => 120,
    };
    let model = DurationModel::default();
    let t0 = Instant::now();
    let mut cp_ratios = Vec::new();
    let mut fifo_ratios = Vec::new();
    let mut rows = Vec::new();
    for k in 0..dags {
        let (shape, seed, concurrency) = benchmark_dag(k, !benching());
        let n = shape.restores;
        let (restores, sizes) = random_plan(shape, seed);
        let Ok(graph) = DependencyGraph::build(&restores) else {
            eprintln!("dag {k}: generator produced a cycle");
            std::process::exit(2);
        };
        let offline = resolve_offline("bench", &restores, &sizes, &model, Utc::now());
        let mut cfg = SimConfig::from_execution(
            &Execution {
                concurrency,
                ..Execution::default()
            },
            seed,
            Utc::now(),
        );
        cfg.requests_per_second = None;
        let mut ratio = |fifo: bool| {
            cfg.fifo = fifo;
            match simulate(&graph, &offline, &model, "bench", None, &cfg) {
                Ok(o) => (o.makespan / o.lower_bound, o.makespan, o.lower_bound),
                Err(e) => {
                    eprintln!("dag {k}: {e}");
                    std::process::exit(2);
                }
            }
        };
        let (cp, ms, lb) = ratio(false);
        let (fifo, fms, _) = ratio(true);
        cp_ratios.push(cp);
        fifo_ratios.push(fifo);
        rows.push((n, concurrency, shape.accounts, lb, ms, fms, cp, fifo));
    }
    let stats = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let worst = v.iter().copied().fold(0.0, f64::max);
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        let p90 = s[(s.len() * 9 / 10).min(s.len() - 1)];
        (mean, p90, worst)
    };
    println!(
        "schedule quality over {dags} random DAGs (50–2,000 restores, caps 5/10/25/50, 1–3 accounts)"
    );
    println!(
        "makespan / lower bound, lower bound = max(critical path, work / cap, account work / account cap)\n"
    );
    println!(
        "  {:>5} {:>4} {:>3} {:>9} {:>9} {:>9} {:>7} {:>7}",
        "n", "cap", "acc", "bound h", "cp h", "fifo h", "cp", "fifo"
    );
    for (n, c, a, lb, ms, fms, cp, fifo) in rows.iter().take(if quick { 20 } else { 12 }) {
        println!(
            "  {n:>5} {c:>4} {a:>3} {:>9.2} {:>9.2} {:>9.2} {cp:>7.3} {fifo:>7.3}",
            lb / 3600.0,
            ms / 3600.0,
            fms / 3600.0
        );
    }
    let (m, p, w) = stats(&cp_ratios);
    let (fm, fp, fw) = stats(&fifo_ratios);
    println!("\n  order            mean    p90     worst");
    println!("  critical path    {m:.3}   {p:.3}   {w:.3}");
    println!("  FIFO topological {fm:.3}   {fp:.3}   {fw:.3}");
    let better = cp_ratios
        .iter()
        .zip(&fifo_ratios)
        .filter(|(a, b)| a < b)
        .count();
    println!(
        "\n  critical path shorter than FIFO on {better}/{dags} DAGs; wall time {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}
