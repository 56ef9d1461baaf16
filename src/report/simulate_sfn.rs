//! Renderers of `simulate --engine step-functions`: the text report and
//! the JSON document of the exported state machine's prediction.

use std::fmt::Write as _;
use std::time::Duration;

use super::simulate::verdict;
use crate::exec::render::hms;
use crate::plan::model::Plan;
use crate::sim::sfn::SfnPrediction;

/// One what-if row: a concurrency and its prediction.
pub type SweepRow = (u32, SfnPrediction);

fn ratio(p: &SfnPrediction) -> f64 {
    if p.lower_bound_seconds > 0.0 {
        p.predicted_rto_seconds / p.lower_bound_seconds
    } else {
        1.0
    }
}

/// The human report.
pub fn text(
    plan: &Plan,
    p: &SfnPrediction,
    rto: Option<Duration>,
    concurrency: u32,
    sweep: &[SweepRow],
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "plan `{}`: {} restores, concurrency {} — the exported Step Functions state machine, simulated in virtual time; durations come from a model (docs/simulate.md)",
        plan.name(),
        p.restores.len(),
        concurrency
    );
    let lanes = if p.lanes_per_account.is_empty() {
        format!("{} worker lanes", p.lanes)
    } else {
        format!(
            "{} worker lanes ({})",
            p.lanes,
            p.lanes_per_account
                .iter()
                .map(|(a, k)| format!("{k} in {a}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let _ = writeln!(
        s,
        "\npredicted RTO: {} — {}",
        hms(p.predicted_rto_seconds),
        verdict(p.predicted_rto_seconds, rto)
    );
    let _ = writeln!(
        s,
        "execution: {} ({lanes}; idle lanes end after their last wait)",
        hms(p.execution_seconds)
    );
    let _ = writeln!(
        s,
        "lower bound of any schedule: {} (schedule is {:.3}x the bound)",
        hms(p.lower_bound_seconds),
        ratio(p)
    );
    let t = &p.transitions;
    let _ = writeln!(
        s,
        "state transitions: {} ({:.1} per restore): restores {}, polling {}, idle lanes {}, lanes {}, run {}",
        p.total_transitions,
        p.transitions_per_restore,
        t.restores,
        t.polling,
        t.idle,
        t.lanes,
        t.run
    );
    let _ = writeln!(
        s,
        "predicted cost: ${:.4} for this run (${:.4} per 1,000 restores) at $0.025 per 1,000 transitions, before the free tier",
        p.dollars, p.dollars_per_1000_restores
    );
    let width = p
        .restores
        .iter()
        .map(|r| r.id.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let _ = writeln!(
        s,
        "\n  {:<width$}  {:>9}  {:>9}  {:>4}  {:>5}  {:>11}",
        "restore", "start", "finish", "lane", "polls", "transitions"
    );
    let mut rows: Vec<_> = p.restores.iter().collect();
    rows.sort_by(|a, b| a.start.total_cmp(&b.start).then(a.id.cmp(&b.id)));
    for r in rows {
        let _ = writeln!(
            s,
            "  {:<width$}  {:>9}  {:>9}  {:>4}  {:>5}  {:>11}",
            r.id,
            format!("+{}", hms(r.start)),
            format!("+{}", hms(r.finish)),
            r.lane,
            r.polls,
            r.transitions
        );
    }
    if !sweep.is_empty() {
        let _ = writeln!(s, "\nwhat-if by concurrency:");
        let _ = writeln!(
            s,
            "  {:>11}  {:>13}  {:>11}  {:>11}  objective",
            "concurrency", "predicted RTO", "lower bound", "transitions"
        );
        for (c, row) in sweep {
            let _ = writeln!(
                s,
                "  {:>11}  {:>13}  {:>11}  {:>11}  {}",
                c,
                hms(row.predicted_rto_seconds),
                hms(row.lower_bound_seconds),
                row.total_transitions,
                match rto {
                    None => "-",
                    Some(r) if row.predicted_rto_seconds <= r.as_secs_f64() => "met",
                    Some(_) => "MISSED",
                }
            );
        }
    }
    s
}

/// The JSON document (`schema_version` 1), with a trailing newline.
pub fn json(
    plan: &Plan,
    p: &SfnPrediction,
    rto: Option<Duration>,
    concurrency: u32,
    seed: u64,
    sweep: &[SweepRow],
) -> String {
    let doc = serde_json::json!({
        "schema_version": 1,
        "plan": plan.name(),
        "simulated": true,
        "engine": "step-functions",
        "concurrency": concurrency,
        "seed": seed,
        "predicted_rto_seconds": p.predicted_rto_seconds,
        "rto_objective_seconds": rto.map(|d| d.as_secs_f64()),
        "lower_bound_seconds": p.lower_bound_seconds,
        "step_functions": p,
        "sweep": sweep.iter().map(|(c, r)| serde_json::json!({
            "concurrency": c,
            "predicted_rto_seconds": r.predicted_rto_seconds,
            "lower_bound_seconds": r.lower_bound_seconds,
            "total_transitions": r.total_transitions,
            "dollars": r.dollars,
            "meets_objective": rto.is_none_or(|o| r.predicted_rto_seconds <= o.as_secs_f64()),
        })).collect::<Vec<_>>(),
    });
    format!("{doc:#}\n")
}
