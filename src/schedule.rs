//! The one scheduler: which restores are ready, which hold a restore slot,
//! what a failure skips — and the static schedule of a whole plan over
//! given durations. No I/O, no clock, no async.
//!
//! [`Scheduler`] is the state the executor drives: the runner asks it what
//! to start next and tells it what happened. [`simulate_static`] drives the
//! same [`Scheduler`] in a discrete-event loop over known durations, event
//! by event exactly as the runner does, so the RTO that `plan` predicts and
//! the makespan `simulate` measures come from one scheduling rule.
//!
//! Ready restores are ordered by their remaining critical path (the longest
//! chain of estimated durations starting at them), longest first. A restore
//! holds a slot from its start until its table is ACTIVE; at most
//! `concurrency` slots are held in all and at most `per_account` per target
//! account (DynamoDB's quota of concurrent restores).
//!
//! Must not: import the executor, the simulator, the checks, the dry run,
//! the command line or the renderers; it sits below all of them.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap};

use crate::graph::DependencyGraph;
use crate::plan::model::OnFailure;

/// State of one restore inside the scheduler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeState {
    /// Waiting for dependencies.
    Waiting,
    /// Dependencies done; queued.
    Ready,
    /// Started; `holds_slot` until ACTIVE.
    Running {
        /// True while counted against the caps.
        holds_slot: bool,
    },
    /// Completed.
    Done,
    /// Failed.
    Failed,
    /// Skipped.
    Skipped,
}

#[derive(Debug, PartialEq)]
struct Ready {
    priority: f64,
    index: Reverse<usize>,
}

impl Eq for Ready {}

impl PartialOrd for Ready {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ready {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .total_cmp(&other.priority)
            .then(self.index.cmp(&other.index))
    }
}

/// Caps the scheduler enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Restores in flight at once, across accounts.
    pub concurrency: u32,
    /// Restores in flight at once per target account.
    pub per_account: u32,
}

/// Critical-path-first scheduling state.
#[derive(Debug)]
pub struct Scheduler {
    dependents: Vec<Vec<usize>>,
    deps_left: Vec<usize>,
    priority: Vec<f64>,
    account: Vec<usize>,
    ready: Vec<BinaryHeap<Ready>>,
    in_flight_account: Vec<u32>,
    in_flight: u32,
    caps: Caps,
    state: Vec<NodeState>,
    policy: OnFailure,
    stopped: bool,
    open: usize,
    fifo: bool,
    fifo_seq: usize,
}

impl Scheduler {
    /// A scheduler for `graph`; `estimate(i)` gives restore durations for the
    /// critical-path priority and `account_of(i)` the target account key.
    pub fn new<K: std::hash::Hash + Eq>(
        graph: &DependencyGraph,
        estimate: impl Fn(usize) -> f64,
        account_of: impl Fn(usize) -> K,
        caps: Caps,
        policy: OnFailure,
    ) -> Self {
        let n = graph.len();
        let priority = graph.remaining_path(estimate);
        let mut keys: HashMap<K, usize> = HashMap::new();
        let account: Vec<usize> = (0..n)
            .map(|i| {
                let next = keys.len();
                *keys.entry(account_of(i)).or_insert(next)
            })
            .collect();
        let accounts = keys.len().max(1);
        let mut s = Self {
            dependents: (0..n).map(|i| graph.dependents(i).collect()).collect(),
            deps_left: (0..n).map(|i| graph.dependencies(i).count()).collect(),
            priority,
            account,
            ready: (0..accounts).map(|_| BinaryHeap::new()).collect(),
            in_flight_account: vec![0; accounts],
            in_flight: 0,
            caps: Caps {
                concurrency: caps.concurrency.max(1),
                per_account: caps.per_account.max(1),
            },
            state: vec![NodeState::Waiting; n],
            policy,
            stopped: false,
            open: n,
            fifo: false,
            fifo_seq: 0,
        };
        for i in 0..n {
            if s.deps_left[i] == 0 {
                s.push_ready(i);
            }
        }
        s
    }

    /// Switches to first-in-first-out order among ready restores (the
    /// baseline a plain topological graph walker gives), for comparisons.
    pub fn use_fifo_order(&mut self) {
        self.fifo = true;
        let queued: Vec<usize> = self
            .ready
            .iter_mut()
            .flat_map(|h| h.drain().map(|r| r.index.0).collect::<Vec<_>>())
            .collect();
        let mut queued = queued;
        queued.sort_unstable();
        for i in queued {
            self.state[i] = NodeState::Waiting;
            self.push_ready(i);
        }
    }

    fn push_ready(&mut self, i: usize) {
        self.state[i] = NodeState::Ready;
        let priority = if self.fifo {
            self.fifo_seq += 1;
            -(self.fifo_seq as f64)
        } else {
            self.priority[i]
        };
        self.ready[self.account[i]].push(Ready {
            priority,
            index: Reverse(i),
        });
    }

    /// The state of restore `i`.
    pub fn state(&self, i: usize) -> NodeState {
        self.state[i]
    }

    /// The critical-path priority of restore `i`.
    pub fn priority(&self, i: usize) -> f64 {
        self.priority[i]
    }

    /// Slots held across accounts.
    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// True once nothing new may start (failure policy `stop`).
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// True when every restore is done, failed or skipped.
    pub fn is_finished(&self) -> bool {
        self.open == 0
    }

    /// Restores not yet final.
    pub fn open(&self) -> usize {
        self.open
    }

    /// The next restore to start, if a slot is free; it then holds a slot.
    pub fn next_ready(&mut self) -> Option<usize> {
        if self.stopped || self.in_flight >= self.caps.concurrency {
            return None;
        }
        let account = (0..self.ready.len())
            .filter(|&a| self.in_flight_account[a] < self.caps.per_account)
            .filter_map(|a| self.ready[a].peek().map(|r| (a, r)))
            .max_by(|x, y| x.1.cmp(y.1))
            .map(|(a, _)| a)?;
        let i = self.ready[account].pop()?.index.0;
        self.take_slot(i);
        Some(i)
    }

    /// The next restore of the same target account as restore `of`, if a
    /// slot is free there: what a worker lane bound to one account claims.
    pub fn next_ready_in_account_of(&mut self, of: usize) -> Option<usize> {
        if self.stopped || self.in_flight >= self.caps.concurrency {
            return None;
        }
        let account = *self.account.get(of)?;
        if self.in_flight_account[account] >= self.caps.per_account {
            return None;
        }
        let i = self.ready[account].pop()?.index.0;
        self.take_slot(i);
        Some(i)
    }

    fn take_slot(&mut self, i: usize) {
        self.state[i] = NodeState::Running { holds_slot: true };
        self.in_flight += 1;
        self.in_flight_account[self.account[i]] += 1;
    }

    /// Restore `i` is ACTIVE: its slot is free for another restore.
    pub fn release_slot(&mut self, i: usize) {
        if let NodeState::Running { holds_slot: true } = self.state[i] {
            self.state[i] = NodeState::Running { holds_slot: false };
            self.in_flight -= 1;
            self.in_flight_account[self.account[i]] -= 1;
        }
    }

    /// Marks a restore a resumed run finds already started (`holds_slot`
    /// while it is not yet ACTIVE). It is removed from the ready queue.
    pub fn mark_running(&mut self, i: usize, holds_slot: bool) {
        if self.state[i] == NodeState::Ready {
            let heap = &mut self.ready[self.account[i]];
            let kept: Vec<Ready> = heap.drain().filter(|r| r.index.0 != i).collect();
            heap.extend(kept);
        }
        if holds_slot {
            self.take_slot(i);
        } else {
            self.state[i] = NodeState::Running { holds_slot: false };
        }
    }

    /// Restore `i` completed: dependents whose dependencies are all done
    /// become ready.
    pub fn complete(&mut self, i: usize) {
        if self.is_final(i) {
            return;
        }
        self.release_slot(i);
        if self.state[i] == NodeState::Ready {
            self.mark_running(i, false);
        }
        self.state[i] = NodeState::Done;
        self.open -= 1;
        for k in 0..self.dependents[i].len() {
            let d = self.dependents[i][k];
            self.deps_left[d] -= 1;
            if self.deps_left[d] == 0 && self.state[d] == NodeState::Waiting {
                self.push_ready(d);
            }
        }
    }

    fn is_final(&self, i: usize) -> bool {
        matches!(
            self.state[i],
            NodeState::Done | NodeState::Failed | NodeState::Skipped
        )
    }

    /// Restore `i` failed (`name(i)` names restores in reasons). Returns the
    /// restores skipped because of it, with their reasons: the transitive
    /// dependents, or under `on_failure: stop` everything not yet started.
    pub fn fail(&mut self, i: usize, name: impl Fn(usize) -> String) -> Vec<(usize, String)> {
        self.fail_inner(i, name, false)
    }

    /// Like [`Scheduler::fail`], but the restore keeps counting against the
    /// caps: it may still be running in AWS (its outcome is unknown), so its
    /// slot is not given to another restore.
    pub fn fail_keeping_slot(
        &mut self,
        i: usize,
        name: impl Fn(usize) -> String,
    ) -> Vec<(usize, String)> {
        self.fail_inner(i, name, true)
    }

    fn fail_inner(
        &mut self,
        i: usize,
        name: impl Fn(usize) -> String,
        keep_slot: bool,
    ) -> Vec<(usize, String)> {
        if self.is_final(i) {
            return Vec::new();
        }
        if !keep_slot {
            self.release_slot(i);
        }
        if self.state[i] == NodeState::Ready {
            self.mark_running(i, false);
        }
        self.state[i] = NodeState::Failed;
        self.open -= 1;
        let mut skipped = Vec::new();
        let mut stack: Vec<(usize, String)> = self.dependents[i]
            .iter()
            .map(|&d| (d, format!("depends on `{}`, which failed", name(i))))
            .collect();
        while let Some((d, reason)) = stack.pop() {
            if self.is_final(d) || matches!(self.state[d], NodeState::Running { .. }) {
                continue;
            }
            self.skip(d);
            for &e in &self.dependents[d] {
                stack.push((
                    e,
                    format!(
                        "depends on `{}`, which was skipped because `{}` failed",
                        name(d),
                        name(i)
                    ),
                ));
            }
            skipped.push((d, reason));
        }
        if self.policy == OnFailure::Stop {
            self.stopped = true;
            for d in 0..self.state.len() {
                if matches!(self.state[d], NodeState::Waiting | NodeState::Ready) {
                    self.skip(d);
                    skipped.push((
                        d,
                        format!("not started: `{}` failed and on_failure is stop", name(i)),
                    ));
                }
            }
        }
        skipped
    }

    fn skip(&mut self, d: usize) {
        if self.state[d] == NodeState::Ready {
            let heap = &mut self.ready[self.account[d]];
            let kept: Vec<Ready> = heap.drain().filter(|r| r.index.0 != d).collect();
            heap.extend(kept);
        }
        self.state[d] = NodeState::Skipped;
        self.open -= 1;
    }

    /// Marks a restore the journal shows skipped.
    pub fn mark_skipped(&mut self, i: usize) {
        if !self.is_final(i) && !matches!(self.state[i], NodeState::Running { .. }) {
            self.skip(i);
        }
    }
}

/// When each restore of a static schedule starts, is ACTIVE and finishes.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticSchedule {
    /// Start time of each restore, in seconds from the start of the run.
    pub start: Vec<f64>,
    /// When its table is ACTIVE (its restore slot is free again).
    pub active: Vec<f64>,
    /// When its after-restore steps are done (its dependents may start).
    pub finish: Vec<f64>,
    /// Time from the start of the run to the last finish, in seconds.
    pub makespan: f64,
    /// When each restore's copy step is done and its restore request is
    /// sent (its start when it has no copy step).
    pub copied: Vec<f64>,
}

/// What a static schedule needs to know of one restore.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Timing {
    /// The restore's estimate, which orders the ready queue (the runner
    /// uses the same number: the restore's `estimated_seconds`).
    pub estimate: f64,
    /// How long the restore holds its slot: start to ACTIVE, in seconds.
    pub restore: f64,
    /// How long its after-restore steps take once ACTIVE, in seconds.
    pub settle: f64,
    /// How long its copy step (`copy:`) takes before the restore starts, in
    /// seconds; 0 without one. The copy holds the restore's slot, as AWS
    /// Backup jobs count against the caps.
    pub copy: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Copied,
    Active,
    Finished,
}

#[derive(Debug, PartialEq)]
struct Pending {
    at: f64,
    seq: usize,
    index: usize,
    step: Step,
}

impl Eq for Pending {}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pending {
    // Earliest first; among equal times, in the order they were scheduled
    // (the order the runner's task set yields them).
    fn cmp(&self, other: &Self) -> Ordering {
        other.at.total_cmp(&self.at).then(other.seq.cmp(&self.seq))
    }
}

/// Runs [`Scheduler`] over known durations in a discrete-event loop, as the
/// executor runs it over real restores: start every restore the scheduler
/// offers, then take the next event (a table ACTIVE frees its slot; its
/// after-restore steps done complete it) and ask again. Nothing fails.
///
/// `account_of(i)` is restore `i`'s target account, `caps` the same caps
/// the executor is given. Restores are started in the order the runner
/// starts them, so under the same durations the makespan here is the
/// makespan of a run.
pub fn simulate_static<K: std::hash::Hash + Eq>(
    graph: &DependencyGraph,
    timings: &[Timing],
    account_of: impl Fn(usize) -> K,
    caps: Caps,
) -> StaticSchedule {
    let n = graph.len();
    let timing = |i: usize| timings.get(i).copied().unwrap_or_default();
    let clean = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
    let mut sched = Scheduler::new(
        graph,
        |i| clean(timing(i).estimate),
        account_of,
        caps,
        OnFailure::Continue,
    );
    let mut start = vec![0.0; n];
    let mut active = vec![0.0; n];
    let mut finish = vec![0.0; n];
    let mut copied = vec![0.0; n];
    let mut events: BinaryHeap<Pending> = BinaryHeap::new();
    let mut seq = 0usize;
    let mut now = 0.0_f64;
    let mut makespan = 0.0_f64;
    loop {
        while let Some(i) = sched.next_ready() {
            start[i] = now;
            copied[i] = now;
            seq += 1;
            let copy = clean(timing(i).copy);
            events.push(if copy > 0.0 {
                Pending {
                    at: now + copy,
                    seq,
                    index: i,
                    step: Step::Copied,
                }
            } else {
                Pending {
                    at: now + clean(timing(i).restore),
                    seq,
                    index: i,
                    step: Step::Active,
                }
            });
        }
        // Nothing in flight: every restore is done (a sealed plan's graph
        // has no cycle, so nothing can be left waiting).
        let Some(e) = events.pop() else { break };
        now = e.at;
        match e.step {
            Step::Copied => {
                copied[e.index] = now;
                seq += 1;
                events.push(Pending {
                    at: now + clean(timing(e.index).restore),
                    seq,
                    index: e.index,
                    step: Step::Active,
                });
            }
            Step::Active => {
                active[e.index] = now;
                sched.release_slot(e.index);
                seq += 1;
                events.push(Pending {
                    at: now + clean(timing(e.index).settle),
                    seq,
                    index: e.index,
                    step: Step::Finished,
                });
            }
            Step::Finished => {
                finish[e.index] = now;
                makespan = makespan.max(now);
                sched.complete(e.index);
            }
        }
    }
    StaticSchedule {
        start,
        active,
        finish,
        makespan,
        copied,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;
    use crate::graph::GraphNode;

    struct Node(String, Vec<String>);

    impl GraphNode for Node {
        fn id(&self) -> &str {
            &self.0
        }
        fn depends_on(&self) -> &[String] {
            &self.1
        }
        fn entry_span(&self) -> Option<Span> {
            None
        }
        fn dependency_span(&self, _: usize) -> Option<Span> {
            None
        }
    }

    /// Nodes `0..n` where each edge `(a, b)` makes `b` depend on `a`.
    fn graph_of(n: usize, edges: &[(usize, usize)]) -> DependencyGraph {
        let nodes: Vec<Node> = (0..n)
            .map(|i| {
                let deps = edges
                    .iter()
                    .filter(|e| e.1 == i)
                    .map(|e| format!("r{}", e.0))
                    .collect();
                Node(format!("r{i}"), deps)
            })
            .collect();
        DependencyGraph::build(&nodes).unwrap_or_else(|f| panic!("not a DAG: {f:?}"))
    }

    fn timed(restore: &[f64], settle: f64) -> Vec<Timing> {
        restore
            .iter()
            .map(|&r| Timing {
                estimate: r,
                restore: r,
                settle,
                copy: 0.0,
            })
            .collect()
    }

    const WIDE: Caps = Caps {
        concurrency: 100,
        per_account: 100,
    };

    #[test]
    fn a_copy_runs_before_its_restore_and_holds_the_slot() {
        // 0 -> 1, and an independent 2; one slot. 0 copies for 20s, then
        // restores for 10s (ACTIVE at 30); 2 gets the slot only then.
        let g = graph_of(3, &[(0, 1)]);
        let t = vec![
            Timing {
                estimate: 30.0,
                restore: 10.0,
                settle: 0.0,
                copy: 20.0,
            },
            Timing {
                estimate: 10.0,
                restore: 10.0,
                settle: 0.0,
                copy: 0.0,
            },
            Timing {
                estimate: 5.0,
                restore: 5.0,
                settle: 0.0,
                copy: 0.0,
            },
        ];
        let one = Caps {
            concurrency: 1,
            per_account: 1,
        };
        let s = simulate_static(&g, &t, |_| 0, one);
        assert_eq!(s.start, vec![0.0, 35.0, 30.0]);
        assert_eq!(s.copied, vec![20.0, 35.0, 30.0]);
        assert_eq!(s.active, vec![30.0, 45.0, 35.0]);
        assert_eq!(s.makespan, 45.0);
        // With room for both, the copy is on the critical path: 0's chain
        // (20 + 10, then 1's 10) is the longest.
        let s = simulate_static(&g, &t, |_| 0, WIDE);
        assert_eq!(s.start, vec![0.0, 30.0, 0.0]);
        assert_eq!(s.makespan, 40.0);
    }

    #[test]
    fn static_schedule_honours_the_caps() {
        let g = graph_of(4, &[]);
        let t = timed(&[100.0; 4], 0.0);
        let one = |c| Caps {
            concurrency: c,
            per_account: 50,
        };
        assert_eq!(simulate_static(&g, &t, |_| 0, one(4)).makespan, 100.0);
        assert_eq!(simulate_static(&g, &t, |_| 0, one(2)).makespan, 200.0);
        assert_eq!(simulate_static(&g, &t, |_| 0, one(1)).makespan, 400.0);
        let per_account = Caps {
            concurrency: 4,
            per_account: 1,
        };
        let s = simulate_static(&g, &t, |i| i % 2, per_account);
        assert_eq!(
            s.makespan, 200.0,
            "two accounts, one restore each at a time"
        );
    }

    #[test]
    fn settling_keeps_dependents_waiting_but_frees_the_slot() {
        // 0 -> 1, and an independent 2; one slot. 0 is ACTIVE at 10 and
        // settles until 40: 2 takes the freed slot at 10 (ACTIVE at 15),
        // and 1 is ready only once 0 has settled, at 40.
        let g = graph_of(3, &[(0, 1)]);
        let t = vec![
            Timing {
                estimate: 10.0,
                restore: 10.0,
                settle: 30.0,
                copy: 0.0,
            },
            Timing {
                estimate: 10.0,
                restore: 10.0,
                settle: 0.0,
                copy: 0.0,
            },
            Timing {
                estimate: 5.0,
                restore: 5.0,
                settle: 0.0,
                copy: 0.0,
            },
        ];
        let one = Caps {
            concurrency: 1,
            per_account: 1,
        };
        let s = simulate_static(&g, &t, |_| 0, one);
        assert_eq!(s.start, vec![0.0, 40.0, 10.0]);
        assert_eq!(s.active, vec![10.0, 50.0, 15.0]);
        assert_eq!(s.finish, vec![40.0, 50.0, 15.0]);
        assert_eq!(s.makespan, 50.0);
    }

    #[test]
    fn a_chain_takes_the_sum_and_an_empty_graph_nothing() {
        let g = graph_of(3, &[(0, 1), (1, 2)]);
        let s = simulate_static(&g, &timed(&[1.0, 2.0, 3.0], 0.5), |_| 0, WIDE);
        assert_eq!(s.makespan, 7.5);
        assert_eq!(s.start, vec![0.0, 1.5, 4.0]);
        let empty = graph_of(0, &[]);
        assert_eq!(simulate_static(&empty, &[], |_| 0, WIDE).makespan, 0.0);
    }

    fn names(i: usize) -> String {
        format!("r{i}")
    }

    #[test]
    fn longest_remaining_path_starts_first() {
        // 0 -> 1 -> 2 is a long chain; 3 is a single long restore; 4 is short.
        let g = graph_of(5, &[(0, 1), (1, 2)]);
        let est = [10.0, 10.0, 10.0, 25.0, 1.0];
        let mut s = Scheduler::new(
            &g,
            |i| est[i],
            |_| 0,
            Caps {
                concurrency: 1,
                per_account: 50,
            },
            OnFailure::Continue,
        );
        assert_eq!(s.next_ready(), Some(0));
        assert_eq!(s.next_ready(), None, "the only slot is taken");
        s.release_slot(0);
        assert_eq!(s.next_ready(), Some(3), "1 is not ready until 0 completes");
        s.complete(0);
        s.release_slot(3);
        assert_eq!(s.next_ready(), Some(1));
    }

    #[test]
    fn per_account_cap_lets_other_accounts_through() {
        let g = graph_of(4, &[]);
        let mut s = Scheduler::new(
            &g,
            |i| 10.0 - i as f64,
            |i| if i < 3 { "a" } else { "b" },
            Caps {
                concurrency: 10,
                per_account: 2,
            },
            OnFailure::Continue,
        );
        assert_eq!(s.next_ready(), Some(0));
        assert_eq!(s.next_ready(), Some(1));
        assert_eq!(s.next_ready(), Some(3), "account a is full");
        assert_eq!(s.next_ready(), None);
    }

    #[test]
    fn failure_skips_transitive_dependents_only() {
        // Diamond 0 -> {1, 2} -> 3, and an independent 4.
        let g = graph_of(5, &[(0, 1), (0, 2), (1, 3), (2, 3)]);
        let mut s = Scheduler::new(
            &g,
            |_| 1.0,
            |_| 0,
            Caps {
                concurrency: 5,
                per_account: 5,
            },
            OnFailure::Continue,
        );
        let first: Vec<usize> = std::iter::from_fn(|| s.next_ready()).collect();
        assert_eq!(first, vec![0, 4]);
        s.complete(4);
        let mut skipped = s.fail(0, names);
        skipped.sort();
        assert_eq!(
            skipped.iter().map(|x| x.0).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert!(skipped[0].1.contains("`r0`, which failed"));
        assert!(skipped[2].1.contains("skipped because `r0` failed"));
        assert!(s.is_finished());
    }

    #[test]
    fn stop_policy_starts_nothing_new() {
        let g = graph_of(3, &[]);
        let mut s = Scheduler::new(
            &g,
            |_| 1.0,
            |_| 0,
            Caps {
                concurrency: 1,
                per_account: 5,
            },
            OnFailure::Stop,
        );
        let i = s.next_ready();
        assert_eq!(i, Some(0));
        let skipped = s.fail(0, names);
        assert_eq!(skipped.len(), 2);
        assert!(
            skipped
                .iter()
                .all(|(_, r)| r.contains("on_failure is stop"))
        );
        assert_eq!(s.next_ready(), None);
        assert!(s.is_finished());
    }
}
