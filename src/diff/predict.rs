//! The predicted RTO: the plan's restores scheduled over their estimated
//! durations by the executor's own scheduler ([`crate::schedule`]), under
//! `execution.concurrency` and DynamoDB's 50 concurrent restores per
//! account, longest remaining chain first. Pure.
//!
//! Each restore holds a slot for its estimated duration (the
//! [`crate::duration`] model) and then settles for
//! [`AFTER_RESTORE_STEP_SECONDS`] per after-restore step before its
//! dependents may start, as the executor frees a slot at ACTIVE and
//! completes a restore after its steps. Given the durations a run actually
//! sees, the prediction is that run's makespan (`simulate` measures it).

use crate::plan::model::{Execution, Plan};
use crate::schedule::{self, Caps, Timing};

/// Allowance per after-restore step (tagging, PITR, TTL, streams, deletion
/// protection), in seconds: each is one call plus a wait for the table to
/// be ACTIVE again.
pub const AFTER_RESTORE_STEP_SECONDS: f64 = 30.0;

/// A predicted schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Time from the first start to the last finish, in seconds.
    pub makespan: f64,
    /// Indices of the restores on the longest dependency chain.
    pub critical_path: Vec<usize>,
    /// When each restore starts, is ACTIVE and finishes.
    pub schedule: schedule::StaticSchedule,
}

/// The timing of a restore estimated at `estimated_seconds` with
/// `after_restore_steps` steps once ACTIVE.
pub fn timing(estimated_seconds: f64, after_restore_steps: usize) -> Timing {
    Timing {
        estimate: estimated_seconds,
        restore: estimated_seconds,
        settle: AFTER_RESTORE_STEP_SECONDS * after_restore_steps as f64,
    }
}

/// [`timing`] with `verify_seconds` of data checks once the settings are
/// applied ([`crate::duration::verify_seconds`]): the restore completes,
/// and its dependents may start, after both.
pub fn verified_timing(
    estimated_seconds: f64,
    after_restore_steps: usize,
    verify_seconds: f64,
) -> Timing {
    let mut t = timing(estimated_seconds, after_restore_steps);
    t.settle += verify_seconds.max(0.0);
    t
}

/// The caps the executor runs `plan` under.
pub fn caps(plan: &Plan) -> Caps {
    Caps {
        concurrency: plan.header().execution.concurrency,
        per_account: Execution::PER_ACCOUNT_RESTORE_LIMIT,
    }
}

/// Predicts the whole plan's duration from each restore's timing (by index)
/// under the plan's own caps.
pub fn predict(plan: &Plan, timings: &[Timing]) -> Prediction {
    predict_with(plan, timings, caps(plan))
}

/// [`predict`] under other caps (a what-if concurrency).
pub fn predict_with(plan: &Plan, timings: &[Timing], caps: Caps) -> Prediction {
    let graph = plan.graph();
    let total = |i: usize| {
        timings
            .get(i)
            .map_or(0.0, |t| t.restore.max(0.0) + t.settle.max(0.0))
    };
    let (critical_path, _) = graph.critical_path(total);
    let restores = plan.restores();
    let schedule = schedule::simulate_static(
        graph,
        timings,
        |i| restores[i].target.location.account.as_str(),
        caps,
    );
    Prediction {
        makespan: schedule.makespan,
        critical_path,
        schedule,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::fixtures;
    use crate::plan::model::Plan;

    fn timed(restore: &[f64]) -> Vec<Timing> {
        restore.iter().map(|&r| timing(r, 0)).collect()
    }

    fn independent(n: usize, concurrency: u32) -> Plan {
        let restores = (0..n)
            .map(|i| fixtures::restore(&format!("t{i}"), &format!("table{i}")))
            .collect();
        Plan::seal(fixtures::header(concurrency), restores).unwrap_or_else(|f| panic!("{f:?}"))
    }

    #[test]
    fn concurrency_caps_how_many_run_at_once() {
        let durations = [100.0, 100.0, 100.0, 100.0];
        assert_eq!(
            predict(&independent(4, 4), &timed(&durations)).makespan,
            100.0
        );
        assert_eq!(
            predict(&independent(4, 2), &timed(&durations)).makespan,
            200.0
        );
        assert_eq!(
            predict(&independent(4, 1), &timed(&durations)).makespan,
            400.0
        );
    }

    #[test]
    fn the_per_account_limit_applies_above_the_plan_concurrency() {
        let durations = vec![10.0; 60];
        // 60 restores into one account, concurrency 100: two waves of at most 50.
        assert_eq!(
            predict(&independent(60, 100), &timed(&durations)).makespan,
            20.0
        );
    }

    #[test]
    fn longest_chains_start_first() {
        // a (10) -> b (100); c (50), d (50); concurrency 2. a and c start
        // first. The slot a frees when its table is ACTIVE (at 10) goes to
        // d, as in the executor: b waits for a's after-restore steps, which
        // complete a only after the runner has refilled the slot. b starts
        // when c is done: 150. Starting c and d first would take 160.
        let mut a = fixtures::restore("a", "ta");
        let mut b = fixtures::restore("b", "tb");
        let c = fixtures::restore("c", "tc");
        let d = fixtures::restore("d", "td");
        b.depends_on = vec!["a".to_owned()];
        a.depends_on = Vec::new();
        let plan =
            Plan::seal(fixtures::header(2), vec![c, d, a, b]).unwrap_or_else(|f| panic!("{f:?}"));
        let p = predict(&plan, &timed(&[50.0, 50.0, 10.0, 100.0]));
        assert_eq!(p.makespan, 150.0);
        assert_eq!(p.schedule.start, vec![0.0, 10.0, 0.0, 50.0]);
        assert_eq!(p.critical_path, vec![2, 3]);
    }

    #[test]
    fn an_empty_plan_takes_no_time() {
        let plan = Plan::seal(fixtures::header(1), Vec::new()).unwrap_or_else(|f| panic!("{f:?}"));
        assert_eq!(predict(&plan, &[]).makespan, 0.0);
    }

    #[test]
    fn after_restore_steps_delay_dependents_but_not_the_slot() {
        // a -> b, and c; concurrency 1. a is ACTIVE at 100 and settles two
        // steps (60 s); c takes the freed slot at 100, b starts at 160.
        let a = fixtures::restore("a", "ta");
        let mut b = fixtures::restore("b", "tb");
        let c = fixtures::restore("c", "tc");
        b.depends_on = vec!["a".to_owned()];
        let plan =
            Plan::seal(fixtures::header(1), vec![a, b, c]).unwrap_or_else(|f| panic!("{f:?}"));
        let p = predict(
            &plan,
            &[timing(100.0, 2), timing(100.0, 0), timing(50.0, 0)],
        );
        assert_eq!(p.schedule.start, vec![0.0, 160.0, 100.0]);
        assert_eq!(p.makespan, 260.0);
    }
}
