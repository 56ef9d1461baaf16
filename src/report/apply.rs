//! What `apply` shows before it asks to start (or resume) a run: the plan's
//! settings, the predicted RTO and the restores it will start.

use crate::diff::predict::{predict, verified_timing};
use crate::exec::spec::RestoreSpec;
use crate::plan::model::{OnFailure, Plan};

/// The summary shown above the confirmation; at most 20 restores are listed.
pub fn summary(plan: &Plan, specs: &[RestoreSpec]) -> String {
    let mut s = format!(
        "plan `{}`: {} restores, concurrency {}, on_failure {}\n",
        plan.name(),
        specs.len(),
        plan.header().execution.concurrency,
        on_failure_name(plan.header().execution.on_failure)
    );
    s.push_str(&format!("{}\n", predicted_rto(plan, specs)));
    for spec in specs.iter().take(20) {
        s.push_str(&format!(
            "  + {} -> {} in {} ({})\n",
            spec.id,
            spec.target_name,
            spec.target,
            spec.request.operation()
        ));
    }
    if specs.len() > 20 {
        s.push_str(&format!("  … and {} more\n", specs.len() - 20));
    }
    s
}

/// The failure policy as the plan writes it.
fn on_failure_name(p: OnFailure) -> &'static str {
    match p {
        OnFailure::Continue => "continue",
        OnFailure::Stop => "stop",
    }
}

/// `Predicted RTO 31m (objective 4h: met).`, computed and worded as
/// `restoreplan plan` does for the same plan: the schedule of every
/// restore and its after-restore steps under the plan's caps.
pub fn predicted_rto(plan: &Plan, specs: &[RestoreSpec]) -> String {
    let timings: Vec<_> = specs
        .iter()
        .map(|s| {
            let verify = s.expect.data.as_ref().map_or(0.0, |v| {
                crate::duration::verify_seconds(v, s.expect.recovery_point_bytes.unwrap_or(0))
            });
            verified_timing(s.estimated_seconds, s.changes.len(), verify)
        })
        .collect();
    let makespan = predict(plan, &timings).makespan.ceil() as u64;
    let objective = match plan.header().objectives.rto {
        Some(o) if makespan <= o.as_secs() => {
            format!(" (objective {}: met)", super::secs_text(o.as_secs()))
        }
        Some(o) => format!(" (objective {}: EXCEEDED)", super::secs_text(o.as_secs())),
        None => " (no objective)".to_owned(),
    };
    format!("Predicted RTO {}{objective}.", super::secs_text(makespan))
}
