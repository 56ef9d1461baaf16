//! Benchmark: the Step Functions engine beside the local engine.
//!
//! On the random DAGs `schedule_quality` uses (50–2,000 restores, caps
//! 5/10/25/50, 1–3 accounts) and on a 10,000-restore plan (one account at
//! cap 50, and three accounts at cap 150), with emulator-like durations
//! (600 s plus 50 MiB/s, no jitter: what `tests/emulator` models), prints
//! for both engines makespan / lower bound, and for the exported state
//! machine its state transitions per restore and the predicted dollars per
//! 1,000 restores (`simulate --engine step-functions`).
//!
//! Run: `cargo bench --bench sfn_engine` (add `-- QUICK` for 20 DAGs).
//! Targets for the Step Functions engine: mean makespan / lower bound
//! ≤ 1.10, transitions per restore ≤ 60.

#![allow(
    unreachable_pub,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::exit
)]

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::Utc;
use restoreplan::duration::DurationModel;
use restoreplan::plan::model::{Execution, Objectives, Plan, PlanHeader, Restore};
use restoreplan::sim::generate::{Shape, benchmark_dag, random_plan};
use restoreplan::sim::offline::{Sizes, resolve_offline};
use restoreplan::sim::run::{SimConfig, simulate};
use restoreplan::sim::sfn::{EngineModel, predict};

/// `cargo bench` passes `--bench`; `cargo test --all-targets` runs this
/// binary too (unoptimised), and then it only proves the measurement runs,
/// on a small input.
fn benching() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn emulator_like() -> DurationModel {
    DurationModel {
        backup_overhead_seconds: 600.0,
        native_overhead_seconds: 600.0,
        bytes_per_second: 50.0 * 1024.0 * 1024.0,
        jitter: 0.0,
        ..DurationModel::default()
    }
}

fn sealed(restores: Vec<Restore>, concurrency: u32) -> Plan {
    let header = PlanHeader {
        name: "bench".into(),
        description: None,
        objectives: Objectives {
            rpo: None,
            rto: None,
        },
        execution: Execution {
            concurrency,
            ..Execution::default()
        },
        keys: BTreeMap::new(),
        state: Default::default(),
    };
    match Plan::seal(header, restores) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("the generator made a plan that does not seal: {e:?}");
            std::process::exit(2);
        }
    }
}

struct Row {
    n: usize,
    cap: u32,
    accounts: usize,
    local: f64,
    sfn: f64,
    per_restore: f64,
    per_1000: f64,
    lanes: u32,
}

fn measure(restores: Vec<Restore>, sizes: &Sizes, cap: u32, accounts: usize, seed: u64) -> Row {
    let model = emulator_like();
    let n = restores.len();
    let plan = sealed(restores, cap);
    let offline = resolve_offline("bench", plan.restores(), sizes, &model, Utc::now());
    let mut cfg = SimConfig::from_execution(&plan.header().execution, seed, Utc::now());
    cfg.requests_per_second = None;
    let local = match simulate(plan.graph(), &offline, &model, "bench", None, &cfg) {
        Ok(o) => o.makespan / o.lower_bound,
        Err(e) => {
            eprintln!("local engine: {e}");
            std::process::exit(2);
        }
    };
    let p = match predict(&plan, &offline, &model, seed, None, EngineModel::default()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("step functions engine: {e}");
            std::process::exit(2);
        }
    };
    Row {
        n,
        cap,
        accounts,
        local,
        sfn: p.predicted_rto_seconds / p.lower_bound_seconds,
        per_restore: p.transitions_per_restore,
        per_1000: p.dollars_per_1000_restores,
        lanes: p.lanes,
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "QUICK");
    let dags = match (benching(), quick) {
        (false, _) => 2,
        (true, true) => 20,
        (true, false) => 120,
    };
    let t0 = Instant::now();
    let mut rows = Vec::new();
    for k in 0..dags {
        let (shape, seed, cap) = benchmark_dag(k, !benching());
        let (restores, sizes) = random_plan(shape, seed);
        rows.push(measure(restores, &sizes, cap, shape.accounts, seed));
    }
    let big = if benching() { 10_000 } else { 200 };
    let mut large = Vec::new();
    for (accounts, cap) in [(1usize, 50u32), (3, 150)] {
        let mut shape = Shape::realistic(big);
        shape.accounts = accounts;
        let (restores, sizes) = random_plan(shape, 77);
        large.push(measure(restores, &sizes, cap, accounts, 77));
    }
    let stats = |f: &dyn Fn(&Row) -> f64| {
        let mut v: Vec<f64> = rows.iter().map(f).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        v.sort_by(f64::total_cmp);
        let p90 = v[(v.len() * 9 / 10).min(v.len() - 1)];
        (mean, p90, v[v.len() - 1])
    };
    println!(
        "Step Functions engine beside the local engine over {dags} random DAGs (50–2,000 restores, caps 5/10/25/50, 1–3 accounts), emulator-like durations\n"
    );
    println!(
        "  {:>6} {:>4} {:>3} {:>5} {:>7} {:>7} {:>9} {:>9}",
        "n", "cap", "acc", "lanes", "local", "sfn", "tr/rest", "$/1000"
    );
    for r in rows.iter().take(12).chain(&large) {
        println!(
            "  {:>6} {:>4} {:>3} {:>5} {:>7.3} {:>7.3} {:>9.1} {:>9.3}",
            r.n, r.cap, r.accounts, r.lanes, r.local, r.sfn, r.per_restore, r.per_1000
        );
    }
    let (lm, lp, lw) = stats(&|r| r.local);
    let (sm, sp, sw) = stats(&|r| r.sfn);
    let (tm, tp, tw) = stats(&|r| r.per_restore);
    let (dm, dp, dw) = stats(&|r| r.per_1000);
    println!("\n  over the {dags} DAGs           mean     p90      worst");
    println!("  local makespan / bound     {lm:>7.3}  {lp:>7.3}  {lw:>7.3}");
    println!("  sfn makespan / bound       {sm:>7.3}  {sp:>7.3}  {sw:>7.3}");
    println!("  sfn transitions / restore  {tm:>7.1}  {tp:>7.1}  {tw:>7.1}");
    println!("  sfn $ per 1,000 restores   {dm:>7.3}  {dp:>7.3}  {dw:>7.3}");
    for r in &large {
        println!(
            "\n  {} restores, {} account(s), cap {}: local {:.3}, sfn {:.3} ({} lanes), {:.1} transitions per restore, ${:.3} per 1,000 restores",
            r.n, r.accounts, r.cap, r.local, r.sfn, r.lanes, r.per_restore, r.per_1000
        );
    }
    println!("\n  wall time {:.1} s", t0.elapsed().as_secs_f64());
    if benching() && (sm > 1.10 || tm > 60.0) {
        eprintln!(
            "a target is missed: mean makespan / bound {sm:.3} (≤ 1.10), transitions per restore {tm:.1} (≤ 60)"
        );
        std::process::exit(1);
    }
}
