//! Ownership, transient failures and retries, against the simulated cloud
//! in virtual time: two runs of one plan never adopt each other's tables,
//! an outage fails nothing, a failure that may still be running is polled
//! again on resume, and a failed restore can be retried with a new token.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::cloud::sim::SimCloud;
use crate::cloud::{CloudWrite, RestoreRequest, TableEncryption, TableFacts, TableOrigin};
use crate::exec::events::{CollectingSink, Event};
use crate::exec::journal::{Journal, Phase, Record, RunHeader, RunState};
use crate::exec::policy::StopSignal;
use crate::exec::runner::{Executor, RunInput, RunSummary, evidence_fits};
use crate::exec::spec::{RestoreSpec, attempt_token, idempotency_token};
use crate::exec::testing::*;
use crate::graph::DependencyGraph;
use crate::plan::model::{OnFailure, RecoveryPointSelector};

fn journal_for(
    run_id: &str,
    specs: &[RestoreSpec],
    graph: &DependencyGraph,
    at: DateTime<Utc>,
) -> Journal {
    let j = Journal::memory();
    j.append(&Record::RunStarted(RunHeader {
        run_id: run_id.to_owned(),
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
    }))
    .unwrap_or_else(|e| panic!("memory journal: {e}"));
    j
}

#[allow(clippy::too_many_arguments)]
async fn run_as(
    run_id: &str,
    sim: &SimCloud,
    clock: &dyn Clock,
    journal: &Journal,
    graph: &DependencyGraph,
    specs: &[RestoreSpec],
    resume: Option<&RunState>,
) -> (RunSummary, Vec<Event>) {
    let sink = CollectingSink::new();
    let exec = Executor::new(
        sim,
        clock,
        &sink,
        journal,
        StopSignal::never(),
        options(10, 50, OnFailure::Continue),
    );
    let summary = exec
        .run(RunInput {
            run_id,
            plan: "test-plan",
            graph,
            specs,
            resume,
            started_at: None,
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    (summary, sink.take())
}

fn state_of(journal: &Journal) -> RunState {
    RunState::replay(&journal.memory_records()).unwrap_or_else(|| panic!("a journal header"))
}

/// Point-in-time restores only (DynamoDB-native: the kind whose
/// `TableAlreadyExists` was once taken for the run's own table).
fn pitr_restores(
    n: usize,
) -> (
    Vec<crate::plan::model::Restore>,
    crate::exec::testing::Sizes,
) {
    let (mut restores, sizes) = rich_restores(n, &[]);
    for r in &mut restores {
        r.recovery_point = RecoveryPointSelector::PointInTime { at: None };
        r.target.location = r.source.clone();
    }
    (restores, sizes)
}

fn adopted(journal: &Journal) -> usize {
    journal
        .memory_records()
        .iter()
        .filter(|r| matches!(r, Record::Started { adopted: true, .. }))
        .count()
}

#[tokio::test(start_paused = true)]
async fn two_runs_of_one_plan_never_adopt_each_others_tables() {
    let (restores, sizes) = pitr_restores(4);
    let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
    let (sim, specs, clock) = sim_for(&restores, &sizes, 11);
    let (ja, jb) = (
        journal_for("run-a", &specs, &graph, clock.now()),
        journal_for("run-b", &specs, &graph, clock.now()),
    );
    // Both check the targets at the same instant, find none, and start.
    let ((a, ea), (b, eb)) = tokio::join!(
        run_as("run-a", &sim, &clock, &ja, &graph, &specs, None),
        run_as("run-b", &sim, &clock, &jb, &graph, &specs, None),
    );
    assert_eq!(adopted(&ja) + adopted(&jb), 0, "a run adopted a table");
    assert_eq!(a.completed + b.completed, specs.len(), "{a:?} {b:?}");
    assert_eq!(a.failed + b.failed, specs.len(), "{a:?} {b:?}");
    // Every loser's failure names its table and says it is someone else's.
    for e in ea.iter().chain(&eb) {
        if let Event::RestoreFailed { index, cause, .. } = e {
            let name = &specs[*index].target_name;
            assert!(cause.contains(&format!("`{name}`")), "{cause}");
            assert!(cause.contains("someone else"), "{cause}");
        }
    }
    // One restore per table.
    let mut per_table: BTreeMap<String, usize> = BTreeMap::new();
    for r in sim.stats().restores {
        *per_table.entry(r.table).or_default() += 1;
    }
    assert!(per_table.values().all(|&c| c == 1), "{per_table:?}");
}

#[tokio::test(start_paused = true)]
async fn a_resumed_intent_adopts_only_a_table_whose_evidence_fits() {
    let (restores, sizes) = pitr_restores(2);
    let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
    let (sim, specs, clock) = sim_for(&restores, &sizes, 12);
    let journal = journal_for("run-a", &specs, &graph, clock.now());
    // A killed process journaled both intents; restore 0's request reached
    // DynamoDB, while table 1 was made by someone else (not a restore).
    for (i, s) in specs.iter().enumerate() {
        journal
            .append(&Record::StartIntent {
                index: i,
                token: idempotency_token("run-a", &s.id),
                at: clock.now(),
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let request = specs[0]
        .request
        .with_idempotency_token(&idempotency_token("run-a", &specs[0].id));
    sim.start_restore(&specs[0].target, &request)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sim.create_table(&specs[1].target, &specs[1].target_name);
    let state = state_of(&journal);
    let (summary, events) = run_as(
        "run-a",
        &sim,
        &clock,
        &journal,
        &graph,
        &specs,
        Some(&state),
    )
    .await;
    assert_eq!((summary.completed, summary.failed), (1, 1), "{events:?}");
    assert_eq!(adopted(&journal), 1);
    let cause = events.iter().find_map(|e| match e {
        Event::RestoreFailed {
            index: 1, cause, ..
        } => Some(cause.clone()),
        _ => None,
    });
    assert!(
        cause.as_deref().is_some_and(|c| c.contains("cannot prove")),
        "{cause:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_outage_while_restores_are_in_flight_fails_nothing() {
    let (restores, sizes) = rich_restores(6, &[(0, 1), (1, 2)]);
    let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
    let (sim, specs, clock) = sim_for(&restores, &sizes, 13);
    // Unreachable for 50 minutes, starting one minute in: far more than
    // ten attempts' worth of backoff.
    let sim = sim.with_outage(60.0, 3060.0);
    let journal = journal_for("run-a", &specs, &graph, clock.now());
    let (summary, _) = run_as("run-a", &sim, &clock, &journal, &graph, &specs, None).await;
    assert!(summary.succeeded(), "{summary:?}");
    let stats = sim.stats();
    assert!(stats.outage_refusals > 10, "{}", stats.outage_refusals);
    let mut per_table: BTreeMap<String, usize> = BTreeMap::new();
    for r in stats.restores {
        *per_table.entry(r.table).or_default() += 1;
    }
    assert_eq!(per_table.len(), specs.len());
    assert!(per_table.values().all(|&c| c == 1), "{per_table:?}");
}

#[tokio::test(start_paused = true)]
async fn a_restore_that_may_still_run_is_polled_again_on_resume() {
    let (restores, sizes) = rich_restores(3, &[(0, 1)]);
    let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
    let (sim, specs, clock) = sim_for(&restores, &sizes, 14);
    // An outage longer than the polling budget: the run gives up on the
    // restores in flight, but they keep running in AWS.
    let sim = sim.with_outage(30.0, 4.0 * 3600.0);
    let journal = journal_for("run-a", &specs, &graph, clock.now());
    let (first, _) = run_as("run-a", &sim, &clock, &journal, &graph, &specs, None).await;
    assert!(first.failed > 0, "{first:?}");
    let state = state_of(&journal);
    assert!(state.finished);
    assert!(
        state
            .restores
            .iter()
            .filter(|r| matches!(r.phase, Phase::Failed(_)))
            .all(|r| r.in_flight),
        "{:?}",
        state.restores
    );
    tokio::time::sleep(Duration::from_secs(4 * 3600)).await;
    let (second, _) = run_as(
        "run-a",
        &sim,
        &clock,
        &journal,
        &graph,
        &specs,
        Some(&state),
    )
    .await;
    assert!(second.succeeded(), "{second:?}");
    // Nothing was started twice: the same restores were polled again.
    assert_eq!(sim.stats().restores.len(), specs.len());
}

#[tokio::test(start_paused = true)]
async fn a_retried_restore_starts_again_with_a_new_token_and_completes() {
    let (restores, sizes) = rich_restores(3, &[(0, 1)]);
    let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
    let (sim, specs, clock) = sim_for(&restores, &sizes, 15);
    // Restore 0 fails (its target is taken); restore 1 is skipped.
    sim.create_table(&specs[0].target, &specs[0].target_name);
    let journal = journal_for("run-a", &specs, &graph, clock.now());
    let (first, _) = run_as("run-a", &sim, &clock, &journal, &graph, &specs, None).await;
    assert_eq!((first.completed, first.failed, first.skipped), (1, 1, 1));
    // The cause is fixed; both are retried.
    sim.delete_table(&specs[0].target, &specs[0].target_name)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut state = state_of(&journal);
    for i in [0, 1] {
        journal
            .append_to(
                &mut state,
                &Record::Retry {
                    index: i,
                    attempt: 1,
                    at: clock.now(),
                },
            )
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(state.restores[0].phase, Phase::NotStarted);
    assert!(!state.finished);
    let (second, _) = run_as(
        "run-a",
        &sim,
        &clock,
        &journal,
        &graph,
        &specs,
        Some(&state),
    )
    .await;
    assert!(second.succeeded(), "{second:?}");
    let tokens: Vec<(usize, String)> = journal
        .memory_records()
        .iter()
        .filter_map(|r| match r {
            Record::StartIntent { index, token, .. } => Some((*index, token.clone())),
            _ => None,
        })
        .collect();
    let retry_token = attempt_token("run-a", &specs[0].id, 1);
    assert_ne!(retry_token, idempotency_token("run-a", &specs[0].id));
    assert!(tokens.contains(&(0, retry_token)), "{tokens:?}");
    // The completed restore was not touched again.
    assert_eq!(tokens.iter().filter(|(i, _)| *i == 2).count(), 1);
}

#[test]
fn evidence_must_name_the_source_the_time_and_a_creation_after_the_intent() {
    let (restores, sizes) = pitr_restores(1);
    let model = crate::duration::DurationModel::default();
    let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
    let mut spec = crate::exec::testing::specs_of(&restores, &sizes, &model, now).remove(0);
    let at = now - chrono::Duration::hours(1);
    if let RestoreRequest::RestoreTableToPointInTime {
        restore_date_time, ..
    } = &mut spec.request
    {
        *restore_date_time = Some(at);
    }
    let table = |origin: TableOrigin| TableFacts {
        arn: "arn".into(),
        name: spec.target_name.clone(),
        status: "ACTIVE".into(),
        item_count: None,
        size_bytes: None,
        encryption: TableEncryption::Owned,
        indexes: vec![],
        stream: None,
        deletion_protection: false,
        restore_in_progress: false,
        table_id: None,
        capacity: Default::default(),
        origin,
    };
    let good = spec.request.origin_at(now + chrono::Duration::seconds(2));
    assert_eq!(
        evidence_fits(&spec, &table(good.clone()), Some(now)),
        Ok(())
    );
    let other_source = TableOrigin {
        source_table: Some("arn:aws:dynamodb:us-east-1:111122223333:table/other".into()),
        ..good.clone()
    };
    assert!(evidence_fits(&spec, &table(other_source), Some(now)).is_err());
    let other_time = TableOrigin {
        restore_time: Some(at + chrono::Duration::minutes(5)),
        ..good.clone()
    };
    assert!(evidence_fits(&spec, &table(other_time), Some(now)).is_err());
    let older = TableOrigin {
        created_at: Some(now - chrono::Duration::minutes(10)),
        ..good.clone()
    };
    let why = evidence_fits(&spec, &table(older), Some(now)).expect_err("created before");
    assert!(why.contains("before this run's start request"), "{why}");
    assert!(evidence_fits(&spec, &table(TableOrigin::default()), Some(now)).is_err());
}

/// A journal where restore 0 of `done` failed after its table became
/// ACTIVE (as when an after-restore step or the verification fails): the
/// records up to its `Active`, then `Failed`, then a retry of it.
fn failed_after_active(done: &Journal, at: DateTime<Utc>) -> (Journal, RunState) {
    let j = Journal::memory();
    for r in done.memory_records() {
        match r {
            Record::Completed { index: 0, .. } | Record::Finished { .. } => {}
            Record::ChangeIntent { index: 0, .. } | Record::ChangeDone { index: 0, .. } => {}
            r => j.append(&r).unwrap_or_else(|e| panic!("{e}")),
        }
    }
    for r in [
        Record::Failed {
            index: 0,
            cause: "verification failed".to_owned(),
            in_flight: false,
            at,
        },
        Record::Finished { at },
    ] {
        j.append(&r).unwrap_or_else(|e| panic!("{e}"));
    }
    let mut state = state_of(&j);
    assert!(state.restores[0].table_id.is_some(), "no TableId journaled");
    j.append_to(
        &mut state,
        &Record::Retry {
            index: 0,
            attempt: 1,
            at,
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
    (j, state)
}

#[tokio::test(start_paused = true)]
async fn a_retry_clears_the_table_its_failed_attempt_left_only_when_the_run_created_it() {
    let (restores, sizes) = rich_restores(2, &[]);
    let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));

    // The table is the one this run created (its TableId and run tag).
    let (sim, specs, clock) = sim_for(&restores, &sizes, 21);
    let done = journal_for("run-a", &specs, &graph, clock.now());
    let (first, _) = run_as("run-a", &sim, &clock, &done, &graph, &specs, None).await;
    assert!(first.succeeded(), "{first:?}");
    let (journal, state) = failed_after_active(&done, clock.now());
    let (second, _) = run_as(
        "run-a",
        &sim,
        &clock,
        &journal,
        &graph,
        &specs,
        Some(&state),
    )
    .await;
    assert!(second.succeeded(), "{second:?}");
    let records = journal.memory_records();
    assert_eq!(
        records
            .iter()
            .filter(|r| matches!(r, Record::Cleared { index: 0, .. }))
            .count(),
        1,
        "{records:#?}"
    );
    let jobs = |sim: &SimCloud, table: &str| {
        sim.stats()
            .restores
            .iter()
            .filter(|r| r.table == table)
            .count()
    };
    assert_eq!(jobs(&sim, &specs[0].target_name), 2);
    // The other restore was completed and is not touched again.
    assert_eq!(jobs(&sim, &specs[1].target_name), 1);
    assert_eq!(sim.stats().count("DeleteTable"), 1);

    // The table was replaced by someone else's under the same name: the
    // retry refuses it and leaves it where it is.
    let (sim, specs, clock) = sim_for(&restores, &sizes, 22);
    let done = journal_for("run-b", &specs, &graph, clock.now());
    let (first, _) = run_as("run-b", &sim, &clock, &done, &graph, &specs, None).await;
    assert!(first.succeeded(), "{first:?}");
    let (journal, state) = failed_after_active(&done, clock.now());
    let target = &specs[0].target;
    let name = &specs[0].target_name;
    sim.delete_table(target, name)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    sim.create_table(target, name);
    let deletes = sim.stats().count("DeleteTable");
    let (second, events) = run_as(
        "run-b",
        &sim,
        &clock,
        &journal,
        &graph,
        &specs,
        Some(&state),
    )
    .await;
    assert_eq!(second.failed, 1, "{second:?}");
    let cause = events
        .iter()
        .find_map(|e| match e {
            Event::RestoreFailed {
                index: 0, cause, ..
            } => Some(cause.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no failure: {events:#?}"));
    assert!(cause.contains(&format!("`{name}`")), "{cause}");
    assert!(cause.contains("this run did not create it"), "{cause}");
    assert!(
        sim.tags_of(target, name).is_some_and(|t| t.is_empty()),
        "someone else's table was deleted or changed"
    );
    assert_eq!(
        sim.stats().count("DeleteTable"),
        deletes,
        "the retry deleted"
    );
    assert!(
        !journal
            .memory_records()
            .iter()
            .any(|r| matches!(r, Record::Cleared { .. }))
    );
}

#[tokio::test(start_paused = true)]
async fn teardown_calls_a_table_it_cannot_read_unseen_never_gone() {
    use crate::exec::teardown::{self, Verdict};
    let (restores, sizes) = rich_restores(3, &[]);
    let graph = DependencyGraph::build(&restores).unwrap_or_else(|f| panic!("{f:?}"));
    let (sim, specs, clock) = sim_for(&restores, &sizes, 23);
    let origin = tokio::time::Instant::now();
    const DAY: f64 = 86_400.0;
    // The endpoint is unreachable long after the run has finished.
    let sim = sim.with_outage(30.0 * DAY, 31.0 * DAY);
    let journal = journal_for("run-a", &specs, &graph, clock.now());
    let (summary, _) = run_as("run-a", &sim, &clock, &journal, &graph, &specs, None).await;
    assert!(summary.succeeded(), "{summary:?}");
    let state = state_of(&journal);
    let at = |days: f64| origin + Duration::from_secs_f64(days * DAY);
    tokio::time::advance(at(30.5).saturating_duration_since(tokio::time::Instant::now())).await;
    let items = teardown::plan(&state, &sim, false).await;
    assert_eq!(items.len(), specs.len());
    for i in &items {
        assert!(
            matches!(&i.verdict, Verdict::Unseen(why) if why.contains("could not describe")),
            "{i:?}"
        );
    }
    // Reachable again: the same tables are this run's to delete.
    tokio::time::advance(at(31.5).saturating_duration_since(tokio::time::Instant::now())).await;
    let items = teardown::plan(&state, &sim, false).await;
    assert!(
        items.iter().all(|i| i.verdict == Verdict::Delete),
        "{items:?}"
    );
}
