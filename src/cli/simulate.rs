//! `restoreplan simulate [PLAN]`: run the real executor against a simulated
//! cloud in virtual time and predict the recovery time.
//!
//! With no PLAN it simulates an embedded example environment (40 tables),
//! so the first command needs no AWS account.

use std::path::PathBuf;

use clap::ValueEnum;

use crate::cli::{CompileArgs, ExitStatus, Output, Result};
use crate::duration::DurationModel;
use crate::exec::render::gantt;
use crate::plan::{Loaded, SourceFile};
use crate::report;
use crate::sim::offline::Sizes;
use crate::sim::sweep::{self, Settings};

/// The plan simulated when no PLAN is given.
pub const EMBEDDED_PLAN: &str = include_str!("../../plans/examples/ecommerce-environment.yaml");
/// Table sizes of [`EMBEDDED_PLAN`].
pub const EMBEDDED_SIZES: &str =
    include_str!("../../plans/examples/ecommerce-environment.sizes.yaml");

/// Arguments of `simulate`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The plan file; without it, an embedded example environment of 40 tables.
    #[arg(value_name = "PLAN")]
    pub plan: Option<PathBuf>,
    /// Table sizes: YAML (`table: 120GiB`) or CSV (`table,bytes`).
    #[arg(long, value_name = "FILE")]
    pub sizes: Option<PathBuf>,
    /// Take table sizes from AWS (read-only): the size of the recovery point
    /// each restore would use, or of the original table. `--sizes` entries win.
    #[arg(long)]
    pub live: bool,
    /// Credentials for `--live`.
    #[command(flatten)]
    pub aws: crate::cli::aws::AwsArgs,
    /// Duration model overrides (YAML; see docs/simulate.md).
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Restores in flight at once (default: the plan's `execution.concurrency`).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub concurrency: Option<u32>,
    /// Also simulate these concurrency levels, e.g. `5,10,20,50`.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub sweep: Vec<u32>,
    /// Write a Gantt chart of the simulated run (SVG).
    #[arg(long, value_name = "FILE")]
    pub gantt: Option<PathBuf>,
    /// Write a self-contained HTML page: summary, what-if table, Gantt chart.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Seed of the duration jitter.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Order among ready restores (FIFO is what a plain topological walker does).
    #[arg(long, value_enum, default_value_t = Order::CriticalPath)]
    pub order: Order,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// The engine to simulate (default: the plan's `execution.engine`):
    /// `step-functions` predicts the state machine `export step-functions`
    /// writes — its RTO, state transitions and cost.
    #[arg(long, value_enum, value_name = "ENGINE")]
    pub engine: Option<EngineArg>,
    /// Compilation settings.
    #[command(flatten)]
    pub compile: CompileArgs,
}

/// Ready-queue order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Order {
    /// Longest remaining chain first.
    CriticalPath,
    /// First ready, first started.
    Fifo,
}

/// The engine `simulate` predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// The local executor (`apply`).
    Local,
    /// The exported AWS Step Functions state machine.
    StepFunctions,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human text.
    Text,
    /// One JSON document.
    Json,
}

/// Runs `simulate`.
pub fn run(args: &Args, out: Output) -> Result {
    let (loaded, sizes) = load(args, out)?;
    let plan = &loaded.plan;
    let model = match &args.model {
        Some(path) => DurationModel::from_file(path).map_err(|e| e.to_string())?,
        None => DurationModel::default(),
    };
    let settings = Settings {
        concurrency: args.concurrency,
        sweep: args.sweep.clone(),
        seed: args.seed,
        fifo: args.order == Order::Fifo,
    };
    let engine = args.engine.unwrap_or(match plan.header().execution.engine {
        crate::plan::engine::Engine::StepFunctions { .. } => EngineArg::StepFunctions,
        crate::plan::engine::Engine::Local => EngineArg::Local,
    });
    if engine == EngineArg::StepFunctions {
        return step_functions(args, out, plan, &sizes, &model, &settings);
    }
    let sim = sweep::run(plan, &sizes, &model, &settings, crate::clock::now())
        .map_err(|e| e.to_string())?;
    let text = report::simulate::text(plan, &sim);
    if let Some(path) = &args.gantt {
        std::fs::write(path, gantt::svg(&report::simulate::chart(plan, &sim)))
            .map_err(|e| format!("failed to write {}: {e}", path.display()))?;
    }
    if let Some(path) = &args.html {
        let page = gantt::html(
            &report::simulate::chart(plan, &sim),
            &text,
            &report::simulate::sweep_html(&sim.sweep, sim.rto),
        );
        std::fs::write(path, page)
            .map_err(|e| format!("failed to write {}: {e}", path.display()))?;
    }
    crate::cli::printer::step_summary(&crate::cli::printer::fenced(
        &format!("restoreplan simulate: {}", plan.name()),
        &text,
    ));
    match args.format {
        Format::Text if !out.quiet => crate::cli::printer::out(&text),
        Format::Text => {}
        Format::Json => crate::cli::printer::out(&report::simulate::json(plan, &sim)),
    }
    Ok(ExitStatus::Success)
}

/// `simulate --engine step-functions`.
fn step_functions(
    args: &Args,
    out: Output,
    plan: &crate::plan::model::Plan,
    sizes: &Sizes,
    model: &DurationModel,
    settings: &Settings,
) -> Result {
    if args.gantt.is_some() || args.html.is_some() {
        return Err(
            "--gantt and --html chart the local engine's simulated run; \
                    drop them or add `--engine local`"
                .to_owned()
                .into(),
        );
    }
    if args.order == Order::Fifo {
        return Err(
            "the Step Functions engine claims ready restores critical path first; \
                    `--order fifo` is for the local engine"
                .to_owned()
                .into(),
        );
    }
    let start = crate::clock::now();
    let offline =
        crate::sim::offline::resolve_offline(plan.name(), plan.restores(), sizes, model, start);
    let engine = crate::sim::sfn::EngineModel::default();
    let predict = |c: Option<u32>| {
        crate::sim::sfn::predict(plan, &offline, model, settings.seed, c, engine)
            .map_err(|e| format!("failed to predict the Step Functions engine: {e}"))
    };
    let main = predict(settings.concurrency)?;
    let mut sweep = Vec::new();
    for &c in &settings.sweep {
        sweep.push((c, predict(Some(c))?));
    }
    let concurrency = settings
        .concurrency
        .unwrap_or(plan.header().execution.concurrency);
    let rto = plan.header().objectives.rto;
    let text = report::simulate_sfn::text(plan, &main, rto, concurrency, &sweep);
    crate::cli::printer::step_summary(&crate::cli::printer::fenced(
        &format!(
            "restoreplan simulate --engine step-functions: {}",
            plan.name()
        ),
        &text,
    ));
    match args.format {
        Format::Text if !out.quiet => crate::cli::printer::out(&text),
        Format::Text => {}
        Format::Json => crate::cli::printer::out(&report::simulate_sfn::json(
            plan,
            &main,
            rto,
            concurrency,
            settings.seed,
            &sweep,
        )),
    }
    Ok(ExitStatus::Success)
}

fn load(args: &Args, out: Output) -> Result<(Loaded, Sizes)> {
    let loaded = match &args.plan {
        Some(path) => crate::cli::load_or_report(path, &args.compile, out)?,
        None => crate::plan::compile(
            SourceFile::new(
                "<embedded example: ecommerce-environment.yaml>",
                EMBEDDED_PLAN,
            ),
            &args.compile.options(),
        )
        .map_err(|r| format!("failed to compile the embedded example: {r}"))?,
    };
    let sizes = match (&args.sizes, &args.plan) {
        (Some(path), _) => Sizes::from_file(path).map_err(|e| e.to_string())?,
        (None, None) => Sizes::from_yaml(EMBEDDED_SIZES)
            .map_err(|e| format!("failed to read the embedded sizes: {e}"))?,
        (None, Some(_)) => Sizes::default(),
    };
    // Selectors expand from the account (`--live`) or the sizes file.
    if !args.live {
        let loaded =
            crate::cli::select::expand_from_names(loaded, sizes.0.keys(), &args.compile, out)?;
        return Ok((loaded, sizes));
    }
    let cloud = args.aws.read_only();
    let loaded = crate::cli::select::expand_or_report(loaded, &cloud, &args.compile, out)?;
    let live = crate::cli::aws::block_on(crate::sim::live::sizes(&loaded.plan, &cloud, sizes))??;
    if !live.missing.is_empty() {
        crate::errln!(
            "note: no size known for {} restore{} ({}); the model's default size is used",
            live.missing.len(),
            if live.missing.len() == 1 { "" } else { "s" },
            live.missing.join(", ")
        );
    }
    Ok((loaded, live.sizes))
}
