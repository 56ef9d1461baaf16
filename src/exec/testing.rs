//! Helpers for executor tests: plans and graphs built in code.

use crate::graph::DependencyGraph;
use crate::plan::model::{
    AccountId, AfterRestore, Copyable, Encryption, Location, RecoveryPointSelector, Region,
    Restore, RestoreSpans, Target,
};

/// A location from literals known to be valid.
pub(crate) fn location(account: &str, region: &str) -> Location {
    Location {
        account: AccountId::parse(account).unwrap_or_else(|| panic!("bad account {account}")),
        region: Region::parse(region).unwrap_or_else(|| panic!("bad region {region}")),
    }
}

/// A minimal restore `r{i}` of table `t{i}`.
pub(crate) fn restore(i: usize, depends_on: Vec<String>) -> Restore {
    Restore {
        id: format!("r{i}"),
        table: format!("t{i}"),
        source: location("111122223333", "us-east-1"),
        target: Target {
            location: location("444455556666", "us-west-2"),
            vault: Some("dr".to_owned()),
            role: Some("arn:aws:iam::444455556666:role/restore".to_owned()),
        },
        target_name: format!("t{i}-dr"),
        recovery_point: RecoveryPointSelector::Latest,
        encryption: Encryption::DynamodbOwned,
        indexes: None,
        after_restore: AfterRestore::default(),
        capacity: Default::default(),
        depends_on,
        spans: RestoreSpans::default(),
        copy: None,
    }
}

/// Restores `0..n` where each edge `(a, b)` makes `b` depend on `a`.
pub(crate) fn restores_of(n: usize, edges: &[(usize, usize)]) -> Vec<Restore> {
    (0..n)
        .map(|i| {
            restore(
                i,
                edges
                    .iter()
                    .filter(|(_, b)| *b == i)
                    .map(|(a, _)| format!("r{a}"))
                    .collect(),
            )
        })
        .collect()
}

use std::collections::BTreeMap;

use crate::clock::{Clock, TokioClock};
use crate::cloud::sim::SimCloud;
use crate::duration::DurationModel;
use crate::exec::events::{CollectingSink, Event};
use crate::exec::journal::{Journal, RunState};
use crate::exec::policy::StopSignal;
use crate::exec::runner::{ExecOptions, Executor, RunInput, RunSummary};
use crate::exec::spec::RestoreSpec;
use crate::plan::model::{OnFailure, StreamSetting, TtlSetting};
use crate::schedule::Caps;

/// Table sizes in bytes by original table name.
pub(crate) type Sizes = BTreeMap<String, u64>;

/// Restores with every after-restore setting, alternating AWS Backup and
/// point-in-time restores, sizes spread over two orders of magnitude.
pub(crate) fn rich_restores(n: usize, edges: &[(usize, usize)]) -> (Vec<Restore>, Sizes) {
    let mut restores = restores_of(n, edges);
    let mut sizes = BTreeMap::new();
    for (i, r) in restores.iter_mut().enumerate() {
        if i % 3 == 2 {
            r.recovery_point = RecoveryPointSelector::PointInTime { at: None };
            r.target.location = r.source.clone();
        }
        r.after_restore = AfterRestore {
            point_in_time_recovery: Some(Copyable::Set(true)),
            deletion_protection: Some(Copyable::Set(i % 2 == 0)),
            tags: BTreeMap::from([("purpose".to_owned(), "dr".to_owned())]),
            ttl: Some(TtlSetting::Attribute {
                attribute: "expires".to_owned(),
            }),
            stream: Some(StreamSetting::NewImage),
            verify: None,
            ..AfterRestore::default()
        };
        sizes.insert(r.table.clone(), ((i * 7919) % 50 + 1) as u64 * (1 << 28));
    }
    (restores, sizes)
}

/// A simulated cloud and the specs of `restores`.
pub(crate) fn sim_for(
    restores: &[Restore],
    sizes: &Sizes,
    seed: u64,
) -> (SimCloud, Vec<RestoreSpec>, TokioClock) {
    let model = DurationModel::default();
    let clock = TokioClock::system();
    let specs = specs_of(restores, sizes, &model, clock.now());
    let by_target = restores
        .iter()
        .map(|r| (r.target_name.clone(), bytes_of(r, sizes, &model)))
        .collect();
    let sim = SimCloud::new(model, seed, clock.clone())
        .with_sizes(by_target)
        .with_copies(RestoreSpec::copies(&specs));
    (sim, specs, clock)
}

fn bytes_of(r: &Restore, sizes: &Sizes, model: &DurationModel) -> u64 {
    sizes
        .get(&r.table)
        .copied()
        .unwrap_or(model.default_table_bytes)
}

/// The specs of `restores` of the plan `test-plan`, resolved offline.
pub(crate) fn specs_of(
    restores: &[Restore],
    sizes: &Sizes,
    model: &DurationModel,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<RestoreSpec> {
    restores
        .iter()
        .map(|r| RestoreSpec::offline("test-plan", r, bytes_of(r, sizes, model), model, now))
        .collect()
}

/// Executor options for tests.
pub(crate) fn options(concurrency: u32, per_account: u32, on_failure: OnFailure) -> ExecOptions {
    ExecOptions {
        caps: Caps {
            concurrency,
            per_account,
        },
        on_failure,
        requests_per_second: Some(50.0),
        poll: Default::default(),
        retry: Default::default(),
        seed: 42,
        fifo: false,
    }
}

/// One run (or resume) against `sim`, collecting events.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_once(
    sim: &SimCloud,
    clock: &TokioClock,
    journal: &Journal,
    graph: &DependencyGraph,
    specs: &[RestoreSpec],
    opts: ExecOptions,
    resume: Option<&RunState>,
    stop: StopSignal,
) -> (Result<RunSummary, crate::exec::ExecError>, Vec<Event>) {
    let sink = CollectingSink::new();
    let exec = Executor::new(sim, clock, &sink, journal, stop, opts);
    let summary = exec
        .run(RunInput {
            run_id: "test-run",
            plan: "test-plan",
            graph,
            specs,
            resume,
            started_at: None,
        })
        .await;
    (summary, sink.take())
}
