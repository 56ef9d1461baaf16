//! `restoreplan simulate [PLAN]`: run the real executor against a simulated
//! cloud in virtual time and predict the recovery time.
//!
//! With no PLAN it simulates an embedded example environment (40 tables),
//! so the first command needs no AWS account.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;

use crate::cli::{CompileArgs, ExitStatus, Output};
use crate::exec::report::gantt::{self, Chart};
use crate::exec::report::hms;
use crate::plan::model::Plan;
use crate::plan::{Loaded, SourceFile};
use crate::sim::DurationModel;
use crate::sim::offline::{OfflinePlan, Sizes, resolve_offline};
use crate::sim::run::{SimConfig, SimOutcome, simulate};

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

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human text.
    Text,
    /// One JSON document.
    Json,
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

/// Runs `simulate`.
pub fn run(args: &Args, out: Output) -> ExitStatus {
    match run_inner(args, out) {
        Ok(status) => status,
        Err(message) => {
            crate::errln!("error: {message}");
            ExitStatus::Error
        }
    }
}

fn load(args: &Args, out: Output) -> Result<Result<(Loaded, Sizes), ExitStatus>, String> {
    let loaded = match &args.plan {
        Some(path) => match crate::cli::load_or_report(path, &args.compile, out) {
            Ok(l) => l,
            Err(status) => return Ok(Err(status)),
        },
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
    let expanded = if args.live {
        crate::cli::select::expand_or_report(loaded, &args.aws.read_only(), &args.compile, out)
    } else {
        crate::cli::select::expand_from_names(loaded, sizes.0.keys(), &args.compile, out)
    };
    let loaded = match expanded {
        Ok(l) => l,
        Err(status) => return Ok(Err(status)),
    };
    let sizes = if args.live {
        live_sizes(&loaded.plan, &args.aws, sizes)?
    } else {
        sizes
    };
    Ok(Ok((loaded, sizes)))
}

/// Sizes from the recovery points (or original tables) the live checks
/// resolve; entries already in `sizes` (from `--sizes`) are kept.
fn live_sizes(
    plan: &Plan,
    aws: &crate::cli::aws::AwsArgs,
    mut sizes: Sizes,
) -> Result<Sizes, String> {
    use crate::check::live::{self, LiveOptions};
    let cloud = aws.read_only();
    let report = crate::cli::aws::block_on(live::check(plan, &cloud, &LiveOptions::default()))?;
    // Sizes read with the wrong identity (or none) would be guesses: stop.
    let unusable: Vec<String> = report
        .identities
        .iter()
        .filter_map(|i| {
            let e = i.identity.as_ref().err()?;
            Some(format!("account {}: {e}", i.account))
        })
        .collect();
    if !unusable.is_empty() {
        return Err(format!(
            "{}
no size was read; fix the credentials, or simulate without --live",
            unusable.join("\n")
        ));
    }
    let mut missing = Vec::new();
    for r in &report.resolved {
        let size = r
            .recovery_point
            .as_ref()
            .and_then(|rp| rp.size_bytes)
            .or_else(|| r.source_table.as_ref().and_then(|t| t.size_bytes));
        match size {
            Some(bytes) => {
                sizes.0.entry(r.id.clone()).or_insert(bytes);
            }
            None if !sizes.0.contains_key(&r.id) => missing.push(r.id.clone()),
            None => {}
        }
    }
    if !missing.is_empty() {
        crate::errln!(
            "note: no size known for {} restore{} ({}); the model's default size is used",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        );
    }
    Ok(sizes)
}

fn run_inner(args: &Args, out: Output) -> Result<ExitStatus, String> {
    let (loaded, sizes) = match load(args, out)? {
        Ok(x) => x,
        Err(status) => return Ok(status),
    };
    let plan = &loaded.plan;
    let model = match &args.model {
        Some(path) => DurationModel::from_file(path).map_err(|e| e.to_string())?,
        None => DurationModel::default(),
    };
    let start = crate::clock::now();
    let offline = resolve_offline(plan.restores(), &sizes, &model, start);
    let mut cfg = SimConfig::from_execution(&plan.header().execution, args.seed, start);
    if let Some(c) = args.concurrency {
        cfg.concurrency = c;
    }
    cfg.fifo = args.order == Order::Fifo;
    let rto = plan.header().objectives.rto;
    let main = simulate(plan.graph(), &offline, &model, plan.name(), rto, &cfg)
        .map_err(|e| e.to_string())?;
    let mut sweep = Vec::new();
    for &c in &args.sweep {
        let mut cfg = cfg.clone();
        cfg.concurrency = c;
        let o = simulate(plan.graph(), &offline, &model, plan.name(), rto, &cfg)
            .map_err(|e| e.to_string())?;
        sweep.push(SweepRow {
            concurrency: c,
            predicted_rto_seconds: o.makespan,
            lower_bound_seconds: o.lower_bound,
            meets_objective: rto.is_none_or(|r| o.makespan <= r.as_secs_f64()),
        });
    }
    let (est_path, est_len) = plan
        .graph()
        .critical_path(|i| offline.specs[i].estimated_seconds);
    let chart = Chart {
        title: format!(
            "restoreplan simulate: {} at concurrency {} (predicted RTO {})",
            plan.name(),
            cfg.concurrency,
            hms(main.makespan)
        ),
        bars: main.report.bars(),
        critical: main
            .critical_path
            .0
            .iter()
            .map(|&i| plan.restores()[i].id.clone())
            .collect::<BTreeSet<_>>(),
        objective: rto.map(|d| d.as_secs_f64()),
    };
    let text = render_text(
        plan,
        &cfg,
        &main,
        &sweep,
        (&main.critical_path.0, main.critical_path.1),
        &offline,
        rto,
    );
    if let Some(path) = &args.gantt {
        std::fs::write(path, gantt::svg(&chart))
            .map_err(|e| format!("failed to write {}: {e}", path.display()))?;
    }
    if let Some(path) = &args.html {
        let page = gantt::html(&chart, &text, &sweep_html(&sweep, rto));
        std::fs::write(path, page)
            .map_err(|e| format!("failed to write {}: {e}", path.display()))?;
    }
    crate::cli::printer::step_summary(&crate::cli::printer::fenced(
        &format!("restoreplan simulate: {}", plan.name()),
        &text,
    ));
    let mut stdout = crate::cli::printer::Stdout;
    let written = match args.format {
        Format::Text if !out.quiet => stdout.write_all(text.as_bytes()),
        Format::Text => Ok(()),
        Format::Json => {
            let doc = serde_json::json!({
                "schema_version": 1,
                "plan": plan.name(),
                "simulated": true,
                "concurrency": cfg.concurrency,
                "order": if cfg.fifo { "fifo" } else { "critical-path" },
                "seed": cfg.seed,
                "predicted_rto_seconds": main.makespan,
                "rto_objective_seconds": rto.map(|d| d.as_secs_f64()),
                "lower_bound_seconds": main.lower_bound,
                "critical_path": est_path.iter().map(|&i| &plan.restores()[i].id).collect::<Vec<_>>(),
                "critical_path_estimated_seconds": est_len,
                "report": main.report,
                "sweep": sweep,
                "api_calls": main.stats.calls,
            });
            writeln!(stdout, "{doc:#}")
        }
    };
    if written.is_err() {
        return Ok(ExitStatus::Error);
    }
    Ok(ExitStatus::Valid)
}

fn verdict(secs: f64, rto: Option<Duration>) -> String {
    match rto {
        Some(r) if secs <= r.as_secs_f64() => format!(
            "within the objective of {} ({} to spare)",
            hms(r.as_secs_f64()),
            hms(r.as_secs_f64() - secs)
        ),
        Some(r) => format!(
            "EXCEEDS the objective of {} by {}",
            hms(r.as_secs_f64()),
            hms(secs - r.as_secs_f64())
        ),
        None => "the plan sets no RTO objective".to_owned(),
    }
}

fn render_text(
    plan: &Plan,
    cfg: &SimConfig,
    main: &SimOutcome,
    sweep: &[SweepRow],
    (path, len): (&[usize], f64),
    offline: &OfflinePlan,
    rto: Option<Duration>,
) -> String {
    let mut s = String::new();
    let r = plan.restores();
    let total_bytes: u64 = offline.sizes.values().sum();
    let _ = writeln!(
        s,
        "plan `{}`: {} restores, {:.1} GiB, concurrency {}{} — simulated in virtual time; durations come from a model (docs/simulate.md)",
        plan.name(),
        r.len(),
        total_bytes as f64 / (1u64 << 30) as f64,
        cfg.concurrency,
        if cfg.fifo { ", FIFO order" } else { "" }
    );
    let _ = writeln!(
        s,
        "\npredicted RTO: {} — {}",
        hms(main.makespan),
        verdict(main.makespan, rto)
    );
    let ids: Vec<&str> = path.iter().map(|&i| r[i].id.as_str()).collect();
    let _ = writeln!(
        s,
        "critical path ({} in this simulation): {}",
        hms(len),
        ids.join(" -> ")
    );
    let _ = writeln!(
        s,
        "lower bound of any schedule: {} (schedule is {:.3}x the bound)",
        hms(main.lower_bound),
        if main.lower_bound > 0.0 {
            main.makespan / main.lower_bound
        } else {
            1.0
        }
    );
    let (ok, failed, skipped, _) = main.report.counts();
    if failed + skipped > 0 {
        let _ = writeln!(s, "{ok} completed, {failed} failed, {skipped} skipped");
    }
    let _ = writeln!(s, "\n{}", per_restore(main));
    if !sweep.is_empty() {
        let _ = writeln!(s, "what-if by concurrency:");
        let _ = writeln!(
            s,
            "  {:>11}  {:>13}  {:>11}  objective",
            "concurrency", "predicted RTO", "lower bound"
        );
        for row in sweep {
            let _ = writeln!(
                s,
                "  {:>11}  {:>13}  {:>11}  {}",
                row.concurrency,
                hms(row.predicted_rto_seconds),
                hms(row.lower_bound_seconds),
                match rto {
                    None => "-".to_owned(),
                    Some(_) if row.meets_objective => "met".to_owned(),
                    Some(_) => "MISSED".to_owned(),
                }
            );
        }
    }
    s
}

fn per_restore(main: &SimOutcome) -> String {
    let mut s = String::new();
    let origin = main.report.started_at;
    let width = main
        .report
        .restores
        .iter()
        .map(|t| t.id.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let _ = writeln!(
        s,
        "  {:<width$}  {:>9}  {:>9}  {:>9}",
        "restore", "start", "finish", "duration"
    );
    let mut rows: Vec<_> = main.report.restores.iter().collect();
    rows.sort_by_key(|t| (t.started, t.index));
    for t in rows {
        let off = |x: Option<chrono::DateTime<chrono::Utc>>| match (origin, x) {
            (Some(o), Some(x)) => format!("+{}", hms(crate::exec::clock::seconds_between(o, x))),
            _ => "-".to_owned(),
        };
        let _ = writeln!(
            s,
            "  {:<width$}  {:>9}  {:>9}  {:>9}",
            t.id,
            off(t.started),
            off(t.finished),
            t.duration().map(hms).unwrap_or_else(|| "-".to_owned())
        );
    }
    s
}

fn sweep_html(sweep: &[SweepRow], rto: Option<Duration>) -> String {
    if sweep.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "<h2>What-if by concurrency</h2><table><tr><th>concurrency</th><th>predicted RTO</th><th>lower bound</th><th>objective</th></tr>",
    );
    for row in sweep {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            row.concurrency,
            hms(row.predicted_rto_seconds),
            hms(row.lower_bound_seconds),
            match rto {
                None => "-",
                Some(_) if row.meets_objective => "met",
                Some(_) => "missed",
            }
        );
    }
    s.push_str("</table>");
    s
}
