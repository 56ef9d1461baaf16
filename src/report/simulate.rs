//! Renderers of a simulation (`restoreplan simulate`): the text report, the
//! JSON document, the Gantt chart and the what-if table of the HTML page.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

use crate::exec::render::gantt::Chart;
use crate::exec::render::hms;
use crate::plan::model::Plan;
use crate::sim::run::SimOutcome;
use crate::sim::sweep::{Simulation, SweepRow};

/// The Gantt chart of the main run, its critical path highlighted.
pub fn chart(plan: &Plan, sim: &Simulation) -> Chart {
    Chart {
        title: format!(
            "restoreplan simulate: {} at concurrency {} (predicted RTO {})",
            plan.name(),
            sim.cfg.concurrency,
            hms(sim.main.makespan)
        ),
        bars: sim.main.report.bars(),
        critical: sim
            .main
            .critical_path
            .0
            .iter()
            .map(|&i| plan.restores()[i].id.clone())
            .collect::<BTreeSet<_>>(),
        objective: sim.rto.map(|d| d.as_secs_f64()),
    }
}

/// The JSON document of `--format json` (`schema_version` 1), with a
/// trailing newline.
pub fn json(plan: &Plan, sim: &Simulation) -> String {
    let (est_path, est_len) = &sim.estimated_critical_path;
    let doc = serde_json::json!({
        "schema_version": 1,
        "plan": plan.name(),
        "simulated": true,
        "concurrency": sim.cfg.concurrency,
        "order": if sim.cfg.fifo { "fifo" } else { "critical-path" },
        "seed": sim.cfg.seed,
        "predicted_rto_seconds": sim.main.makespan,
        "rto_objective_seconds": sim.rto.map(|d| d.as_secs_f64()),
        "lower_bound_seconds": sim.main.lower_bound,
        "critical_path": est_path.iter().map(|&i| &plan.restores()[i].id).collect::<Vec<_>>(),
        "critical_path_estimated_seconds": est_len,
        "report": sim.main.report,
        "sweep": sim.sweep,
        "api_calls": sim.main.stats.calls,
    });
    format!("{doc:#}\n")
}

/// The predicted RTO against the objective (every engine's report).
pub(super) fn verdict(secs: f64, rto: Option<Duration>) -> String {
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

/// The human report: summary, critical path, bound, per-restore table and
/// the what-if table.
pub fn text(plan: &Plan, sim: &Simulation) -> String {
    let Simulation {
        cfg,
        main,
        sweep,
        offline,
        rto,
        ..
    } = sim;
    let rto = *rto;
    let (path, len) = (&main.critical_path.0, main.critical_path.1);
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
            (Some(o), Some(x)) => format!("+{}", hms(crate::clock::seconds_between(o, x))),
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

/// The what-if table as HTML, for the page of `--html` (empty without a sweep).
pub fn sweep_html(sweep: &[SweepRow], rto: Option<Duration>) -> String {
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
