//! The predicted RTO: a list schedule of the restores' estimated durations
//! that honours dependencies, `execution.concurrency` and DynamoDB's 50
//! concurrent restores per account, starting the longest remaining chain
//! first. Pure.

use std::collections::BTreeMap;

use crate::plan::model::{Execution, Plan};

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
}

/// Predicts the whole plan's duration from each restore's duration (by index).
pub fn predict(plan: &Plan, durations: &[f64]) -> Prediction {
    let n = plan.restores().len();
    let graph = plan.graph();
    let duration = |i: usize| durations.get(i).copied().unwrap_or(0.0);
    let (critical_path, _) = graph.critical_path(duration);
    let priority = graph.remaining_path(duration);
    let cap = plan.header().execution.concurrency.max(1) as usize;
    let per_account = Execution::PER_ACCOUNT_RESTORE_LIMIT as usize;

    let mut waiting: Vec<usize> = (0..n).map(|i| graph.dependencies(i).count()).collect();
    let mut ready: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    // (finish time, index) of restores in flight.
    let mut running: Vec<(f64, usize)> = Vec::new();
    let mut in_account: BTreeMap<&str, usize> = BTreeMap::new();
    let account = |i: usize| plan.restores()[i].target.location.account.as_str();
    let mut now = 0.0_f64;
    let mut done = 0;
    while done < n {
        ready.sort_by(|&a, &b| priority[b].total_cmp(&priority[a]).then(a.cmp(&b)));
        let mut i = 0;
        while i < ready.len() && running.len() < cap {
            let r = ready[i];
            let slots = in_account.entry(account(r)).or_default();
            if *slots < per_account {
                *slots += 1;
                running.push((now + duration(r), r));
                ready.remove(i);
            } else {
                i += 1;
            }
        }
        // Nothing runs and nothing can start: only possible with a broken
        // graph, which a sealed plan rules out; stop rather than spin.
        let Some(&(next, _)) = running.iter().min_by(|a, b| a.0.total_cmp(&b.0)) else {
            break;
        };
        now = next;
        let (finished, still): (Vec<_>, Vec<_>) = running.into_iter().partition(|&(t, _)| t <= now);
        running = still;
        for (_, f) in finished {
            done += 1;
            if let Some(slots) = in_account.get_mut(account(f)) {
                *slots -= 1;
            }
            for d in graph.dependents(f) {
                waiting[d] -= 1;
                if waiting[d] == 0 {
                    ready.push(d);
                }
            }
        }
    }
    Prediction {
        makespan: now,
        critical_path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::fixtures;
    use crate::plan::model::Plan;

    fn independent(n: usize, concurrency: u32) -> Plan {
        let restores = (0..n)
            .map(|i| fixtures::restore(&format!("t{i}"), &format!("table{i}")))
            .collect();
        Plan::seal(fixtures::header(concurrency), restores).unwrap_or_else(|f| panic!("{f:?}"))
    }

    #[test]
    fn concurrency_caps_how_many_run_at_once() {
        let durations = [100.0, 100.0, 100.0, 100.0];
        assert_eq!(predict(&independent(4, 4), &durations).makespan, 100.0);
        assert_eq!(predict(&independent(4, 2), &durations).makespan, 200.0);
        assert_eq!(predict(&independent(4, 1), &durations).makespan, 400.0);
    }

    #[test]
    fn the_per_account_limit_applies_above_the_plan_concurrency() {
        let durations = vec![10.0; 60];
        // 60 restores into one account, concurrency 100: two waves of at most 50.
        assert_eq!(predict(&independent(60, 100), &durations).makespan, 20.0);
    }

    #[test]
    fn longest_chains_start_first() {
        // a (10) -> b (100); c (50), d (50); concurrency 2. Starting a first
        // finishes at 110; starting c and d first would take 160.
        let mut a = fixtures::restore("a", "ta");
        let mut b = fixtures::restore("b", "tb");
        let c = fixtures::restore("c", "tc");
        let d = fixtures::restore("d", "td");
        b.depends_on = vec!["a".to_owned()];
        a.depends_on = Vec::new();
        let plan =
            Plan::seal(fixtures::header(2), vec![c, d, a, b]).unwrap_or_else(|f| panic!("{f:?}"));
        let p = predict(&plan, &[50.0, 50.0, 10.0, 100.0]);
        assert_eq!(p.makespan, 110.0);
        assert_eq!(p.critical_path, vec![2, 3]);
    }

    #[test]
    fn an_empty_plan_takes_no_time() {
        let plan = Plan::seal(fixtures::header(1), Vec::new()).unwrap_or_else(|f| panic!("{f:?}"));
        assert_eq!(predict(&plan, &[]).makespan, 0.0);
    }
}
