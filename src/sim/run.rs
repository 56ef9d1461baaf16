//! Running the real executor against the simulated cloud in virtual time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::clock::{Clock, TokioClock};
use crate::exec::events::CollectingSink;
use crate::exec::journal::Journal;
use crate::exec::policy::{PollPolicy, RetryPolicy, StopSignal};
use crate::exec::render::RunReport;
use crate::exec::runner::{ExecError, ExecOptions, Executor, RunInput, RunSummary};
use crate::graph::DependencyGraph;
use crate::plan::model::{Execution, OnFailure};
use crate::schedule::Caps;

use super::offline::OfflinePlan;
use crate::cloud::sim::{Faults, SimCloud, SimStats};
use crate::duration::DurationModel;

/// Settings of one simulated run.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Restores in flight at once.
    pub concurrency: u32,
    /// Restores in flight per target account.
    pub per_account: u32,
    /// Failure policy.
    pub on_failure: OnFailure,
    /// Seed of durations, faults and jitter.
    pub seed: u64,
    /// Polling policy.
    pub poll: PollPolicy,
    /// First-in-first-out order instead of critical path first.
    pub fifo: bool,
    /// Injected faults.
    pub faults: Faults,
    /// API call rate cap.
    pub requests_per_second: Option<f64>,
    /// When the simulated run starts.
    pub start: DateTime<Utc>,
}

impl SimConfig {
    /// Settings matching a plan's `execution` block.
    pub fn from_execution(e: &Execution, seed: u64, start: DateTime<Utc>) -> Self {
        let opts = ExecOptions::from_execution(e, seed);
        Self {
            concurrency: opts.caps.concurrency,
            per_account: opts.caps.per_account,
            on_failure: opts.on_failure,
            seed: opts.seed,
            poll: opts.poll,
            fifo: opts.fifo,
            faults: Faults::default(),
            requests_per_second: opts.requests_per_second,
            start,
        }
    }
}

/// What a simulated run produced.
#[derive(Debug, Clone)]
pub struct SimOutcome {
    /// The report, from the run's events.
    pub report: RunReport,
    /// The executor's summary.
    pub summary: RunSummary,
    /// What the simulated cloud observed.
    pub stats: SimStats,
    /// Makespan in virtual seconds.
    pub makespan: f64,
    /// Lower bound of any schedule: the longest of the critical path of
    /// actual durations and the total work over the caps.
    pub lower_bound: f64,
    /// The critical path by actual durations (plan indices) and its length.
    pub critical_path: (Vec<usize>, f64),
}

/// Errors of a simulation.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The runtime could not be built.
    #[error("failed to start the simulation runtime: {0}")]
    Runtime(std::io::Error),
    /// The executor stopped.
    #[error(transparent)]
    Exec(#[from] ExecError),
}

/// The duration each restore actually takes in a simulation with `seed`.
pub fn actual_durations(offline: &OfflinePlan, model: &DurationModel, seed: u64) -> Vec<f64> {
    offline
        .specs
        .iter()
        .map(|s| {
            let bytes = offline
                .sizes
                .get(&s.target_name)
                .copied()
                .unwrap_or(model.default_table_bytes);
            let copy = if s.copy.is_some() {
                model.sample_copy(bytes, seed, &s.target_name)
            } else {
                0.0
            };
            copy + model.sample(bytes, s.is_native(), seed, &s.target_name)
        })
        .collect()
}

/// `max(critical path, total work / cap, per-account work / per-account cap)`.
pub fn lower_bound(
    graph: &DependencyGraph,
    offline: &OfflinePlan,
    durations: &[f64],
    caps: Caps,
) -> (f64, (Vec<usize>, f64)) {
    let cp = graph.critical_path(|i| durations[i]);
    let total: f64 = durations.iter().sum();
    let mut per_account: HashMap<&str, f64> = HashMap::new();
    for (s, d) in offline.specs.iter().zip(durations) {
        *per_account.entry(s.target.account.as_str()).or_default() += d;
    }
    let account_cap = caps.per_account.min(caps.concurrency).max(1) as f64;
    let by_account = per_account
        .values()
        .map(|w| w / account_cap)
        .fold(0.0, f64::max);
    let lb =
        cp.1.max(total / caps.concurrency.max(1) as f64)
            .max(by_account);
    (lb, cp)
}

/// Runs the executor over `offline` against a fresh simulated cloud under
/// tokio's paused clock (a current-thread runtime built here).
pub fn simulate(
    graph: &DependencyGraph,
    offline: &OfflinePlan,
    model: &DurationModel,
    plan: &str,
    rto: Option<std::time::Duration>,
    cfg: &SimConfig,
) -> Result<SimOutcome, SimError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .map_err(SimError::Runtime)?;
    rt.block_on(simulate_async(graph, offline, model, plan, rto, cfg))
}

/// [`simulate`] inside an existing paused runtime.
pub async fn simulate_async(
    graph: &DependencyGraph,
    offline: &OfflinePlan,
    model: &DurationModel,
    plan: &str,
    rto: Option<std::time::Duration>,
    cfg: &SimConfig,
) -> Result<SimOutcome, SimError> {
    let clock = TokioClock::starting_at(cfg.start);
    let sim = SimCloud::new(*model, cfg.seed, clock.clone())
        .with_sizes(offline.sizes.clone())
        .with_copies(crate::exec::RestoreSpec::copies(&offline.specs))
        .with_faults(cfg.faults.clone());
    let sink = CollectingSink::new();
    let journal = Journal::memory();
    let caps = Caps {
        concurrency: cfg.concurrency,
        per_account: cfg.per_account,
    };
    let opts = ExecOptions {
        caps,
        on_failure: cfg.on_failure,
        requests_per_second: cfg.requests_per_second,
        poll: cfg.poll,
        retry: RetryPolicy::default(),
        seed: cfg.seed,
        fifo: cfg.fifo,
    };
    let exec = Executor::new(&sim, &clock, &sink, &journal, StopSignal::never(), opts);
    let run_id = format!("{plan}-simulated");
    let summary = exec
        .run(RunInput {
            run_id: &run_id,
            plan,
            graph,
            specs: &offline.specs,
            resume: None,
            started_at: Some(clock.now()),
        })
        .await?;
    let report = RunReport::from_events(&sink.take(), rto);
    let durations = actual_durations(offline, model, cfg.seed);
    let (lb, cp) = lower_bound(graph, offline, &durations, caps);
    Ok(SimOutcome {
        makespan: report.measured_rto_seconds().unwrap_or(0.0),
        report,
        summary,
        stats: sim.stats(),
        lower_bound: lb,
        critical_path: cp,
    })
}
