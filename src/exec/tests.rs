//! Executor behaviour against the simulated cloud, in virtual time.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use proptest::prelude::*;

use crate::clock::Clock;
use crate::cloud::TableChange;
use crate::cloud::sim::{Faults, SimCloud};
use crate::exec::events::Event;
use crate::exec::journal::{Journal, Phase, Record, RunHeader, RunState};
use crate::exec::policy::{PollPolicy, StopSignal, stop_pair};
use crate::exec::spec::{PLAN_TAG, RUN_TAG, RestoreSpec};
use crate::exec::testing::*;
use crate::graph::DependencyGraph;
use crate::plan::model::OnFailure;

fn header(
    specs: &[RestoreSpec],
    graph: &DependencyGraph,
    at: chrono::DateTime<chrono::Utc>,
) -> RunHeader {
    RunHeader {
        run_id: "test-run".to_owned(),
        plan: "test-plan".to_owned(),
        plan_path: None,
        plan_digest: None,
        fingerprint: None,
        concurrency: 10,
        on_failure: OnFailure::Continue,
        restores: specs.to_vec(),
        depends_on: (0..specs.len())
            .map(|i| graph.dependencies(i).collect())
            .collect(),
        at,
        accepted_warnings: Vec::new(),
        selections: Vec::new(),
    }
}

fn new_journal(
    specs: &[RestoreSpec],
    graph: &DependencyGraph,
    at: chrono::DateTime<chrono::Utc>,
) -> Journal {
    let j = Journal::memory();
    j.append(&Record::RunStarted(header(specs, graph, at)))
        .unwrap_or_else(|e| panic!("memory journal: {e}"));
    j
}

/// Completion time of each restore and start time of each, from events.
fn times(
    events: &[Event],
) -> (
    HashMap<usize, chrono::DateTime<chrono::Utc>>,
    HashMap<usize, chrono::DateTime<chrono::Utc>>,
) {
    let mut starts = HashMap::new();
    let mut completions = HashMap::new();
    for e in events {
        match e {
            Event::RestoreStarting { index, at, .. } => {
                starts.entry(*index).or_insert(*at);
            }
            Event::RestoreCompleted { index, at, .. } => {
                completions.insert(*index, *at);
            }
            _ => {}
        }
    }
    (starts, completions)
}

/// Asserts that no restore started before all of its dependencies completed.
fn assert_dependency_order(graph: &DependencyGraph, events: &[Event]) {
    let (starts, completions) = times(events);
    for (&i, &start) in &starts {
        for d in graph.dependencies(i) {
            let done = completions
                .get(&d)
                .unwrap_or_else(|| panic!("r{i} started but its dependency r{d} never completed"));
            assert!(
                *done <= start,
                "r{i} started at {start} before r{d} completed at {done}"
            );
        }
    }
}

/// Highest number of restores running at once across accounts, from the
/// simulated cloud's own record.
fn max_overlap(sim: &SimCloud) -> usize {
    let mut points: Vec<(f64, i32)> = Vec::new();
    for r in sim.stats().restores {
        points.push((r.start, 1));
        points.push((r.end, -1));
    }
    points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut cur = 0i32;
    let mut max = 0i32;
    for (_, d) in points {
        cur += d;
        max = max.max(cur);
    }
    max as usize
}

fn restores_per_table(sim: &SimCloud) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in sim.stats().restores {
        *m.entry(r.table).or_default() += 1;
    }
    m
}

/// Diamonds and chains: 0 -> {1, 2} -> 3 -> 4 -> 5, 6 -> 7, and singles.
fn diamond_edges(n: usize) -> Vec<(usize, usize)> {
    let mut e = Vec::new();
    let mut base = 0;
    while base + 6 <= n {
        e.extend([
            (base, base + 1),
            (base, base + 2),
            (base + 1, base + 3),
            (base + 2, base + 3),
            (base + 3, base + 4),
            (base + 4, base + 5),
        ]);
        base += 8;
        if base - 2 + 1 < n {
            e.push((base - 2, base - 1));
        }
    }
    e.retain(|&(a, b)| a < n && b < n);
    e
}

#[tokio::test(start_paused = true)]
async fn runs_a_plan_in_dependency_order_within_caps_and_applies_settings() {
    let n = 30;
    let edges = diamond_edges(n);
    let (restores, sizes) = rich_restores(n, &edges);
    let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
    let (sim, specs, clock) = sim_for(&restores, &sizes, 1);
    let journal = new_journal(&specs, &graph, clock.now());
    let (summary, events) = run_once(
        &sim,
        &clock,
        &journal,
        &graph,
        &specs,
        options(4, 50, OnFailure::Continue),
        None,
        StopSignal::never(),
    )
    .await;
    let summary = summary.unwrap_or_else(|e| panic!("{e}"));
    assert!(summary.succeeded(), "{summary:?}");
    assert_eq!(summary.completed, n);
    assert_dependency_order(&graph, &events);
    assert!(
        max_overlap(&sim) <= 4,
        "cap exceeded: {}",
        max_overlap(&sim)
    );
    assert!(restores_per_table(&sim).values().all(|&c| c == 1));
    for s in &specs {
        let tags = sim.tags_of(&s.target, &s.target_name).unwrap_or_default();
        assert_eq!(tags.get(PLAN_TAG).map(String::as_str), Some("test-plan"));
        assert_eq!(tags.get(RUN_TAG).map(String::as_str), Some("test-run"));
        assert_eq!(tags.get("purpose").map(String::as_str), Some("dr"));
        let (pitr, _dp, ttl, stream) = sim
            .settings_of(&s.target, &s.target_name)
            .unwrap_or_default();
        assert!(pitr);
        assert_eq!(ttl.as_deref(), Some("expires"));
        assert_eq!(stream.as_deref(), Some("NEW_IMAGE"));
    }
    let state = RunState::replay(&journal.memory_records()).unwrap_or_else(|| panic!("no header"));
    assert_eq!(state.status(), "finished");
    // The critical path of a diamond chain is longer than any single restore,
    // so the run took at least as long as that path in virtual time.
    assert!(summary.finished_at > summary.started_at);
}

#[tokio::test(start_paused = true)]
async fn faults_skip_only_the_failed_restores_dependents() {
    let n = 30;
    let edges = diamond_edges(n);
    let (restores, sizes) = rich_restores(n, &edges);
    let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
    let (sim, specs, clock) = sim_for(&restores, &sizes, 2);
    // r1 is in the first diamond: r3, r4, r5 depend on it.
    let failing = specs[1].target_name.clone();
    let sim = sim.with_faults(Faults {
        throttle: 0.2,
        server_error: 0.05,
        lost_response: 0.0,
        failing_tables: BTreeSet::from([failing]),
    });
    let journal = new_journal(&specs, &graph, clock.now());
    let (summary, events) = run_once(
        &sim,
        &clock,
        &journal,
        &graph,
        &specs,
        options(10, 50, OnFailure::Continue),
        None,
        StopSignal::never(),
    )
    .await;
    let summary = summary.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.failed, 1, "{summary:?}");
    assert_eq!(summary.skipped, 3);
    assert_eq!(summary.completed, n - 4);
    let skipped: BTreeMap<usize, String> = events
        .iter()
        .filter_map(|e| match e {
            Event::RestoreSkipped { index, reason, .. } => Some((*index, reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(skipped.keys().copied().collect::<Vec<_>>(), vec![3, 4, 5]);
    assert!(
        skipped[&3].contains("`r1`, which failed"),
        "{}",
        skipped[&3]
    );
    assert!(
        events.iter().any(|e| matches!(e, Event::Retrying { .. })),
        "faults were retried"
    );
    assert!(
        restores_per_table(&sim).values().all(|&c| c == 1),
        "a restore was started twice"
    );
    assert_dependency_order(&graph, &events);
}

#[tokio::test(start_paused = true)]
async fn lost_answers_never_start_a_restore_twice() {
    let n = 20;
    let (restores, sizes) = rich_restores(n, &[]);
    let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
    let (sim, specs, clock) = sim_for(&restores, &sizes, 3);
    // Three in ten answers lost, on every call: at one in two, ten lost
    // answers in a row to one idempotent settings call (which exhausts its
    // retries and fails the restore) become likely over a 20-restore run.
    let sim = sim.with_faults(Faults {
        lost_response: 0.3,
        ..Faults::default()
    });
    let journal = new_journal(&specs, &graph, clock.now());
    let (summary, _events) = run_once(
        &sim,
        &clock,
        &journal,
        &graph,
        &specs,
        options(20, 50, OnFailure::Continue),
        None,
        StopSignal::never(),
    )
    .await;
    let summary = summary.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        summary.succeeded(),
        "{summary:?} {:#?}",
        _events
            .iter()
            .filter(|e| matches!(e, Event::RestoreFailed { .. }))
            .collect::<Vec<_>>()
    );
    let per_table = restores_per_table(&sim);
    assert_eq!(per_table.len(), n);
    assert!(per_table.values().all(|&c| c == 1), "{per_table:?}");
}

#[tokio::test(start_paused = true)]
async fn an_existing_target_table_is_never_overwritten() {
    let (restores, sizes) = rich_restores(3, &[(0, 1)]);
    let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
    let (sim, specs, clock) = sim_for(&restores, &sizes, 4);
    sim.create_table(&specs[0].target, &specs[0].target_name);
    let journal = new_journal(&specs, &graph, clock.now());
    let (summary, events) = run_once(
        &sim,
        &clock,
        &journal,
        &graph,
        &specs,
        options(5, 50, OnFailure::Continue),
        None,
        StopSignal::never(),
    )
    .await;
    let summary = summary.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (summary.completed, summary.failed, summary.skipped),
        (1, 1, 1)
    );
    let cause = events.iter().find_map(|e| match e {
        Event::RestoreFailed {
            index: 0, cause, ..
        } => Some(cause.clone()),
        _ => None,
    });
    assert!(cause.is_some_and(|c| c.contains("never overwrites")));
    // The pre-existing table was left alone: no tags were added to it.
    assert_eq!(
        sim.tags_of(&specs[0].target, &specs[0].target_name),
        Some(BTreeMap::new())
    );
}

#[tokio::test(start_paused = true)]
async fn stop_policy_starts_nothing_after_a_failure() {
    let (restores, sizes) = rich_restores(6, &[]);
    let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
    let (sim, specs, clock) = sim_for(&restores, &sizes, 5);
    // Make restore 0 fail at once: its target already exists.
    sim.create_table(&specs[0].target, &specs[0].target_name);
    let journal = new_journal(&specs, &graph, clock.now());
    let (summary, events) = run_once(
        &sim,
        &clock,
        &journal,
        &graph,
        &specs,
        options(1, 50, OnFailure::Stop),
        None,
        StopSignal::never(),
    )
    .await;
    let summary = summary.unwrap_or_else(|e| panic!("{e}"));
    let started = events
        .iter()
        .filter(|e| matches!(e, Event::RestoreStarting { .. }))
        .count();
    // Restore 0 is the first only if it has the longest remaining path; in
    // any case nothing starts after the failure.
    let fail_at = events
        .iter()
        .position(|e| matches!(e, Event::RestoreFailed { .. }))
        .unwrap_or(0);
    assert!(
        events[fail_at..]
            .iter()
            .all(|e| !matches!(e, Event::RestoreStarting { .. }))
    );
    assert_eq!(summary.failed, 1);
    assert_eq!(summary.completed + summary.failed, started);
    assert_eq!(summary.skipped, 6 - started);
    assert!(events.iter().any(|e| matches!(e, Event::Stopping { .. })));
}

#[tokio::test(start_paused = true)]
async fn an_interrupt_stops_new_work_and_resume_finishes_the_run() {
    let n = 12;
    let (restores, sizes) = rich_restores(n, &[(0, 1), (1, 2), (3, 4)]);
    let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
    let (sim, specs, clock) = sim_for(&restores, &sizes, 6);
    let journal = new_journal(&specs, &graph, clock.now());
    let (handle, signal) = stop_pair();
    let stopper = async {
        tokio::time::sleep(Duration::from_secs(1200)).await;
        handle.stop();
    };
    let ((summary, events), ()) = tokio::join!(
        run_once(
            &sim,
            &clock,
            &journal,
            &graph,
            &specs,
            options(3, 50, OnFailure::Continue),
            None,
            signal
        ),
        stopper
    );
    let summary = summary.unwrap_or_else(|e| panic!("{e}"));
    assert!(summary.interrupted);
    assert!(summary.pending > 0);
    let stop_at = events
        .iter()
        .position(|e| matches!(e, Event::Stopping { .. }))
        .unwrap_or(0);
    assert!(
        events[stop_at..]
            .iter()
            .all(|e| !matches!(e, Event::RestoreStarting { .. }))
    );
    let state = RunState::replay(&journal.memory_records()).unwrap_or_else(|| panic!("no header"));
    assert_eq!(state.status(), "interrupted");
    let (summary, events) = run_once(
        &sim,
        &clock,
        &journal,
        &graph,
        &specs,
        options(3, 50, OnFailure::Continue),
        Some(&state),
        StopSignal::never(),
    )
    .await;
    let summary = summary.unwrap_or_else(|e| panic!("{e}"));
    assert!(summary.succeeded(), "{summary:?}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::RestoreRecorded { .. }))
    );
    assert!(restores_per_table(&sim).values().all(|&c| c == 1));
}

/// Drops the run at random virtual moments (as a kill would), resumes from
/// the journal, and checks that every table is restored exactly once with
/// every setting applied.
#[tokio::test(start_paused = true)]
async fn crashes_at_random_moments_resume_to_exactly_one_restore_each() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for trial in 0..20 {
        let n = 15;
        let (restores, sizes) = rich_restores(n, &[(0, 1), (1, 2), (0, 3), (4, 5), (5, 6)]);
        let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
        let (sim, specs, clock) = sim_for(&restores, &sizes, trial);
        let sim = sim.with_faults(Faults {
            lost_response: 0.2,
            throttle: 0.1,
            ..Faults::default()
        });
        let journal = new_journal(&specs, &graph, clock.now());
        let mut resume: Option<RunState> = None;
        let mut crashes = 0;
        loop {
            let crash_after = Duration::from_secs_f64(rng.random_range(1.0..4000.0));
            let run = run_once(
                &sim,
                &clock,
                &journal,
                &graph,
                &specs,
                options(4, 50, OnFailure::Continue),
                resume.as_ref(),
                StopSignal::never(),
            );
            match tokio::time::timeout(crash_after, run).await {
                Ok((summary, _)) => {
                    let summary = summary.unwrap_or_else(|e| panic!("{e}"));
                    assert!(summary.succeeded(), "trial {trial}: {summary:?}");
                    break;
                }
                Err(_) => {
                    crashes += 1;
                    assert!(crashes < 200, "trial {trial} never finished");
                    resume = RunState::replay(&journal.memory_records());
                }
            }
        }
        let per_table = restores_per_table(&sim);
        assert_eq!(per_table.len(), n, "trial {trial}");
        assert!(
            per_table.values().all(|&c| c == 1),
            "trial {trial}: {per_table:?}"
        );
        let state =
            RunState::replay(&journal.memory_records()).unwrap_or_else(|| panic!("no header"));
        for (i, s) in specs.iter().enumerate() {
            assert_eq!(
                state.restores[i].phase,
                Phase::Completed,
                "trial {trial} r{i}"
            );
            let (pitr, dp, ttl, stream) = sim
                .settings_of(&s.target, &s.target_name)
                .unwrap_or_default();
            assert!(
                pitr && ttl.is_some() && stream.is_some(),
                "trial {trial} r{i}"
            );
            assert_eq!(dp, i % 2 == 0);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn adaptive_polling_needs_far_fewer_calls_than_a_fixed_interval() {
    let n = 20;
    let (restores, sizes) = rich_restores(n, &[]);
    let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
    let mut polls = Vec::new();
    for poll in [
        PollPolicy::default(),
        PollPolicy::fixed(Duration::from_secs(15)),
    ] {
        let (sim, specs, clock) = sim_for(&restores, &sizes, 7);
        let journal = new_journal(&specs, &graph, clock.now());
        let mut opts = options(20, 50, OnFailure::Continue);
        opts.poll = poll;
        let (summary, _) = run_once(
            &sim,
            &clock,
            &journal,
            &graph,
            &specs,
            opts,
            None,
            StopSignal::never(),
        )
        .await;
        assert!(summary.is_ok_and(|s| s.succeeded()));
        polls.push(sim.stats().polls());
    }
    assert!(
        polls[0] * 4 < polls[1],
        "adaptive {} vs fixed {}",
        polls[0],
        polls[1]
    );
}

#[test]
fn run_tags_come_first_among_the_settings() {
    let (restores, sizes) = rich_restores(1, &[]);
    let specs = specs_of(
        &restores,
        &sizes,
        &Default::default(),
        crate::clock::parse("2026-11-24T08:30:00Z").unwrap_or_default(),
    );
    let changes = specs[0].changes_for_run("p", "run-1");
    assert!(
        matches!(&changes[0], TableChange::Tags { tags } if tags.get(RUN_TAG).map(String::as_str) == Some("run-1"))
    );
    // The plan's tags ride in the same call: one TagResource in all.
    let tag_calls = changes
        .iter()
        .filter(|c| matches!(c, TableChange::Tags { .. }))
        .count();
    assert_eq!(tag_calls, 1);
    assert_eq!(changes.len(), specs[0].changes.len());
}

fn arb_dag() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
    (2usize..40).prop_flat_map(|n| {
        let edges = proptest::collection::vec((0..n, 0..n), 0..(n * 2));
        (Just(n), edges).prop_map(|(n, e)| {
            // Orient every edge from the lower to the higher index: a DAG.
            let mut set = BTreeSet::new();
            for (a, b) in e {
                if a != b {
                    set.insert((a.min(b), a.max(b)));
                }
            }
            (n, set.into_iter().collect())
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn random_dags_and_faults_never_break_dependencies_or_caps(
        (n, edges) in arb_dag(),
        concurrency in 1u32..8,
        per_account in 1u32..6,
        throttle in 0.0f64..0.3,
        failing in proptest::collection::btree_set(0usize..40, 0..3),
        seed in 0u64..1000,
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build();
        let rt = match rt { Ok(rt) => rt, Err(e) => panic!("runtime: {e}") };
        rt.block_on(async {
            let (mut restores, sizes) = rich_restores(n, &edges);
            // Two target accounts, so the per-account cap matters.
            for (i, r) in restores.iter_mut().enumerate() {
                if i % 2 == 1 && i % 3 != 2 {
                    r.target.location = location("777788889999", "us-west-2");
                }
            }
            let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
            let (sim, specs, clock) = sim_for(&restores, &sizes, seed);
            let failing_tables: BTreeSet<String> = failing.iter().filter(|&&i| i < n).map(|&i| specs[i].target_name.clone()).collect();
            let sim = sim.with_faults(Faults { throttle, server_error: 0.02, lost_response: 0.05, failing_tables: failing_tables.clone() });
            let journal = new_journal(&specs, &graph, clock.now());
            let (summary, events) = run_once(&sim, &clock, &journal, &graph, &specs, options(concurrency, per_account, OnFailure::Continue), None, StopSignal::never()).await;
            let summary = summary.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(summary.pending, 0);
            assert_dependency_order(&graph, &events);
            assert!(max_overlap(&sim) <= concurrency as usize, "overlap {} > {concurrency}: {:#?}", max_overlap(&sim), sim.stats().restores);
            for (_, m) in sim.stats().max_in_flight {
                assert!(m <= per_account.min(concurrency));
            }
            assert!(restores_per_table(&sim).values().all(|&c| c == 1));
            // Every failed restore is a failing table or ran out of retries
            // against injected faults; every skipped one has a failed ancestor.
            let failed: BTreeMap<usize, String> = events.iter().filter_map(|e| match e { Event::RestoreFailed { index, cause, .. } => Some((*index, cause.clone())), _ => None }).collect();
            for (&f, cause) in &failed {
                let injected = ["Throttling", "InternalServerError", "ServiceUnavailable"].iter().any(|c| cause.contains(c));
                assert!(failing_tables.contains(&specs[f].target_name) || injected, "r{f} failed without an injected failure: {cause}");
            }
            for e in &events {
                if let Event::RestoreSkipped { index, .. } = e {
                    let mut stack: Vec<usize> = graph.dependencies(*index).collect();
                    let mut found = false;
                    while let Some(d) = stack.pop() {
                        if failed.contains_key(&d) { found = true; break; }
                        stack.extend(graph.dependencies(d));
                    }
                    assert!(found, "r{index} skipped without a failed ancestor");
                }
            }
            assert_eq!(summary.completed + failed.len() + summary.skipped, n);
        });
    }
}

#[tokio::test(start_paused = true)]
async fn teardown_lowers_only_the_protections_the_run_raised() {
    use crate::cloud::CloudWrite;
    use crate::exec::teardown::{self, Unprotect, Verdict};
    // Restores 0 and 2 turn deletion protection on (the plan says so); 1 does not.
    let n = 3;
    let (restores, sizes) = rich_restores(n, &[]);
    let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
    let (sim, specs, clock) = sim_for(&restores, &sizes, 8);
    let journal = new_journal(&specs, &graph, clock.now());
    let (summary, _) = run_once(
        &sim,
        &clock,
        &journal,
        &graph,
        &specs,
        options(3, 50, OnFailure::Continue),
        None,
        StopSignal::never(),
    )
    .await;
    assert!(summary.is_ok_and(|s| s.completed == n));
    // Someone protects restore 1's table after the run.
    let protect = TableChange::DeletionProtection { enabled: true };
    assert!(
        sim.change_table(&specs[1].target, &specs[1].target_name, &protect)
            .await
            .is_ok()
    );
    let state = RunState::replay(&journal.memory_records()).unwrap_or_else(|| panic!("no header"));
    assert!(teardown::raised_protection(&state, 0));
    assert!(!teardown::raised_protection(&state, 1));

    let items = teardown::plan(&state, &sim, false).await;
    let by_index = |items: &[teardown::Item], i: usize| {
        items
            .iter()
            .find(|x| x.index == i)
            .cloned()
            .unwrap_or_else(|| panic!("no item {i}"))
    };
    assert_eq!(by_index(&items, 0).unprotect, Unprotect::RaisedByRun);
    assert_eq!(by_index(&items, 0).verdict, Verdict::Delete);
    assert!(
        matches!(&by_index(&items, 1).verdict, Verdict::Refuse(why) if why.contains("--force-unprotect")),
        "{:?}",
        by_index(&items, 1)
    );
    let done = teardown::execute(&items, &sim, &journal)
        .await
        .unwrap_or_default();
    assert_eq!(done.len(), 2);
    assert!(
        sim.table_names()
            .iter()
            .any(|t| t.ends_with(&specs[1].target_name))
    );

    // Forced, the protected table goes too, its protection turned off first.
    let state = RunState::replay(&journal.memory_records()).unwrap_or_else(|| panic!("no header"));
    let items = teardown::plan(&state, &sim, true).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0].unprotect, Unprotect::Forced);
    let done = teardown::execute(&items, &sim, &journal)
        .await
        .unwrap_or_default();
    assert!(done.iter().all(|d| d.result.is_ok()), "{done:?}");
    assert!(sim.table_names().is_empty());
}

#[tokio::test(start_paused = true)]
async fn teardown_deletes_only_the_runs_tables() {
    use crate::cloud::CloudWrite;
    use crate::exec::teardown::{self, Verdict};
    let n = 5;
    let (restores, sizes) = rich_restores(n, &[]);
    let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
    let (sim, specs, clock) = sim_for(&restores, &sizes, 8);
    // Restore 4's target exists before the run: the run must not touch it.
    sim.create_table(&specs[4].target, &specs[4].target_name);
    let journal = new_journal(&specs, &graph, clock.now());
    let (summary, _) = run_once(
        &sim,
        &clock,
        &journal,
        &graph,
        &specs,
        options(5, 50, OnFailure::Continue),
        None,
        StopSignal::never(),
    )
    .await;
    assert!(summary.is_ok_and(|s| s.completed == 4));
    // Someone replaces restore 3's table behind the run's back.
    let _ = sim
        .delete_table(&specs[3].target, &specs[3].target_name)
        .await;
    sim.create_table(&specs[3].target, &specs[3].target_name);
    // And replaces restore 2's with one that carries a forged run tag.
    let _ = sim
        .delete_table(&specs[2].target, &specs[2].target_name)
        .await;
    sim.create_table(&specs[2].target, &specs[2].target_name);
    let forged = TableChange::Tags {
        tags: BTreeMap::from([(RUN_TAG.to_owned(), "test-run".to_owned())]),
    };
    assert!(
        sim.change_table(&specs[2].target, &specs[2].target_name, &forged)
            .await
            .is_ok()
    );
    let state = RunState::replay(&journal.memory_records()).unwrap_or_else(|| panic!("no header"));
    assert!(state.restores.iter().take(4).all(|r| r.table_id.is_some()));
    let items = teardown::plan(&state, &sim, false).await;
    let verdicts: BTreeMap<usize, Verdict> =
        items.iter().map(|i| (i.index, i.verdict.clone())).collect();
    assert_eq!(
        verdicts.len(),
        4,
        "restore 4 never started, so it is not considered"
    );
    assert!(matches!(&verdicts[&3], Verdict::Refuse(_)));
    assert!(
        matches!(&verdicts[&2], Verdict::Refuse(why) if why.contains("replaced")),
        "{:?}",
        verdicts[&2]
    );
    assert!((0..2).all(|i| verdicts[&i] == Verdict::Delete));
    let done = teardown::execute(&items, &sim, &journal)
        .await
        .unwrap_or_default();
    assert_eq!(done.len(), 2);
    let left = sim.table_names();
    for kept in [2, 3, 4] {
        assert!(left.iter().any(|k| k.ends_with(&specs[kept].target_name)));
    }
    assert_eq!(left.len(), 3, "{left:?}");
    let state = RunState::replay(&journal.memory_records()).unwrap_or_else(|| panic!("no header"));
    assert_eq!(state.status(), "torn-down");
}

#[test]
fn the_aws_managed_key_reported_by_its_arn_verifies_as_managed() {
    use crate::cloud::{KeyManager, SseRequest, TableEncryption, TableFacts};
    use crate::exec::runner::{key_to_classify, verify};
    let (_, mut specs, _) = sim_for(&restores_of(1, &[]), &Default::default(), 1);
    let spec = &mut specs[0];
    spec.expect.sse = Some(SseRequest::Managed);
    spec.expect.indexes = None;
    spec.expect.item_count = None;
    // DescribeTable names the AWS managed key like any other key.
    let managed = "arn:aws:kms:us-west-2:444455556666:key/9ffd848b-33e5-4305-9912-7b16378b3881";
    let table = TableFacts {
        arn: "arn:aws:dynamodb:us-west-2:444455556666:table/t0-dr".to_owned(),
        name: "t0-dr".to_owned(),
        status: "ACTIVE".to_owned(),
        item_count: None,
        size_bytes: None,
        encryption: TableEncryption::Customer {
            key_arn: managed.to_owned(),
        },
        indexes: Vec::new(),
        stream: None,
        deletion_protection: false,
        restore_in_progress: false,
        origin: Default::default(),
        table_id: None,
        capacity: Default::default(),
    };
    assert_eq!(key_to_classify(spec, &table), Some(managed));
    let failed = |t: &TableFacts| verify(spec, t, None).iter().filter(|c| !c.passed).count();
    assert_eq!(
        failed(&table),
        1,
        "unclassified, it looks like a customer key"
    );
    // KMS says AWS manages it: the table is what the plan asked for.
    let aws = table.clone().with_key_manager(KeyManager::Aws);
    assert_eq!(failed(&aws), 0, "{:?}", verify(spec, &aws, None));
    // A customer's key stays a failure.
    let customer = table.clone().with_key_manager(KeyManager::Customer);
    assert_eq!(failed(&customer), 1);
    // Nothing to ask when the plan wanted a customer key or an owned one.
    spec.expect.sse = Some(SseRequest::Customer {
        key_arn: managed.to_owned(),
    });
    assert_eq!(key_to_classify(spec, &table), None);
}
