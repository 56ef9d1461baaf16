//! The `simulate` pipeline: one simulated run of a plan at its concurrency
//! and, for the what-if table, one more per concurrency of a sweep. The
//! renderers are in [`crate::report::simulate`].

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::duration::DurationModel;
use crate::plan::model::Plan;
use crate::sim::offline::{OfflinePlan, Sizes, resolve_offline};
use crate::sim::run::{SimConfig, SimError, SimOutcome, simulate};

/// What to simulate, besides the plan, its sizes and the duration model.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Restores in flight at once (default: the plan's `execution.concurrency`).
    pub concurrency: Option<u32>,
    /// Also simulate these concurrency levels.
    pub sweep: Vec<u32>,
    /// Seed of the duration jitter.
    pub seed: u64,
    /// First ready, first started, instead of critical path first.
    pub fifo: bool,
}

/// One row of the what-if table.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SweepRow {
    /// Concurrency.
    pub concurrency: u32,
    /// Predicted recovery time in seconds.
    pub predicted_rto_seconds: f64,
    /// Lower bound at this concurrency.
    pub lower_bound_seconds: f64,
    /// True when within the objective (or no objective).
    pub meets_objective: bool,
}

/// A plan's simulation: the main run, the sweep and what they were run on.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// The settings of the main run.
    pub cfg: SimConfig,
    /// The main run.
    pub main: SimOutcome,
    /// One row per concurrency of [`Settings::sweep`], in the order given.
    pub sweep: Vec<SweepRow>,
    /// The restores as resolved offline (sizes and estimates).
    pub offline: OfflinePlan,
    /// The plan's RTO objective.
    pub rto: Option<Duration>,
    /// The critical path by estimated durations (plan indices) and its length.
    pub estimated_critical_path: (Vec<usize>, f64),
}

/// Simulates `plan` from `start` with `sizes` and `model`.
pub fn run(
    plan: &Plan,
    sizes: &Sizes,
    model: &DurationModel,
    settings: &Settings,
    start: DateTime<Utc>,
) -> Result<Simulation, SimError> {
    let offline = resolve_offline(plan.name(), plan.restores(), sizes, model, start);
    let mut cfg = SimConfig::from_execution(&plan.header().execution, settings.seed, start);
    if let Some(c) = settings.concurrency {
        cfg.concurrency = c;
    }
    cfg.fifo = settings.fifo;
    let rto = plan.header().objectives.rto;
    let main = simulate(plan.graph(), &offline, model, plan.name(), rto, &cfg)?;
    let mut sweep = Vec::new();
    for &c in &settings.sweep {
        let mut cfg = cfg.clone();
        cfg.concurrency = c;
        let o = simulate(plan.graph(), &offline, model, plan.name(), rto, &cfg)?;
        sweep.push(SweepRow {
            concurrency: c,
            predicted_rto_seconds: o.makespan,
            lower_bound_seconds: o.lower_bound,
            meets_objective: rto.is_none_or(|r| o.makespan <= r.as_secs_f64()),
        });
    }
    let estimated_critical_path = plan
        .graph()
        .critical_path(|i| offline.specs[i].estimated_seconds);
    Ok(Simulation {
        cfg,
        main,
        sweep,
        offline,
        rto,
        estimated_critical_path,
    })
}
