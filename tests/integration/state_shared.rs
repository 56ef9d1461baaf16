//! Shared run state through the real binary against the emulator: a run
//! started in one checkout directory with an S3 or DynamoDB backend,
//! killed -9, resumed from a second one (its own `HOME` and working
//! directory, no shared files) once its lease expired and not before, and
//! torn down from a third; two applies of one plan from two directories at
//! once; `state init` and `promote`.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::apply::World;
use crate::support::emulator::Emulator;
use crate::test::Test;

/// Restores of 1.2 s (a 200 GiB table: about 9 s).
const FAST: &str = "0.002";
/// The lease the processes of these tests use (`RESTOREPLAN_LEASE_SECONDS`):
/// long enough that, on a loaded machine, a second checkout's `runs` and
/// `apply --resume` still meet the killed holder's lease running.
const LEASE: u64 = 8;

fn fast() -> &'static Emulator {
    static EM: OnceLock<Emulator> = OnceLock::new();
    EM.get_or_init(|| Emulator::start(&["--time-scale", FAST]))
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    S3,
    DynamoDb,
}

/// The backend URL of a world's account.
fn url(w: &World, kind: Kind) -> String {
    match kind {
        Kind::S3 => format!(
            "s3://state-{0}/restoreplan/dr?region=us-east-1&account={0}",
            w.acct
        ),
        Kind::DynamoDb => format!(
            "dynamodb://restoreplan-state-{0}?region=us-east-1&account={0}",
            w.acct
        ),
    }
}

/// The binary in `dir`, with `dir` as its `HOME` too, against the emulator.
fn cmd(w: &World, dir: &Path, args: &[&str]) -> Test {
    Test::new()
        .args(args.iter().copied())
        .current_dir(dir)
        .emulator(w.em)
        .roles(&[&w.acct])
        .env("HOME", dir.display().to_string())
        .env("RESTOREPLAN_TIME_SCALE", FAST)
        .env("RESTOREPLAN_LEASE_SECONDS", LEASE.to_string())
}

/// Runs to the end; (status, stdout + stderr).
fn run_any(t: Test, log: &Path) -> (i32, String) {
    let mut child = t.spawn(log);
    let status = child.wait().expect("the binary runs");
    (
        status.code().unwrap_or(-1),
        std::fs::read_to_string(log).unwrap_or_default(),
    )
}

/// `runs --json` in `dir`.
fn runs(w: &World, dir: &Path, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["runs", "--json"];
    args.extend(extra);
    let out = cmd(w, dir, &args).run();
    let v: Value = serde_json::from_str(&out.stdout).expect("runs --json");
    v["runs"].as_array().cloned().unwrap_or_default()
}

/// A plan of two slow restores (200 GiB each), with `state` lines.
async fn world(name: &str, state: &str) -> (World, String) {
    let w = World::new(fast(), FAST).await;
    for t in ["big-a", "big-b"] {
        w.source(t, 200).await;
    }
    let mut plan = w.header(name, 2, None).replace("restores:\n", "");
    plan.push_str(state);
    plan.push_str("restores:\n  - table: big-a\n  - table: big-b\n");
    (w, plan)
}

fn state_block(w: &World, kind: Kind) -> String {
    match kind {
        Kind::S3 => format!(
            "state: {{ backend: s3, bucket: state-{0}, prefix: restoreplan/dr, region: us-east-1, account: \"{0}\" }}\n",
            w.acct
        ),
        Kind::DynamoDb => format!(
            "state: {{ backend: dynamodb, table: restoreplan-state-{0}, region: us-east-1, account: \"{0}\" }}\n",
            w.acct
        ),
    }
}

/// `state init URL`, twice: the second finds everything in place.
fn init(w: &World, kind: Kind) {
    let url = url(w, kind);
    let first = cmd(w, w.dir.path(), &["state", "init", &url]).run();
    let second = cmd(w, w.dir.path(), &["state", "init", &url]).run();
    match kind {
        Kind::S3 => {
            assert!(first.stdout.contains("created bucket"), "{}", first.stdout);
            assert!(second.stdout.contains("exists"), "{}", second.stdout);
            for o in [&first, &second] {
                assert!(o.stdout.contains("versioning: enabled"), "{}", o.stdout);
                assert!(o.stdout.contains("public access: blocked"), "{}", o.stdout);
                assert!(o.stdout.contains("default encryption"), "{}", o.stdout);
            }
        }
        Kind::DynamoDb => {
            assert!(first.stdout.contains("created table"), "{}", first.stdout);
            assert!(second.stdout.contains("exists"), "{}", second.stdout);
            for o in [&first, &second] {
                assert!(
                    o.stdout.contains("point-in-time recovery: enabled"),
                    "{}",
                    o.stdout
                );
            }
        }
    }
}

/// Waits until the emulator has a restore job of this world's account.
fn until_restoring(w: &World, child: &mut std::process::Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while w.restores().is_empty() {
        assert!(
            Instant::now() < deadline && child.try_wait().ok().flatten().is_none(),
            "no restore started: {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn resumed_from_another_checkout_and_torn_down_from_a_third(kind: Kind) {
    let (w, plan) = world("shared", "").await;
    init(&w, kind);
    let url = url(&w, kind);
    // Checkout A: the plan names the backend in its `state:` block.
    let a = w.dir.path().to_path_buf();
    let with_state = plan.replace(
        "restores:\n",
        &format!("{}restores:\n", state_block(&w, kind)),
    );
    std::fs::write(a.join("plan.yaml"), &with_state).expect("plan A");
    // Checkouts B and C: nothing of A's; B's plan names no backend and B
    // sets RESTOREPLAN_STATE; C passes --state before the subcommand.
    let b = tempfile::tempdir().expect("dir B");
    let c = tempfile::tempdir().expect("dir C");
    std::fs::write(b.path().join("plan.yaml"), &plan).expect("plan B");
    // A table of the account the run did not create.
    w.aws.table("bystander", None, 1).await;
    let before = w.tables().await;

    let log = a.join("killed.log");
    let mut child = cmd(&w, &a, &["apply", "plan.yaml", "--yes", "--no-progress"]).spawn(&log);
    until_restoring(&w, &mut child, &log);
    let killed_pid = child.id();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        !a.join(".restoreplan/runs").exists(),
        "the run went to the local disk"
    );

    let in_b = |args: &[&str]| cmd(&w, b.path(), args).env("RESTOREPLAN_STATE", url.as_str());
    let listed = runs(&w, b.path(), &["--state", &url]);
    assert_eq!(listed.len(), 1, "{listed:#?}");
    let run = listed[0]["run_id"].as_str().expect("a run id").to_owned();
    // The lease of the killed holder still runs: refused, naming it (its
    // pid is gone, but a shared backend trusts only the lease).
    let (status, out) = run_any(
        in_b(&["apply", "plan.yaml", "--resume", &run, "--yes"]),
        &b.path().join("early.log"),
    );
    assert_eq!(status, 2, "{out}");
    assert!(
        out.contains(&format!("is locked by run {run} (pid {killed_pid}")),
        "{out}"
    );
    assert!(out.contains("nothing was started"), "{out}");
    // After the lease: taken over, journaled, and the run completes.
    std::thread::sleep(Duration::from_millis(LEASE * 1000 + 500));
    let (status, out) = run_any(
        in_b(&[
            "apply",
            "plan.yaml",
            "--resume",
            &run,
            "--yes",
            "--no-progress",
        ]),
        &b.path().join("resume.log"),
    );
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("took over the lock"), "{out}");
    for (t, jobs) in w.restores() {
        assert_eq!(jobs.len(), 1, "{t}: one job per restore: {jobs:#?}");
        assert_eq!(jobs[0]["status"], "COMPLETED", "{t}");
    }
    // Both checkouts see the one run, finished.
    for dir in [a.as_path(), b.path()] {
        let listed = runs(&w, dir, &["--state", &url]);
        assert_eq!(listed.len(), 1, "{}: {listed:#?}", dir.display());
        assert_eq!(listed[0]["run_id"], run.as_str());
        assert_eq!(listed[0]["status"], "finished");
        assert_eq!(listed[0]["lock"], Value::Null, "the lock was released");
    }
    assert_eq!(
        runs(&w, b.path(), &["--state", &url, "--plan", "other"]).len(),
        0
    );
    // C: the report kept with the run, then teardown of exactly its tables.
    let report = cmd(&w, c.path(), &["--state", &url, "runs", "--report", &run]).run();
    assert!(report.stdout.contains("big-a"), "{}", report.stdout);
    let gantt = cmd(&w, c.path(), &["--state", &url, "runs", "--gantt", &run]).run();
    assert!(gantt.stdout.contains("<svg"), "{}", gantt.stdout);
    let out = cmd(&w, c.path(), &["--state", &url, "teardown", &run, "--yes"]).run();
    assert!(
        out.stdout.contains("deleted big-a-dr") && out.stdout.contains("deleted big-b-dr"),
        "{}",
        out.stdout
    );
    assert_eq!(
        w.tables().await,
        before,
        "teardown deleted exactly the run's tables"
    );
    let listed = runs(&w, c.path(), &["--state", &url]);
    assert_eq!(listed[0]["status"], "torn-down");
    for dir in [a.as_path(), b.path(), c.path()] {
        assert!(!dir.join(".restoreplan").exists(), "{}", dir.display());
    }
}

#[cfg(feature = "s3")]
#[tokio::test(flavor = "multi_thread")]
async fn s3_run_killed_in_one_checkout_resumed_from_another_torn_down_from_a_third() {
    resumed_from_another_checkout_and_torn_down_from_a_third(Kind::S3).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dynamodb_run_killed_in_one_checkout_resumed_from_another_torn_down_from_a_third() {
    resumed_from_another_checkout_and_torn_down_from_a_third(Kind::DynamoDb).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_checkouts_apply_at_once_one_proceeds_then_promote_makes_teardown_refuse() {
    let (w, plan) = world("together", "").await;
    init(&w, Kind::DynamoDb);
    let plan = plan.replace(
        "restores:\n",
        &format!("{}restores:\n", state_block(&w, Kind::DynamoDb)),
    );
    let dirs: Vec<tempfile::TempDir> = (0..2)
        .map(|_| tempfile::tempdir().expect("a checkout"))
        .collect();
    let children: Vec<_> = dirs
        .iter()
        .map(|d| {
            std::fs::write(d.path().join("plan.yaml"), &plan).expect("plan");
            let log = d.path().join("apply.log");
            (
                cmd(
                    &w,
                    d.path(),
                    &["apply", "plan.yaml", "--yes", "--no-progress"],
                )
                .spawn(&log),
                log,
            )
        })
        .collect();
    let outcomes: Vec<(i32, String)> = children
        .into_iter()
        .map(|(mut c, log)| {
            let s = c.wait().expect("apply runs");
            (
                s.code().unwrap_or(-1),
                std::fs::read_to_string(log).unwrap_or_default(),
            )
        })
        .collect();
    let winners = outcomes.iter().filter(|(s, _)| *s == 0).count();
    assert_eq!(winners, 1, "{outcomes:#?}");
    let (status, out) = outcomes.iter().find(|(s, _)| *s != 0).expect("a loser");
    assert_eq!(*status, 2, "{out}");
    assert!(out.contains("is locked by run"), "{out}");
    assert!(out.contains("on host") && out.contains(" since "), "{out}");
    assert!(out.contains("nothing was started"), "{out}");
    let listed = runs(&w, dirs[1].path(), &["--state", &url(&w, Kind::DynamoDb)]);
    assert_eq!(listed.len(), 1, "{listed:#?}");
    let run = listed[0]["run_id"].as_str().expect("a run").to_owned();
    for (t, jobs) in w.restores() {
        assert_eq!(jobs.len(), 1, "{t}: {jobs:#?}");
    }

    // promote from a third checkout, then teardown refuses, always.
    let c = tempfile::tempdir().expect("dir C");
    let state = url(&w, Kind::DynamoDb);
    let out = cmd(&w, c.path(), &["promote", &run, "--yes", "--state", &state]).run();
    assert!(out.stdout.contains("promoted big-a-dr"), "{}", out.stdout);
    for t in ["big-a-dr", "big-b-dr"] {
        assert!(w.tags(t).await.contains_key("restoreplan:promoted"), "{t}");
        let d = w
            .aws
            .ddb
            .describe_table()
            .table_name(t)
            .send()
            .await
            .expect("DescribeTable");
        assert_eq!(
            d.table().and_then(|t| t.deletion_protection_enabled()),
            Some(true),
            "{t}"
        );
    }
    let before: BTreeSet<String> = w.tables().await;
    for extra in [&[][..], &["--force-unprotect"][..]] {
        let mut args = vec!["--state", state.as_str(), "teardown", run.as_str(), "--yes"];
        args.extend(extra);
        let out = cmd(&w, c.path(), &args).status(1).run();
        assert!(out.stderr.contains("promoted"), "{}", out.stderr);
        assert!(!out.stdout.contains("deleted "), "{}", out.stdout);
        assert_eq!(w.tables().await, before, "nothing deleted");
    }
    let records = tokio::task::block_in_place(|| journal_records(&w, &state, &run));
    assert_eq!(
        records.iter().filter(|r| r["record"] == "promoted").count(),
        2
    );
}

/// The backend at `url`, opened in process with the world's test role.
pub(crate) fn open_store(w: &World, url: &str) -> restoreplan::exec::journal::RunStore {
    // The in-process adapter's ambient credentials are set with the shared emulator.
    crate::support::emulator::shared();
    let backend = restoreplan::state::parse_url(url, None).expect("a URL");
    let mut options = restoreplan::aws::AwsOptions {
        endpoint: Some(w.em.endpoint.clone()),
        ..Default::default()
    };
    options.accounts.insert(
        w.acct.clone(),
        restoreplan::aws::AccountAccess {
            profile: None,
            role_arn: Some(Emulator::role(&w.acct)),
        },
    );
    restoreplan::state::open(&backend, Path::new("/nonexistent"), options)
        .expect("the backend opens")
}

/// The journal records of `run` in the backend at `url`, read in process.
pub(crate) fn journal_records(w: &World, url: &str, run: &str) -> Vec<Value> {
    open_store(w, url)
        .read(run)
        .expect("the journal")
        .iter()
        .map(|r| serde_json::to_value(r).expect("JSON"))
        .collect()
}

/// The cost of a shared backend on a 30-restore plan: journal writes per
/// restore and the wall time of `apply` with each backend (same plan, same
/// emulator, fresh account each). A measurement, not a check:
/// `cargo test --features s3 --test integration state_shared::measure -- --ignored --nocapture`
/// (numbers in docs/performance.md).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement; run it by name"]
async fn measure_backend_overhead_on_a_30_restore_plan() {
    let mut backends = vec![None, Some(Kind::DynamoDb)];
    if cfg!(feature = "s3") {
        backends.insert(1, Some(Kind::S3));
    }
    for backend in backends {
        let w = World::new(fast(), FAST).await;
        let mut plan = w.header("thirty", 10, None);
        for i in 0..30 {
            let t = format!("t{i:02}");
            w.source(&t, 0).await;
            plan.push_str(&format!("  - table: {t}\n"));
        }
        w.write("plan.yaml", &plan);
        let mut t = cmd(
            &w,
            w.dir.path(),
            &["apply", "plan.yaml", "--yes", "--no-progress"],
        );
        if let Some(kind) = backend {
            init(&w, kind);
            t = t.env("RESTOREPLAN_STATE", url(&w, kind));
        }
        let started = Instant::now();
        let (status, out) = run_any(t, &w.dir.path().join("apply.log"));
        let wall = started.elapsed().as_secs_f64();
        assert_eq!(status, 0, "{out}");
        let records = match backend {
            None => {
                let dir = w.dir.path().join(".restoreplan/runs");
                let run = std::fs::read_dir(&dir)
                    .expect("runs")
                    .flatten()
                    .find(|e| e.path().join("journal.jsonl").is_file())
                    .expect("a run");
                std::fs::read_to_string(run.path().join("journal.jsonl"))
                    .expect("journal")
                    .lines()
                    .count()
            }
            Some(kind) => {
                let listed = runs(&w, w.dir.path(), &["--state", &url(&w, kind)]);
                let run = listed[0]["run_id"].as_str().expect("a run").to_owned();
                tokio::task::block_in_place(|| journal_records(&w, &url(&w, kind), &run)).len()
            }
        };
        println!(
            "backend {:<8}: apply of 30 restores {wall:6.2} s wall, {records} journal records ({:.1} per restore)",
            match backend {
                None => "local",
                Some(Kind::S3) => "s3",
                Some(Kind::DynamoDb) => "dynamodb",
            },
            records as f64 / 30.0
        );
    }
}

/// A build without the S3 backend says so, and names the DynamoDB backend
/// and the build feature, before it touches anything.
#[cfg(not(feature = "s3"))]
#[tokio::test(flavor = "multi_thread")]
async fn a_build_without_the_s3_backend_refuses_an_s3_state_url_with_the_way_out() {
    let (w, _plan) = world("nos3", "").await;
    let url = url(&w, Kind::S3);
    for args in [
        vec!["state", "init", url.as_str()],
        vec!["--state", url.as_str(), "runs"],
    ] {
        let (status, out) = run_any(cmd(&w, w.dir.path(), &args), &w.dir.path().join("nos3.log"));
        assert_eq!(status, 2, "{args:?}: {out}");
        assert!(
            out.contains("dynamodb://") && out.contains("--features s3"),
            "{args:?}: {out}"
        );
    }
}
